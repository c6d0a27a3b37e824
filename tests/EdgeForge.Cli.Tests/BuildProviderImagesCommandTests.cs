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
    [InlineData("IS_MAAS=true")]
    [InlineData("UBUNTU_PRO_ATTACH=true")]
    public async Task Features_it_cannot_build_are_refused_before_any_work(string setting)
    {
        using var project = new ValidProject();
        project.AppendArg(setting);

        var result = await CliResult.RunAsync("build", "provider-images", project.Directory, "--cache-dir", Path.Combine(project.Directory, "cache"));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain(setting.Split('=')[0]);
        result.Error.ShouldContain("not done by this version");
        Directory.Exists(Path.Combine(project.Directory, "cache")).ShouldBeFalse();
    }

    [Fact]
    public async Task Trusted_boot_provider_images_for_arm64_are_refused_before_any_work_and_validate_says_so()
    {
        using var project = new ValidProject();
        project.Write(".arg", ValidProject.Arg.Replace("ARCH=amd64", "ARCH=arm64", StringComparison.Ordinal) + "IS_UKI=true\n");
        project.Write("cloudconfigs/80_stylus_uki.yaml", "#cloud-config\nstages: {}\n");
        var keys = await CliResult.RunAsync("keys", "secureboot", "-o", Path.Combine(project.Directory, "secure-boot"), "--org", "EdgeForge Test", "--no-ms-keys");
        keys.ExitCode.ShouldBe(0, keys.All);

        var build = await CliResult.RunAsync("build", "provider-images", project.Directory, "--cache-dir", Path.Combine(project.Directory, "cache"));
        var validate = await CliResult.RunAsync("validate", project.Directory);

        build.ShouldNotCrash();
        build.ExitCode.ShouldBe(2, build.All);
        build.Error.ShouldContain("IS_UKI");
        build.Error.ShouldContain("amd64 only");
        build.Error.ShouldContain("ARCH=arm64");
        Directory.Exists(Path.Combine(project.Directory, "cache")).ShouldBeFalse();
        validate.All.ShouldContain("Trusted Boot provider images are built for amd64 only");

        // The Trusted Boot installer is made of x64 systemd-boot and systemd-stub too: build iso refuses it the same way.
        var iso = await CliResult.RunAsync("build", "iso", project.Directory, "--cache-dir", Path.Combine(project.Directory, "cache"));
        iso.ShouldNotCrash();
        iso.ExitCode.ShouldBe(2, iso.All);
        iso.Error.ShouldContain("IS_UKI");
        iso.Error.ShouldContain("Trusted Boot installer ISO is built for amd64 only");
        Directory.Exists(Path.Combine(project.Directory, "cache")).ShouldBeFalse();
        validate.All.ShouldContain("Trusted Boot installer ISO is built for amd64 only");
    }

    [Fact]
    public async Task An_arm64_project_validates_without_an_iso_warning()
    {
        using var project = new ValidProject();
        project.Write(".arg", ValidProject.Arg.Replace("ARCH=amd64", "ARCH=arm64", StringComparison.Ordinal));

        var validate = await CliResult.RunAsync("validate", project.Directory);

        validate.ShouldNotCrash();
        validate.ExitCode.ShouldBe(0, validate.All);
        validate.All.ShouldNotContain("installer ISO");
        validate.All.ShouldNotContain("amd64 only");
    }

    [Fact]
    public async Task With_is_uki_the_plan_lists_the_ubuntu_image_the_provider_images_are_built_on()
    {
        using var project = new ValidProject();
        project.AppendArg("IS_UKI=true");
        project.Write("cloudconfigs/80_stylus_uki.yaml", "#cloud-config\nstages: {}\n");
        var keys = await CliResult.RunAsync("keys", "secureboot", "-o", Path.Combine(project.Directory, "secure-boot"), "--org", "EdgeForge Test", "--no-ms-keys");
        keys.ExitCode.ShouldBe(0, keys.All);

        var plan = await CliResult.RunAsync("plan", project.Directory, "--json");

        plan.ExitCode.ShouldBe(0, plan.All);
        using var document = JsonDocument.Parse(plan.Output);
        document.RootElement.GetProperty("sources").GetProperty("images").EnumerateArray()
            .Single(i => i.GetProperty("role").GetString() == "uki-provider-base").GetProperty("reference").GetString()
            .ShouldBe("us-docker.pkg.dev/palette-images/third-party/ubuntu:22.04");
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("plan")]
    [InlineData("build iso")]
    [InlineData("build all")]
    public async Task TWO_NODE_on_an_os_without_apt_or_zypper_is_refused_by_every_command_not_only_the_provider_build(string command)
    {
        using var project = new ValidProject();
        project.Write(".arg", ValidProject.Arg.Replace("OS_DISTRIBUTION=ubuntu", "OS_DISTRIBUTION=rhel", StringComparison.Ordinal) +
                              "BASE_IMAGE=registry.example.com/base/rhel:9\nTWO_NODE=true\nCUSTOM_TAG=two-node\n");

        var result = await CliResult.RunAsync([.. command.Split(' '), project.Directory]);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.All.ShouldContain("TWO_NODE");
        result.All.ShouldContain("apt or zypper");
        Directory.Exists(Path.Combine(project.Directory, "build")).ShouldBeFalse();
    }
}
