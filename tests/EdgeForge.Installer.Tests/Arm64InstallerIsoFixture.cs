using EdgeForge.Testing;
using EdgeForge.Testing.Upstreams;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// Issue 13 item 6, set up once: the arm64 test OS (Debian's arm64 kernel, busybox and GRUB) imported as a linux/arm64
/// base image, a CanvOS project for <c>ARCH=arm64</c> whose Dockerfile RUNs a command in that image (through the
/// host's qemu-aarch64 binfmt_misc handler), no BOOT_ASSETS — the boot loader is found in the installer image — then
/// <c>edgeforge build iso</c>.
/// </summary>
public sealed class Arm64InstallerIsoFixture : IAsyncLifetime
{
    public const string SiteName = "edgeforge-arm64-site";

    /// <summary>Where the Dockerfile's RUN writes what <c>uname -m</c> printed inside the arm64 image.</summary>
    public const string RunOutput = "etc/edgeforge-run-arch";

    private RegistryProcess? _registry;

    public TestDirectory Work { get; } = new();

    public string Project => Work.Combine("project");

    public string IsoPath => Path.Combine(Project, "build", "edge-arm64.iso");

    public string Scratch(string name) => Work.Combine(name);

    public CliResult Build { get; private set; } = new(-1, "", "");

    public TimeSpan BuildTime { get; private set; }

    public DebianArm64Packages Packages { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await EdgeForge.Testing.Upstreams.CanvosUpstreams.SharedAsync();
        Packages = await DebianArm64Packages.SharedAsync();
        _registry = await RegistryProcess.StartAsync();
        var rootfs = Work.Combine("rootfs");
        await TestOs.WriteArm64RootfsAsync(rootfs);
        var baseImage = $"{_registry.Address}/base/testos-arm64:1";
        var import = await CliResult.RunAsync("image", "import", rootfs, "docker://" + baseImage, "--platform", "linux/arm64");
        import.ExitCode.ShouldBe(0, import.ToString());

        Directory.CreateDirectory(Project);
        await CanvosProject.WriteInstallerArgAsync(Project, baseImage, "edge-arm64", "BUNDLE_K8S_AND_AGENT_PROVIDER=false", "ARCH=arm64");
        await CanvosProject.WriteSiteUserDataAsync(Project, SiteName);
        await File.WriteAllTextAsync(Path.Combine(Project, "Dockerfile"), $"""
            FROM scratch
            # {EdgeForge.Configuration.Dockerfiles.DockerfileParser.Marker}
            RUN uname -m > /{RunOutput}

            """);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // quiet: the kernel's boot messages on an emulated UART cost seconds under TCG.
        Build = await CliResult.RunAsync("build", "iso", Project, "--cache-dir", Work.Combine("cache"), "--kernel-args", "quiet");
        BuildTime = watch.Elapsed;
    }

    public async Task DisposeAsync()
    {
        Work.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }
}
