using System.Text.Json;
using EdgeForge.Testing;

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
    [Fact]
    public async Task Plan_shows_each_upstream_and_where_non_default_values_came_from()
    {
        using var project = new ValidProject();
        project.Write(".arg", File.ReadAllText(Path.Combine(FixturesRoot(), "canvos", "arg.template")));
        project.Write("Earthfile", File.ReadAllText(Path.Combine(FixturesRoot(), "canvos-earthfile", "Earthfile")));
        project.Write("k8s_version.json", """{"k3s": ["1.30.14"]}""");

        var text = await CliResult.RunAsync("plan", project.Directory, "--build-arg", "CUSTOM_TAG=lab");
        var json = await CliResult.RunAsync("plan", project.Directory, "--json");

        text.ExitCode.ShouldBe(0, text.All);
        text.Output.ShouldContain("agent v4.10.0-rc.2");
        text.Output.ShouldContain("us-docker.pkg.dev/palette-images/edge/kairos-ubuntu:22.04-core-amd64-generic-v0.17.1");
        text.Output.ShouldContain("us-docker.pkg.dev/palette-images/edge/stylus-framework-linux-amd64:v4.10.0-rc.2");
        text.Output.ShouldContain("us-docker.pkg.dev/palette-images/edge/kairos-io/provider-k3s:v4.10.3  (set by K3S_PROVIDER_VERSION)");
        text.Output.ShouldContain("us-docker.pkg.dev/palette-images/edge/luet-repo-amd  (set by SPECTRO_LUET_REPO)");
        text.Output.ShouldContain("ttl.sh/ubuntu:k3s-1.30.14-v4.10.0-rc.2-lab  (Kubernetes: luet k8s/k3s@1.30.14-k3s1)");
        text.Output.ShouldContain("  CUSTOM_TAG=lab (command line — overrides .arg line 1)");
        text.Output.ShouldContain("  IMAGE_REGISTRY=ttl.sh (.arg line 2)");
        text.Output.ShouldNotContain("  PE_VERSION=");

        json.ExitCode.ShouldBe(0, json.All);
        using var document = JsonDocument.Parse(json.Output);
        var values = document.RootElement.GetProperty("values").EnumerateArray().ToDictionary(v => v.GetProperty("key").GetString()!);
        values["PE_VERSION"].GetProperty("origin").GetString().ShouldBe("earthfile");
        values["PE_VERSION"].GetProperty("line").GetInt32().ShouldBe(25);
        values["SQUASHFS_COMPRESSION"].GetProperty("origin").GetString().ShouldBe("built-in");
        values["CUSTOM_TAG"].GetProperty("describe").GetString().ShouldBe(".arg line 1");
        document.RootElement.GetProperty("sources").GetProperty("images").EnumerateArray()
            .Select(i => i.GetProperty("role").GetString()).ShouldBe(["base", "stylus-framework", "stylus-package", "kairos-provider", "luet-repository", "third-party"]);
        document.RootElement.GetProperty("images")[0].GetProperty("luetPackage").GetString().ShouldBe("k8s/k3s@1.30.14-k3s1");
    }

    [Fact]
    public void Plan_notes_an_environment_value_that_overrides_the_arg_file()
    {
        using var project = new ValidProject();

        // A separate process: the variable must not leak into the other tests of this process.
        var (code, output) = RunProcess(new Dictionary<string, string> { ["CUSTOM_TAG"] = "x" }, "plan", project.Directory);

        code.ShouldBe(0, output);
        output.ShouldContain("  CUSTOM_TAG=x (environment — overrides .arg line 1)");
    }

    private static string FixturesRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (Directory.Exists(Path.Combine(directory.FullName, "tests", "fixtures")))
            {
                return Path.Combine(directory.FullName, "tests", "fixtures");
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures");
    }

    private static (int Code, string Output) RunProcess(params string[] args) => RunProcess(new Dictionary<string, string>(), args);

    private static (int Code, string Output) RunProcess(Dictionary<string, string> environment, params string[] args)
    {
        var result = ExternalTool.Run("dotnet", new ToolOptions { Environment = environment, Timeout = TimeSpan.FromMinutes(1) },
            [Path.Combine(AppContext.BaseDirectory, "edgeforge.dll"), .. args]);
        return (result.ExitCode, result.Output + result.Error);
    }
}
