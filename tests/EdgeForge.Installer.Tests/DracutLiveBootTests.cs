using System.Diagnostics;
using EdgeForge.Testing;
using EdgeForge.Testing.Upstreams;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// Issue 6, second "Done when": a <c>debootstrap</c> Debian with <c>dracut</c> and <c>dracut-live</c>, whose generic
/// initramfs carries dmsquash-live, imported as the base image and built with <c>edgeforge build iso</c>, boots from the
/// installer menu's own <c>root=live:CDLABEL=COS_LIVE rd.live.squashimg=rootfs.squashfs</c> arguments, through dracut
/// and systemd, to a unit that prints <c>/run/initramfs/live/config.yaml</c> on SeaBIOS and on OVMF.
/// </summary>
[Trait("Tier", "Heavy")]
public sealed class DracutLiveBootTests(DracutLiveIsoFixture fixture) : IClassFixture<DracutLiveIsoFixture>
{
    [Theory]
    [InlineData("bios")]
    [InlineData("uefi")]
    public void The_iso_boots_through_dmsquash_live_to_a_systemd_unit_that_prints_the_user_data(string firmware)
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Setup + fixture.Build);
        File.Exists(fixture.IsoPath).ShouldBeTrue(fixture.Build.ToString());
        var watch = Stopwatch.StartNew();
        using var machine = QemuMachine.Start(new QemuOptions
        {
            Firmware = firmware == "uefi" ? Firmware.Uefi : Firmware.Bios, MemoryMegabytes = 1536, Cdrom = fixture.IsoPath,
        });
        // A cap for a hung boot, not a speed requirement: dracut and systemd under TCG on a busy 2-core machine take minutes.
        var serial = machine.WaitFor([DracutLiveIsoFixture.End, "EF-DRACUT-FAIL"], TimeSpan.FromSeconds(480));
        var context = $"serial console of {firmware} after {watch.Elapsed.TotalSeconds:F0} s:\n{QemuMachine.Tail(serial)}";
        Console.WriteLine($"DracutLiveBootTests {firmware}: {watch.Elapsed.TotalSeconds:F0} s to the end marker");

        // The kernel ran with the menu's live arguments, dracut's dmsquash-live mounted the medium at /run/initramfs/live,
        // and the unit of the squashfs root printed the embedded user data from there.
        serial.ShouldContain("root=live:CDLABEL=COS_LIVE rd.live.dir=/ rd.live.squashimg=rootfs.squashfs", customMessage: context);
        serial.ShouldNotContain("EF-DRACUT-FAIL", customMessage: context);
        var config = Between(serial, DracutLiveIsoFixture.Begin, DracutLiveIsoFixture.End);
        config.ShouldContain("#cloud-config", customMessage: context);
        config.ShouldContain(DracutLiveIsoFixture.UserDataLine, customMessage: context);
        serial.ShouldContain("EF-ROOT=" + DracutLiveIsoFixture.RootMarker, customMessage: context);
    }

    /// <summary>
    /// Issue 13 item 1: with <c>UPDATE_KERNEL=true</c> on the Debian base, the installer image has the backports kernel
    /// instead of the stable one — unsquashfs sees only its modules, its vmlinuz link and its dracut initramfs — and
    /// the ISO boots that kernel through dmsquash-live.
    /// </summary>
    [Fact]
    public async Task Update_kernel_installs_the_newest_vendor_kernel_and_its_initramfs_and_the_iso_boots_it()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Setup + fixture.Build);
        var build = await CliResult.RunAsync("build", "iso", fixture.Project, "--cache-dir", fixture.Work.Combine("cache"),
            "--kernel-args", "rd.shell=0 rd.emergency=poweroff systemd.show_status=1",
            "--build-arg", "UPDATE_KERNEL=true", "--build-arg", "OS_DISTRIBUTION=debian", "--build-arg", "OS_VERSION=12", "--build-arg", "ISO_NAME=new-kernel");
        build.ExitCode.ShouldBe(0, build.ToString());
        var iso = Path.Combine(fixture.Project, "build", "new-kernel.iso");

        var squashfs = fixture.Scratch("new-kernel.squashfs");
        await ExternalTool.RunAsync("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/rootfs.squashfs", squashfs);
        var listing = await ExternalTool.RunAsync("unsquashfs", "-lls", "-d", "", squashfs);
        var modules = listing.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "")
            .Where(p => p.StartsWith("/lib/modules/", StringComparison.Ordinal) || p.StartsWith("/usr/lib/modules/", StringComparison.Ordinal))
            .Select(p => p.Split('/', StringSplitOptions.RemoveEmptyEntries).SkipWhile(s => s != "modules").Skip(1).FirstOrDefault())
            .OfType<string>().Distinct().ToList();
        var kernel = modules.ShouldHaveSingleItem(string.Join(", ", modules));
        Release(kernel).ShouldBeGreaterThan(Release(fixture.KernelVersion), $"{kernel} is not newer than the base's {fixture.KernelVersion}");
        listing.ShouldContain($"/boot/vmlinuz -> vmlinuz-{kernel}");
        listing.ShouldContain($"/boot/initrd -> initrd-{kernel}");
        listing.ShouldContain($"/boot/initrd-{kernel}");
        listing.ShouldContain("/etc/dracut.conf.d/99-usb-media.conf");
        listing.ShouldNotContain("/etc/apt/sources.list.d/edgeforge-update-kernel.list");

        // The provider images of the same project: the common layers from the cache, then CanvOS's headers step for that kernel.
        var providers = await CliResult.RunAsync("build", "provider-images", fixture.Project, "--cache-dir", fixture.Work.Combine("cache"),
            "--build-arg", "UPDATE_KERNEL=true", "--build-arg", "OS_DISTRIBUTION=debian", "--build-arg", "OS_VERSION=12", "--json");
        providers.ExitCode.ShouldBe(0, providers.ToString());
        using (var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Project, "build", "provider-images.json"))))
        {
            var tag = report.RootElement.GetProperty("images")[0].GetProperty("tag").GetString();
            var bundle = fixture.Scratch("new-kernel-provider");
            await ExternalTool.RunAsync("umoci", "unpack", "--image", $"{Path.Combine(fixture.Project, "build", "images")}:{tag}", bundle);
            Directory.Exists(Path.Combine(bundle, "rootfs", "usr/src", "linux-headers-" + kernel)).ShouldBeTrue($"no /usr/src/linux-headers-{kernel} in the provider image");
            File.Exists(Path.Combine(bundle, "rootfs", "etc/apt/sources.list.d/edgeforge-update-kernel.list")).ShouldBeFalse();
        }

        using var machine = QemuMachine.Start(new QemuOptions { Firmware = Firmware.Bios, MemoryMegabytes = 1536, Cdrom = iso });
        var serial = machine.WaitFor([DracutLiveIsoFixture.End, "EF-DRACUT-FAIL"], TimeSpan.FromSeconds(480));
        var context = QemuMachine.Tail(serial);
        serial.ShouldNotContain("EF-DRACUT-FAIL", customMessage: context);
        serial.ShouldContain("EF-KERNEL=" + kernel, customMessage: context);
        serial.ShouldContain(DracutLiveIsoFixture.End, customMessage: context);
        File.Delete(iso);
    }

    /// <summary>A kernel release's leading X.Y.Z (6.12.95 of 6.12.95+deb12-amd64), comparable.</summary>
    private static Version Release(string kernel) =>
        Version.Parse(string.Join('.', kernel.Split('-', '+')[0].Split('.').Take(3)));

    private static string Between(string text, string begin, string end)
    {
        var from = text.IndexOf(begin, StringComparison.Ordinal);
        var to = from < 0 ? -1 : text.IndexOf(end, from, StringComparison.Ordinal);
        return from < 0 || to < 0 ? "" : text[(from + begin.Length)..to];
    }
}

/// <summary>
/// Sets up the story once: <c>debootstrap</c> bookworm with linux-image-amd64, systemd, dracut and dracut-live; a unit
/// that prints the live medium's <c>config.yaml</c> and powers off; a generic dracut initramfs with dmsquash-live; the
/// tree imported with <c>edgeforge image import</c> into a local registry as BASE_IMAGE; <c>edgeforge build iso</c>.
/// </summary>
public sealed class DracutLiveIsoFixture : IAsyncLifetime
{
    public const string Begin = "EF-CONFIG-BEGIN";
    public const string End = "EF-CONFIG-END";
    public const string UserDataLine = "edgeforge-dracut-live: user data read from the live medium";
    public const string RootMarker = "debootstrap-dracut-live-root";
    private RegistryProcess? _registry;

    public TestDirectory Work { get; } = new();

    public string Project => Work.Combine("project");

    public string IsoPath => Path.Combine(Project, "build", "dracut-live.iso");

    public CliResult Build { get; private set; } = new(-1, "", "");

    /// <summary>The kernel debootstrap's apt installed (Debian's stable kernel).</summary>
    public string KernelVersion { get; private set; } = "";

    /// <summary>Timings of the set-up steps, shown when a test fails.</summary>
    public string Setup { get; private set; } = "";

    public string Scratch(string name) => Work.Combine(name);

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        var steps = new List<string>();
        void Step(string name) => steps.Add($"{name}: {watch.Elapsed.TotalSeconds:F0} s");

        await EdgeForge.Testing.Upstreams.CanvosUpstreams.SharedAsync();
        _registry = await RegistryProcess.StartAsync();
        var root = Work.Combine("rootfs");
        // linux-image-amd64 needs initramfs-tools or another linux-initramfs-tool. debootstrap's resolver always takes
        // the first alternative, which conflicts with dracut, so the kernel comes second, from apt inside the image,
        // which sees dracut already providing it.
        await DebianRootfs.CreateAsync(root, "systemd", "systemd-sysv", "udev", "dracut", "dracut-live");
        Step("debootstrap");

        // The kernel, then a generic (not host-only) initramfs with dmsquash-live, made by the image's own apt and dracut
        // in a private mount namespace, so /proc, /sys and /dev are gone when the command ends whatever happens.
        await WriteUnitAsync(root);
        // apt downloads the kernel and dracut builds a generic initramfs: minutes; the bound is for a stalled mirror.
        await ExternalTool.RunAsync("unshare", new ToolOptions { Timeout = TimeSpan.FromMinutes(30) }, "--mount", "--propagation", "private", "sh", "-c", """
            set -e
            r="$1"
            mount -t proc proc "$r/proc"
            mount --rbind /sys "$r/sys"
            mount --rbind /dev "$r/dev"
            export DEBIAN_FRONTEND=noninteractive
            chroot "$r" apt-get -q update
            chroot "$r" apt-get -q -y --no-install-recommends install linux-image-amd64
            v=$(ls "$r/lib/modules")
            chroot "$r" dracut --no-hostonly --add dmsquash-live --force "/boot/initrd.img-$v" "$v"
            chroot "$r" apt-get clean
            """.Replace("\r", ""), "sh", root);
        var version = Directory.GetDirectories(Path.Combine(root, "lib", "modules")).Select(Path.GetFileName).Single(v => File.Exists(Path.Combine(root, "boot", $"vmlinuz-{v}")))!;
        KernelVersion = version;
        // A Kairos-like dracut configuration: every initramfs the image's dracut makes (UPDATE_KERNEL's too) can boot live media.
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "dracut.conf.d", "50-edgeforge-live.conf"), "add_dracutmodules+=\" dmsquash-live \"\n");
        var modules = await ExternalTool.RunAsync("chroot", root, "lsinitrd", "-m", $"/boot/initrd.img-{version}");
        modules.ShouldContain("dmsquash-live", customMessage: modules);
        Step("dracut");

        // A Kairos-like base carries the agent that installs the host; a stub stands in for it.
        File.WriteAllText(Path.Combine(root, "usr", "bin", "kairos-agent"), "#!/bin/sh\necho kairos-agent stub\n");
        File.SetUnixFileMode(Path.Combine(root, "usr", "bin", "kairos-agent"), (UnixFileMode)0x1ED);
        Directory.CreateDirectory(Project);
        await GrubBootAssets.CopyToAsync(Path.Combine(Project, "boot-assets"));
        var baseImage = $"{_registry.Address}/base/dracut-live:1";
        var import = await CliResult.RunAsync("image", "import", root, "docker://" + baseImage);
        import.ExitCode.ShouldBe(0, import.ToString());
        Step("import");

        await WriteProjectAsync(baseImage);
        Build = await CliResult.RunAsync("build", "iso", Project, "--cache-dir", Work.Combine("cache"),
            "--kernel-args", "rd.shell=0 rd.emergency=poweroff systemd.show_status=1");
        Step("build iso");
        Setup = string.Join(", ", steps) + "\n";
        Console.WriteLine("DracutLiveIsoFixture: " + Setup);
    }

    public async Task DisposeAsync()
    {
        Work.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    /// <summary>
    /// A oneshot unit of multi-user.target that writes the markers around dmsquash-live's copy of the medium's
    /// config.yaml to the serial port (on UEFI the menu gives /dev/console to tty0), then powers off.
    /// </summary>
    private static async Task WriteUnitAsync(string root)
    {
        await File.WriteAllTextAsync(Path.Combine(root, "etc", "edgeforge-root-marker"), RootMarker + "\n");
        var script = Path.Combine(root, "usr", "local", "bin", "edgeforge-print-config");
        Directory.CreateDirectory(Path.GetDirectoryName(script)!);
        await File.WriteAllTextAsync(script, $"""
            #!/bin/sh
            exec >/dev/ttyS0 2>&1
            echo
            echo "EF-ROOT=$(cat /etc/edgeforge-root-marker)"
            echo "EF-KERNEL=$(uname -r)"
            if [ -f /run/initramfs/live/config.yaml ]; then
              echo {Begin}
              cat /run/initramfs/live/config.yaml
              echo {End}
            else
              echo "EF-DRACUT-FAIL no /run/initramfs/live/config.yaml"
              ls -la /run/initramfs /run/initramfs/live
            fi
            sync

            """.Replace("\r", ""));
        File.SetUnixFileMode(script, (UnixFileMode)0x1ED);
        var system = Path.Combine(root, "etc", "systemd", "system");
        await File.WriteAllTextAsync(Path.Combine(system, "edgeforge-print-config.service"), """
            [Unit]
            Description=Print the installer's user data from the live medium

            [Service]
            Type=oneshot
            ExecStart=/usr/local/bin/edgeforge-print-config
            ExecStartPost=/bin/systemctl poweroff --force

            [Install]
            WantedBy=multi-user.target

            """.Replace("\r", ""));
        var wants = Path.Combine(system, "multi-user.target.wants");
        Directory.CreateDirectory(wants);
        File.CreateSymbolicLink(Path.Combine(wants, "edgeforge-print-config.service"), "/etc/systemd/system/edgeforge-print-config.service");

        // systemd-firstboot would ask on the console for a locale and a root password if the image looks unconfigured.
        File.CreateSymbolicLink(Path.Combine(system, "systemd-firstboot.service"), "/dev/null");
    }

    private async Task WriteProjectAsync(string baseImage)
    {
        await CanvosProject.WriteInstallerArgAsync(Project, baseImage, "dracut-live", "BUNDLE_K8S_AND_AGENT_PROVIDER=false", "BOOT_ASSETS=boot-assets");
        await CanvosProject.WriteSiteUserDataAsync(Project, "edgeforge-dracut-live-site", UserDataLine);
    }
}
