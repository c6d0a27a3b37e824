using EdgeForge.Cli;
using EdgeForge.Testing;
using EdgeForge.Testing.Upstreams;

namespace EdgeForge.Installer.Tests;

/// <summary>Runs the CLI in-process, as the launcher does, capturing both streams.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public static async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await CommandRunner.RunAsync(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\n{Output}\n{Error}";
}

/// <summary>
/// The story of issue 6, set up once: the test OS imported with <c>edgeforge image import</c> into a local registry as
/// the base image of a CanvOS project (user data, signing key, a content bundle, a cluster definition, BOOT_ASSETS),
/// then <c>edgeforge build iso</c>.
/// </summary>
public sealed class InstallerIsoFixture : IAsyncLifetime
{
    public const string SiteName = "edgeforge-iso-site";
    private RegistryProcess? _registry;

    public TestDirectory Work { get; } = new();

    public string Project => Work.Combine("project");

    public string IsoPath => Path.Combine(Project, "build", "edge-test.iso");

    public string Cache => Work.Combine("cache");

    /// <summary>The test OS tree imported as the base image.</summary>
    public string Rootfs => Work.Combine("rootfs");

    public string BaseImage { get; private set; } = "";

    public CliResult Build { get; private set; } = new(-1, "", "");

    public byte[] Bundle { get; private set; } = [];

    public string Scratch(string name) => Work.Combine(name);

    public async Task InitializeAsync()
    {
        await EdgeForge.Testing.Upstreams.CanvosUpstreams.SharedAsync();
        _registry = await RegistryProcess.StartAsync();
        var rootfs = Rootfs;
        await TestOs.WriteRootfsAsync(rootfs);
        BaseImage = $"{_registry.Address}/base/testos:1";
        var import = await CliResult.RunAsync("image", "import", rootfs, "docker://" + BaseImage);
        import.ExitCode.ShouldBe(0, import.ToString());

        Directory.CreateDirectory(Project);
        await GrubBootAssets.CopyToAsync(Path.Combine(Project, "boot-assets"));
        await WriteProjectAsync(rootfs);
        Build = await CliResult.RunAsync("build", "iso", Project, "--cache-dir", Cache);
    }

    public async Task DisposeAsync()
    {
        Work.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    /// <summary>A project like examples/basic, pointed at the test OS, with every input §6 embeds.</summary>
    public Task WriteProjectAsync(string rootfs) => WriteProjectAsync(Project, BaseImage, rootfs, this);

    private static async Task WriteProjectAsync(string project, string baseImage, string rootfs, InstallerIsoFixture fixture)
    {
        await CanvosProject.WriteInstallerArgAsync(project, baseImage, "edge-test",
            "BUNDLE_K8S_AND_AGENT_PROVIDER=false", "BOOT_ASSETS=boot-assets", "CLUSTERCONFIG=spc.tgz");
        await CanvosProject.WriteSiteUserDataAsync(project, SiteName);
        await File.WriteAllTextAsync(Path.Combine(project, ".edge-custom-config.yaml"), "content:\n  signing:\n    publicKey:\n      base64EncodedValue: \"\"\n");

        // A real (small) zstd content bundle and cluster definition archive.
        Directory.CreateDirectory(Path.Combine(project, "content-test"));
        var payload = Path.Combine(fixture.Work.Path, "bundle-payload");
        Directory.CreateDirectory(payload);
        await File.WriteAllTextAsync(Path.Combine(payload, "index.json"), "{\"schemaVersion\":2,\"manifests\":[]}\n");
        await File.WriteAllTextAsync(Path.Combine(payload, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}\n");
        await ExternalTool.RunAsync("sh", "-c", $"tar -C '{payload}' -cf - . | zstd -q -o '{Path.Combine(project, "content-test", "bundle.zst")}'");
        fixture.Bundle = await File.ReadAllBytesAsync(Path.Combine(project, "content-test", "bundle.zst"));
        await ExternalTool.RunAsync("tar", "-C", rootfs, "-czf", Path.Combine(project, "spc.tgz"), "etc/edgeforge-marker");
    }
}
