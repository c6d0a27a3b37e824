using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// Issue 13 item 3: given a debootstrap Debian base (the same apt paths as Ubuntu) and <c>TWO_NODE=true</c> with kine
/// from a fixture source on 127.0.0.1, when I build the provider images, then umoci unpacks an image in which dpkg
/// lists PostgreSQL as installed, its units wait for network-online and are not enabled, the postgres user has its
/// profile, and kine is the source's binary, 0755; a second build reuses every layer and fetches nothing.
/// </summary>
[Collection(nameof(DebianBaseCollection))]
public sealed class TwoNodeProviderImageTests(DebianBaseFixture fixture)
{
    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_two_node_image_has_postgresql_installed_and_disabled_and_kine_from_the_configured_source()
    {
        await using var kine = new StaticFileServer(new Dictionary<string, string> { ["/kine/v0.15.0/kine-amd64"] = BusyboxRootfs.Binary });
        var project = fixture.Project("two-node", $"TWO_NODE=true\nKINE_SOURCE={kine.Address}/kine/v{"{version}"}/kine-{"{arch}"}\n");
        var (plan, diagnostics) = DebianBaseFixture.Load(project);
        // CanvOS's tag warning stays: nothing in CUSTOM_TAG says the image is two-node.
        diagnostics.Warnings.ShouldContain(w => w.Key == "TWO_NODE" && w.Message.Contains("single-node", StringComparison.Ordinal));

        var report = await fixture.BuildProviderImagesAsync(plan);

        report.RunsExecuted.ShouldBe(1);
        kine.Requests.ShouldBe(["/kine/v0.15.0/kine-amd64"]);
        var root = await fixture.UnpackAsync(project, report, "two-node-unpacked");

        // dpkg (not our reader) says PostgreSQL is installed; the server binary is there.
        var status = await ExternalTool.RunAsync("dpkg-query", "--admindir", Path.Combine(root, "var/lib/dpkg"), "-W", "-f", "${Package} ${db:Status-Status}\n", "postgresql", "iputils-ping");
        status.ShouldContain("postgresql installed");
        status.ShouldContain("iputils-ping installed");
        Directory.EnumerateFiles(Path.Combine(root, "usr/lib/postgresql"), "postgres", SearchOption.AllDirectories).ShouldNotBeEmpty();

        // Ordered after network-online, and not enabled: the agent starts it when a second node joins.
        var unit = File.ReadAllText(Path.Combine(root, "usr/lib/systemd/system/postgresql@.service"));
        unit.ShouldContain("After=network-online.target");
        unit.ShouldNotContain("After=network.target\n");
        Directory.EnumerateFileSystemEntries(Path.Combine(root, "etc/systemd/system"), "postgresql.service", SearchOption.AllDirectories).ShouldBeEmpty();

        // The postgres user's profile, owned by it, for the image's perl (Debian 12: 5.36).
        var postgres = File.ReadAllLines(Path.Combine(root, "etc/passwd")).Select(l => l.Split(':')).Single(f => f[0] == "postgres");
        var profile = Path.Combine(root, postgres[5].TrimStart('/'), ".bash_profile");
        File.ReadAllText(profile).ShouldStartWith("export PERL5LIB=/usr/share/perl/5.36:/etc/perl:/usr/lib/x86_64-linux-gnu/perl5/5.36:");
        (await ExternalTool.RunAsync("stat", "-c", "%u", profile)).Trim().ShouldBe(postgres[2]);

        var installed = Path.Combine(root, "opt/spectrocloud/bin/kine");
        File.ReadAllBytes(installed).ShouldBe(File.ReadAllBytes(BusyboxRootfs.Binary));
        File.GetUnixFileMode(installed).ShouldBe((UnixFileMode)0x1ED);

        // Nothing changed: every layer from the cache, kine not fetched again.
        var again = await fixture.BuildProviderImagesAsync(plan);
        again.RunsExecuted.ShouldBe(0);
        again.Images[0].Digest.ShouldBe(report.Images[0].Digest);
        kine.Requests.Count.ShouldBe(1);
    }
}
