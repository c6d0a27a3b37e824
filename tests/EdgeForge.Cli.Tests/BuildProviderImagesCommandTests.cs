using EdgeForge.Testing;
using System.Text.Json;

namespace EdgeForge.Cli.Tests;

public sealed class BuildProviderImagesCommandTests
{
    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task The_canvos_target_builds_pushes_reports_and_prints_the_manifest()
    {
        await using var fixture = await ProviderImageFixture.StartAsync(ProviderImageFixture.Versions);
        var cache = fixture.Work.Combine("cli-cache");

        var first = await CliResult.RunAsync("build", "+build-provider-images", fixture.Project, "--push", "--cache-dir", cache);
        var firstReport = File.ReadAllText(Path.Combine(fixture.Project, "build", "provider-images.json"));
        var again = await CliResult.RunAsync("build", "provider-images", fixture.Project, "--push", "--cache-dir", cache, "--json");
        var one = await CliResult.RunAsync("build", "provider-images", fixture.Project, "--cache-dir", cache, "--k8s-version", "1.30.2", "--output", fixture.Work.Combine("one"));

        first.ExitCode.ShouldBe(0, first.All);
        first.Output.ShouldContain("3 of 3 images; Kubernetes bundled; RUN steps executed: 1");
        first.Output.ShouldContain("system.customTag: lab");
        File.ReadAllText(Path.Combine(fixture.Project, "build", "byoos-manifest.yaml")).ShouldStartWith("pack:");
        using var report = JsonDocument.Parse(firstReport);
        report.RootElement.GetProperty("images").GetArrayLength().ShouldBe(3);

        again.ExitCode.ShouldBe(0, again.All);
        // --json: one event per line while building, then the result.
        var lines = again.Output.Split('\n');
        lines.Where(l => l.StartsWith("{\"time\"", StringComparison.Ordinal)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetString())
            .ShouldContain("finished");
        using var rerun = JsonDocument.Parse(string.Join('\n', lines.Where(l => !l.StartsWith("{\"time\"", StringComparison.Ordinal))));
        var images = rerun.RootElement.GetProperty("providerImages");
        images.GetProperty("runsExecuted").GetInt32().ShouldBe(0);
        images.GetProperty("blobsUploaded").GetInt32().ShouldBe(0);

        one.ExitCode.ShouldBe(0, one.All);
        one.Output.ShouldContain("1 of 1 images");
        one.Output.ShouldContain("k3s-1.30.2-v4.10.0-rc.2-lab");
    }

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_failing_cell_exits_1_naming_the_image()
    {
        await using var fixture = await ProviderImageFixture.StartAsync(["1.30.1", "1.30.3"]);

        var result = await CliResult.RunAsync("build", "provider-images", fixture.Project, "--cache-dir", fixture.Work.Combine("cache2"));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("k3s-1.30.2-v4.10.0-rc.2-lab");
        result.Error.ShouldContain("1 of 3 provider images failed");
    }

    [Theory]
    [InlineData("UPDATE_KERNEL=true")]
    [InlineData("CIS_HARDENING=true")]
    [InlineData("TWO_NODE=true")]
    public async Task Features_it_cannot_build_are_refused_before_any_work(string setting)
    {
        using var project = new ValidProject();
        project.AppendArg(setting);

        var result = await CliResult.RunAsync("build", "provider-images", project.Directory, "--cache-dir", Path.Combine(project.Directory, "cache"));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain(setting.Split('=')[0]);
        result.Error.ShouldContain("not built by this version");
        Directory.Exists(Path.Combine(project.Directory, "cache")).ShouldBeFalse();
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("plan")]
    [InlineData("build iso")]
    [InlineData("build all")]
    public async Task TWO_NODE_is_refused_by_every_command_not_only_the_provider_build(string command)
    {
        using var project = new ValidProject();
        project.AppendArg("TWO_NODE=true");

        var result = await CliResult.RunAsync([.. command.Split(' '), project.Directory]);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.All.ShouldContain("TWO_NODE");
        Directory.Exists(Path.Combine(project.Directory, "build")).ShouldBeFalse();
    }
}
