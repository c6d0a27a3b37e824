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
        var (plan, _) = DebianBaseFixture.Load(project);

        var report = await fixture.BuildProviderImagesAsync(plan);

        report.RunsExecuted.ShouldBe(1);
        var root = await fixture.UnpackAsync(project, report, "wireguard-unpacked");
        File.Exists(Path.Combine(root, "usr/bin/wg")).ShouldBeTrue("wireguard-tools' /usr/bin/wg is missing from the image");
        Directory.EnumerateFileSystemEntries(Path.Combine(root, "var/lib/apt/lists")).ShouldBeEmpty();
    }
}
