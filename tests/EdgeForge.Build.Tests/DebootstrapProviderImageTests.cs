using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// The heavy tier: a real Debian (debootstrap minbase) as the base image and a RUN that installs a package from the
/// Debian mirror through the sandbox, as a user's Dockerfile does.
/// </summary>
[Collection(nameof(DebianBaseCollection))]
public sealed class DebootstrapProviderImageTests(DebianBaseFixture fixture)
{
    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_debootstrap_base_gets_wireguard_tools_from_a_RUN()
    {
        var project = fixture.Project("wireguard");
        File.WriteAllText(Path.Combine(project, "Dockerfile"), """
            # Add any other image customizations here
            RUN apt-get update && apt-get install -y --no-install-recommends wireguard-tools && rm -rf /var/lib/apt/lists/*

            """);
        var plan = ProjectLoader.Load(project, new ProjectOptions { Environment = _ => null }).Plan
            ?? throw new InvalidOperationException("the test project is invalid");
        var log = new EventLog();

        var report = (await EdgeBuild.RunAsync(plan, new EdgeBuildOptions { Registry = fixture.Debian.Client, Blobs = fixture.Debian.Blobs, Observer = log }, BuildTarget.ProviderImages)).ProviderImages!;

        report.Succeeded.ShouldBeTrue(log.ToString() + string.Join("\n", report.Images.Select(i => i.Error)));
        report.RunsExecuted.ShouldBe(1);
        var bundle = fixture.Work.Combine("wireguard-unpacked");
        await ExternalTool.RunAsync("umoci", "unpack", "--image", $"{Path.Combine(project, "build", "images")}:{report.Images[0].Tag}", bundle);
        File.Exists(Path.Combine(bundle, "rootfs", "usr/bin/wg")).ShouldBeTrue("wireguard-tools' /usr/bin/wg is missing from the image");
        Directory.EnumerateFileSystemEntries(Path.Combine(bundle, "rootfs", "var/lib/apt/lists")).ShouldBeEmpty();
    }
}
