using System.Diagnostics;
using System.Text.Json;

namespace EdgeForge.Cli.Tests;

public sealed class ProjectCommandTests
{
    [Fact]
    public async Task Init_scaffolds_a_project_that_validates_and_never_overwrites_without_force()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ef-init-" + Guid.NewGuid().ToString("N"));
        try
        {
            var created = await CliResult.RunAsync("init", directory);
            var validated = await CliResult.RunAsync("validate", directory);
            File.WriteAllText(Path.Combine(directory, "user-data"), "#cloud-config\n# mine\n");
            var again = await CliResult.RunAsync("init", directory);
            var keptByPlainInit = File.ReadAllText(Path.Combine(directory, "user-data"));
            var forced = await CliResult.RunAsync("init", directory, "--force");

            created.ExitCode.ShouldBe(0, created.All);
            foreach (var file in new[] { ".arg", "user-data", "k8s_version.json", "Dockerfile", ".edge-custom-config.yaml" })
            {
                File.Exists(Path.Combine(directory, file)).ShouldBeTrue(file);
            }

            Directory.Exists(Path.Combine(directory, "certs")).ShouldBeTrue();
            validated.ExitCode.ShouldBe(0, validated.All);
            validated.All.ShouldContain("looks like a placeholder");
            again.ExitCode.ShouldBe(2);
            again.Error.ShouldContain("already exist");
            keptByPlainInit.ShouldBe("#cloud-config\n# mine\n");
            forced.ExitCode.ShouldBe(0);
            forced.Output.ShouldContain("overwrote");
            File.ReadAllText(Path.Combine(directory, "user-data")).ShouldContain("edgeHostToken");
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Plan_json_lists_every_image_and_the_iso()
    {
        using var project = new ValidProject();
        project.Write(".arg", ValidProject.Arg.Replace("K8S_VERSION=1.30.14\n", ""));

        var result = await CliResult.RunAsync("plan", project.Directory, "--json");

        result.ExitCode.ShouldBe(0, result.All);
        using var json = JsonDocument.Parse(result.Output);
        var images = json.RootElement.GetProperty("images").EnumerateArray().ToList();
        images.Select(i => i.GetProperty("reference").GetString()).ShouldBe(
            ["registry.example.com/edge/ubuntu:k3s-1.30.14-v4.10.0-rc.2-lab", "registry.example.com/edge/ubuntu:k3s-1.29.14-v4.10.0-rc.2-lab"]);
        images[0].GetProperty("k8sDistribution").GetString().ShouldBe("k3s");
        images[0].GetProperty("k8sVersion").GetString().ShouldBe("1.30.14");
        json.RootElement.GetProperty("iso").GetProperty("path").GetString().ShouldBe(Path.Combine(project.Directory, "build", "edge-installer.iso"));
        json.RootElement.GetProperty("estimate").GetProperty("bytes").GetInt64().ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Plan_text_masks_proxy_credentials()
    {
        using var project = new ValidProject();
        project.AppendArg("HTTPS_PROXY=http://builder:Pr0xyPassw0rd@proxy.example.com:3128");

        var text = await CliResult.RunAsync("plan", project.Directory);
        var json = await CliResult.RunAsync("plan", project.Directory, "--json");

        text.ExitCode.ShouldBe(0, text.All);
        text.Output.ShouldContain("http://***@proxy.example.com:3128");
        (text.All + json.All).ShouldNotContain("Pr0xyPassw0rd");
    }

    [Fact]
    public async Task Manifest_goes_to_stdout_or_to_a_file()
    {
        using var project = new ValidProject();
        var file = Path.Combine(project.Directory, "out", "byoos.yaml");

        var printed = await CliResult.RunAsync("manifest", project.Directory);
        var written = await CliResult.RunAsync("manifest", project.Directory, "-o", file);

        printed.ExitCode.ShouldBe(0, printed.All);
        printed.Output.ShouldStartWith("pack:\n");
        printed.Output.ShouldContain("  system.customTag: lab\n");
        written.ExitCode.ShouldBe(0);
        File.ReadAllText(file).ShouldBe(printed.Output);
        Directory.GetFiles(Path.GetDirectoryName(file)!).ShouldBe([file]);
    }

    [Fact]
    public async Task Manifest_json_carries_the_yaml_and_the_images_it_names()
    {
        using var project = new ValidProject();

        var yaml = await CliResult.RunAsync("manifest", project.Directory);
        var json = await CliResult.RunAsync("manifest", project.Directory, "--json");

        using var document = JsonDocument.Parse(json.Output);
        document.RootElement.GetProperty("manifest").GetString().ShouldBe(yaml.Output);
        document.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()).ShouldBe(["registry.example.com/edge/ubuntu:k3s-1.30.14-v4.10.0-rc.2-lab"]);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("plan")]
    [InlineData("manifest")]
    [InlineData("init")]
    public async Task Every_command_has_help(string command)
    {
        var result = await CliResult.RunAsync(command, "--help");

        result.ExitCode.ShouldBe(0);
        result.Output.ShouldContain("Usage:");
        result.Output.ShouldContain(command);
    }

    [Fact]
    public void The_real_process_reports_bad_input_with_exit_code_2_and_no_stack_trace()
    {
        using var project = new ValidProject();
        project.AppendArg("K8s_VERSION=1.30.14");
        project.Write("user-data", "#cloud-config\ninstall: [\n");

        var (code, output) = RunProcess("validate", project.Directory);

        code.ShouldBe(2, output);
        output.ShouldContain(".arg:10: error: K8s_VERSION: unknown key; did you mean K8S_VERSION?");
        output.ShouldContain("user-data:3:1: error: invalid YAML");
        output.ShouldNotContain("   at ");
    }

    [Fact]
    public void The_real_process_rejects_unknown_commands_with_exit_code_2()
    {
        var (code, output) = RunProcess("frobnicate");

        code.ShouldBe(2, output);
        output.ShouldNotContain("   at ");
    }

    /// <summary>Runs the built edgeforge.dll in a child process, as users run it.</summary>
    private static (int Code, string Output) RunProcess(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "edgeforge.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit(60_000).ShouldBeTrue("edgeforge did not finish within a minute");
        return (process.ExitCode, output.Result + error.Result);
    }
}
