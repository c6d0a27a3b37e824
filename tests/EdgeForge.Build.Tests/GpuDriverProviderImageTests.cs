using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// Issue 13 item 5: given a debootstrap Debian base whose only apt source is a build site's signed mirror on 127.0.0.1
/// (the distribution, NVIDIA's CUDA and container-toolkit repositories, AMD's amdgpu-install, amdgpu and ROCm
/// repositories, all built here with dpkg-deb and signed with a key made here), an image kernel that is not the
/// builder's, and INSTALL_NVIDIA_GPU_DRIVERS=true, then INSTALL_AMD_GPU_DRIVERS=true, when I build the provider
/// images (and AMD once more from CanvOS's prebuilt artifact), then umoci unpacks images in which dpkg lists exactly the packages CanvOS's scripts install, DKMS was asked
/// to build for the image's kernel only, the modules are in that kernel's tree, the modprobe, modules-load and dracut
/// drop-ins are written, the units are enabled, the initramfs was regenerated after the drop-ins, and every vendor
/// source names the mirror. The fixture's dkms, depmod and dracut are small scripts that record what they were asked
/// (the test image has no compiler), the driver packages register their module with DKMS in postinst as the real ones.
/// </summary>
[Collection(nameof(DebianBaseCollection))]
public sealed class GpuDriverProviderImageTests(DebianBaseFixture fixture)
{
    /// <summary>The image's kernel: deliberately not the builder's, which is what <c>uname -r</c> says in the sandbox.</summary>
    private const string Kernel = "6.1.0-99-amd64";

    private const string NvidiaVersion = "580.95.05";

    private const string AmdGpuVersion = "6.19.14-2200000";

    /// <summary>CanvOS's toolchain for DKMS (without curl, wget, gnupg: apt-helper and armored keys replace them).</summary>
    private static readonly string[] Toolchain = ["ca-certificates", "build-essential", "gcc", "make", "dkms", "kmod", "libc6-dev", "pkg-config"];

    private static readonly string[] AmdToolchain = ["bc", "bison", "flex", "libelf-dev", "libssl-dev", "dwarves", "cpio", "xz-utils"];

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task NVIDIA_and_AMD_drivers_are_installed_from_the_mirror_and_built_for_the_image_kernel()
    {
        await using var mirror = await FixtureAptRepository.CreateAsync(fixture.Work.Combine("gpu-mirror"));
        var debian = Installed(fixture.Work.Combine("debian")).ToHashSet(StringComparer.Ordinal);
        await PublishAsync(mirror, debian);
        var baseline = debian.Concat([$"linux-image-{Kernel}", "kmod", "dracut"]).ToHashSet(StringComparer.Ordinal);

        // NVIDIA, every optional part on (the container toolkit is off by CanvOS's default).
        var nvidiaRoot = await BuildAsync(mirror, "gpu-nvidia", $"""
            INSTALL_NVIDIA_GPU_DRIVERS=true
            NVIDIA_CUDA_REPO_URL={mirror.Address}/compute/cuda/repos
            NVIDIA_INSTALL_CONTAINER_TOOLKIT=true
            NVIDIA_CONTAINER_TOOLKIT_REPO_URL={mirror.Address}/libnvidia-container

            """);
        Added(nvidiaRoot, baseline).ShouldBe(Expected(baseline,
            [.. Toolchain, $"linux-headers-{Kernel}", "cuda-keyring", "nvidia-headless-580-server-open", "nvidia-dkms-580-server-open", "nvidia-utils-580-server",
             "nvidia-fabricmanager-580", "libnvidia-nscq-580", "nvlsm", "infiniband-diags", "nvidia-imex-580", "nvidia-container-toolkit", "nvidia-container-toolkit-base"]),
            ignoreOrder: true);
        DkmsTargets(nvidiaRoot).ShouldBe([$"install -m nvidia -v {NvidiaVersion} -k {Kernel} --force"]);
        foreach (var module in new[] { "nvidia", "nvidia-uvm", "nvidia-modeset", "nvidia-drm", "nvidia-peermem" })
        {
            File.Exists(Path.Combine(nvidiaRoot, $"lib/modules/{Kernel}/updates/dkms/{module}.ko")).ShouldBeTrue($"{module}.ko was not built for {Kernel}");
        }

        Lines(nvidiaRoot, "etc/modprobe.d/blacklist-nouveau.conf").ShouldBe(["blacklist nouveau", "blacklist lbm-nouveau", "options nouveau modeset=0", "alias nouveau off", "alias lbm-nouveau off"]);
        Lines(nvidiaRoot, "etc/modules-load.d/nvidia.conf").ShouldBe(["nvidia", "nvidia_uvm", "nvidia_modeset"]);
        Lines(nvidiaRoot, "etc/modprobe.d/nvidia.conf").ShouldBe(["options nvidia NVreg_PreserveVideoMemoryAllocations=1"]);
        Lines(nvidiaRoot, "etc/modules-load.d/nvidia-fabricmanager.conf").ShouldBe(["ib_umad"]);
        foreach (var unit in new[] { "nvidia-fabricmanager.service", "nvidia-imex.service", "nvidia-persistenced.service" })
        {
            new FileInfo(Path.Combine(nvidiaRoot, "etc/systemd/system/multi-user.target.wants", unit)).LinkTarget.ShouldBe($"/lib/systemd/system/{unit}");
        }

        // The initramfs was made for the image's kernel after the nouveau drop-in was written (the fixture dracut copies the drop-ins it read).
        File.ReadAllText(Path.Combine(nvidiaRoot, $"boot/initrd-{Kernel}")).ShouldContain("omit_drivers+=\" nouveau lbm-nouveau \"");
        new FileInfo(Path.Combine(nvidiaRoot, "boot/initrd")).LinkTarget.ShouldBe($"initrd-{Kernel}");
        Tools(nvidiaRoot).ShouldContain($"dracut -f /boot/initrd-{Kernel} {Kernel}");
        Tools(nvidiaRoot).ShouldContain($"depmod -a {Kernel}");
        File.ReadAllText(Path.Combine(nvidiaRoot, "etc/apt/sources.list.d/cuda-debian12-x86_64.list"))
            .ShouldBe($"deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] {mirror.Address}/compute/cuda/repos/debian12/x86_64/ /\n");
        File.ReadAllText(Path.Combine(nvidiaRoot, "etc/apt/sources.list.d/nvidia-container-toolkit.list"))
            .ShouldBe($"deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.asc] {mirror.Address}/libnvidia-container/stable/deb/$(ARCH) /\n");
        Directory.EnumerateFileSystemEntries(Path.Combine(nvidiaRoot, "var/lib/apt/lists")).ShouldBeEmpty();

        // AMD: amdgpu-dkms from the repository amdgpu-install configures, amd-smi from the ROCm repository it configures too.
        var amdRoot = await BuildAsync(mirror, "gpu-amd", $"""
            INSTALL_AMD_GPU_DRIVERS=true
            AMDGPU_REPO_URL={mirror.Address}
            AMDGPU_REBUILD_INITRD=true

            """);
        Added(amdRoot, baseline).ShouldBe(Expected(baseline,
            [.. Toolchain, .. AmdToolchain, $"linux-headers-{Kernel}", "amdgpu-install", "amdgpu-dkms", "amdgpu-dkms-firmware", "amd-smi-lib", "libdrm-amdgpu1"]),
            ignoreOrder: true);
        DkmsTargets(amdRoot).ShouldBe([$"install -m amdgpu -v {AmdGpuVersion} -k {Kernel} --force"]);
        File.Exists(Path.Combine(amdRoot, $"lib/modules/{Kernel}/updates/dkms/amdgpu.ko")).ShouldBeTrue();
        Lines(amdRoot, "etc/modules-load.d/amdgpu.conf").ShouldBe(["amdgpu"]);
        Lines(amdRoot, "etc/dkms/framework.conf.d/canvos-no-mok-signing.conf").ShouldBe(["sign_tool=\"\""]);
        var omit = "omit_drivers+=\" amdgpu amdttm amdkcl amd-sched amddrm_ttm_helper amddrm_buddy amddrm_exec amdxcp \"";
        Lines(amdRoot, "etc/dracut.conf.d/98-canvos-amdgpu-omit.conf").ShouldBe([omit]);
        File.ReadAllText(Path.Combine(amdRoot, $"boot/initrd-{Kernel}")).ShouldContain(omit);
        new FileInfo(Path.Combine(amdRoot, "usr/bin/amd-smi")).LinkTarget.ShouldBe("/opt/rocm-7.14.0/bin/amd-smi");
        File.ReadAllText(Path.Combine(amdRoot, "etc/canvos/amdgpu-driver-source")).ShouldBe(
            $"AMDGPU_DRIVER_SOURCE=dkms\nAMDGPU_DRIVER_RELEASE=31.40\nAMDGPU_DKMS_MODULE=amdgpu/{AmdGpuVersion}\nAMDGPU_SMI=yes\nKVER={Kernel}\n");
        File.ReadAllText(Path.Combine(amdRoot, "etc/apt/sources.list.d/amdgpu.list"))
            .ShouldBe($"deb [arch=amd64 signed-by=/etc/apt/keyrings/rocm.gpg] {mirror.Address}/amdgpu/31.40/debian bookworm main\n");
        File.Exists(Path.Combine(amdRoot, "tmp/amdgpu-install.deb")).ShouldBeFalse();

        // AMD with CanvOS's prebuilt artifact: extracted for the image kernel, nothing installed, no DKMS run, no initramfs.
        var artifactRoot = await BuildAsync(mirror, "gpu-amd-artifact", """
            INSTALL_AMD_GPU_DRIVERS=true
            AMDGPU_ARTIFACT_PATH=build/amdgpu-artifact.tar.gz
            AMDGPU_INSTALL_SMI=false

            """, project => WriteArtifact(Path.Combine(project, "build", "amdgpu-artifact.tar.gz")));
        Added(artifactRoot, baseline).ShouldBeEmpty();
        File.ReadAllText(Path.Combine(artifactRoot, $"lib/modules/{Kernel}/updates/dkms/amdgpu.ko")).ShouldBe("prebuilt amdgpu\n");
        File.Exists(Path.Combine(artifactRoot, "lib/firmware/amdgpu/prebuilt.bin")).ShouldBeTrue();
        Tools(artifactRoot).ShouldBe([$"depmod -a {Kernel}"]);
        File.Exists(Path.Combine(artifactRoot, "tmp/edgeforge-amdgpu-artifact.tar.gz")).ShouldBeFalse();
        File.Exists(Path.Combine(artifactRoot, "usr/bin/amd-smi")).ShouldBeFalse();
        new FileInfo(Path.Combine(artifactRoot, "boot/initrd")).Exists.ShouldBeFalse();
        File.ReadAllText(Path.Combine(artifactRoot, "etc/canvos/amdgpu-driver-source")).ShouldBe(
            $"AMDGPU_DRIVER_SOURCE=dkms (artifact)\nAMDGPU_DRIVER_RELEASE=31.40\nAMDGPU_SMI=no\nKVER={Kernel}\n");
        Lines(artifactRoot, "etc/dracut.conf.d/98-canvos-amdgpu-omit.conf").ShouldBe([omit]);

        // The newest amdgpu-install the release's directory lists was fetched (not the older one listed first), and nothing off the mirror.
        mirror.Requests.ShouldContain("/amdgpu-install/31.40/debian/bookworm/amdgpu-install_7.14.70140-1_all.deb");
        mirror.Requests.ShouldNotContain("/amdgpu-install/31.40/debian/bookworm/amdgpu-install_7.14.70100-1_all.deb");
    }

    /// <summary>Builds the provider image of a project on the fixture base whose Dockerfile makes the mirror the only source and installs the image kernel; returns umoci's unpacked root.</summary>
    private async Task<string> BuildAsync(FixtureAptRepository mirror, string name, string arg, Action<string>? prepare = null)
    {
        var project = fixture.Project(name, arg);
        prepare?.Invoke(project);
        File.Copy(mirror.ArmoredKey, Path.Combine(project, "fixture-archive.asc"));
        File.WriteAllText(Path.Combine(project, "Dockerfile"), $"""
            # Add any other image customizations here
            COPY fixture-archive.asc /usr/share/keyrings/edgeforge-fixture-archive.asc
            RUN rm -f /etc/apt/sources.list.d/* && echo "deb [signed-by=/usr/share/keyrings/edgeforge-fixture-archive.asc] {mirror.Address}/debian bookworm main" > /etc/apt/sources.list && apt-get update && apt-get install -y linux-image-{Kernel} dracut && rm -rf /var/lib/apt/lists/*

            """);
        var (plan, _) = DebianBaseFixture.Load(project);
        var log = new EventLog();
        var started = DateTime.UtcNow;

        var report = await fixture.BuildProviderImagesAsync(plan, log);

        // The driver step is a step of its own inside common-layers, and the script's output is its messages.
        var events = log.ToString().Split('\n');
        var step = arg.Contains("NVIDIA", StringComparison.Ordinal) ? "common-layers/nvidia-gpu-drivers" : "common-layers/amd-gpu-drivers";
        events.ShouldContain($"{step} Finished ");
        events.ShouldContain(e => e.StartsWith($"{step} Message ", StringComparison.Ordinal) && e.Contains($"image kernel {Kernel}", StringComparison.Ordinal), log.ToString());
        Console.WriteLine($"{name}: provider image built in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
        return await fixture.UnpackAsync(project, report, name + "-unpacked");
    }

    /// <summary>An artifact as CanvOS's prebuild-amdgpu-artifact.sh tars it (paths from /): the DKMS modules, firmware, the drop-ins.</summary>
    private static void WriteArtifact(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        using var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
        using var tar = new System.Formats.Tar.TarWriter(gzip, System.Formats.Tar.TarEntryFormat.Gnu);
        foreach (var (name, content) in new[]
                 {
                     ($"lib/modules/{Kernel}/updates/dkms/amdgpu.ko", "prebuilt amdgpu\n"),
                     ("lib/firmware/amdgpu/prebuilt.bin", "prebuilt firmware\n"),
                     ("etc/modules-load.d/amdgpu.conf", "amdgpu\n"),
                     ("etc/canvos/amdgpu-driver-source", "AMDGPU_DRIVER_SOURCE=dkms\n"),
                 })
        {
            tar.WriteEntry(new System.Formats.Tar.GnuTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name)
            {
                DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
                Mode = (UnixFileMode)0x1A4,
            });
        }
    }

    /// <summary>What dpkg (not our reader) lists as installed in a root filesystem.</summary>
    private static IEnumerable<string> Installed(string root) =>
        ExternalTool.Output("dpkg-query", "--admindir", Path.Combine(root, "var/lib/dpkg"), "-W", "-f", "${Package} ${db:Status-Status}\n")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Where(f => f[1] == "installed").Select(f => f[0]);

    private static string[] Added(string root, IReadOnlySet<string> baseline) => Installed(root).Where(p => !baseline.Contains(p)).ToArray();

    /// <summary>What a step must have added: the packages it installs, less those the base already had (apt keeps them).</summary>
    private static string[] Expected(IReadOnlySet<string> baseline, string[] installed) => installed.Where(p => !baseline.Contains(p)).ToArray();

    /// <summary>The fixture tools' record of one image: every dkms, depmod and dracut call, in order.</summary>
    private static string[] Tools(string root) => File.ReadAllLines(Path.Combine(root, "var/log/fixture-tools.log"));

    /// <summary>The dkms calls that build something (postinst's <c>add</c> registers only).</summary>
    private static string[] DkmsTargets(string root) =>
        Tools(root).Where(l => l.StartsWith("dkms ", StringComparison.Ordinal) && !l.StartsWith("dkms add ", StringComparison.Ordinal) && !l.StartsWith("dkms status", StringComparison.Ordinal))
            .Select(l => l["dkms ".Length..]).ToArray();

    /// <summary>A drop-in's lines without the comment saying who wrote it.</summary>
    private static string[] Lines(string root, string path) =>
        File.ReadAllLines(Path.Combine(root, path)).Where(l => !l.StartsWith('#')).ToArray();

    /// <summary>The mirror: the distribution with the image kernel and the fixture tools, and each vendor's repositories as the real ones are laid out.</summary>
    /// <remarks>
    /// Distribution packages the Debian base already has are not offered (apt keeps the installed ones, as with a real
    /// mirror); the others are stubs with a version above any real one, so no real package's Conflicts range hits them.
    /// </remarks>
    private static async Task PublishAsync(FixtureAptRepository mirror, IReadOnlySet<string> debian)
    {
        var key = await File.ReadAllTextAsync(mirror.ArmoredKey);
        // The vendors' keyring packages carry their signing key as a binary keyring; these carry the mirror's.
        var keyring = new FixtureFile(await File.ReadAllBytesAsync(mirror.BinaryKey));
        FixturePackage Plain(string name, params string[] depends) => new(name, "99.0") { Depends = depends };
        FixturePackage Unit(string package, string unit, params string[] depends) => new(package)
        {
            Depends = depends,
            Files = new Dictionary<string, FixtureFile> { [$"lib/systemd/system/{unit}"] = $"[Unit]\nDescription=fixture {unit}\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n" },
        };
        FixturePackage DkmsSource(string package, string module, string version, string[] built, params string[] depends) => new(package)
        {
            Depends = depends,
            Files = new Dictionary<string, FixtureFile>
            {
                [$"usr/src/{module}-{version}/dkms.conf"] = $"PACKAGE_NAME=\"{module}\"\nPACKAGE_VERSION=\"{version}\"\n" +
                    string.Concat(built.Select((b, i) => $"BUILT_MODULE_NAME[{i}]=\"{b}\"\nDEST_MODULE_LOCATION[{i}]=\"/updates/dkms\"\n")),
            },
            // As the real driver packages: register the module; what it is built for is the installer's business.
            Postinst = $"#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then dkms add -m {module} -v {version}; fi\n",
        };

        await mirror.AddSuiteAsync("debian", "bookworm",
        [
            .. Toolchain.Where(p => p is not ("dkms" or "kmod")).Concat(AmdToolchain).Concat(["infiniband-diags", "libdrm-amdgpu1"]).Where(p => !debian.Contains(p)).Select(p => Plain(p)),
            new FixturePackage("dkms") { Depends = ["kmod"], Files = new Dictionary<string, FixtureFile> { ["usr/sbin/dkms"] = FixtureFile.Executable(FixtureDkms) } },
            new FixturePackage("kmod") { Files = new Dictionary<string, FixtureFile> { ["usr/sbin/depmod"] = FixtureFile.Executable(FixtureDepmod) } },
            new FixturePackage("dracut") { Files = new Dictionary<string, FixtureFile> { ["usr/bin/dracut"] = FixtureFile.Executable(FixtureDracut) } },
            // As Debian's kernel packages, it depends on kmod: an image with a kernel has depmod.
            new FixturePackage($"linux-image-{Kernel}")
            {
                Depends = ["kmod"],
                Files = new Dictionary<string, FixtureFile>
                {
                    [$"boot/vmlinuz-{Kernel}"] = "fixture kernel\n",
                    [$"lib/modules/{Kernel}/kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko"] = "fixture in-tree amdgpu\n",
                    [$"lib/modules/{Kernel}/kernel/drivers/gpu/drm/nouveau/nouveau.ko"] = "fixture in-tree nouveau\n",
                },
            },
            // The headers leave /lib/modules/KERNEL/build to the installer (the step links it), so a build without them fails.
            new FixturePackage($"linux-headers-{Kernel}") { Files = new Dictionary<string, FixtureFile> { [$"usr/src/linux-headers-{Kernel}/Makefile"] = "# fixture headers\n" } },
        ]);

        // NVIDIA's CUDA repository (flat) with its keyring package, whose source entry names NVIDIA's own host.
        await mirror.AddFlatAsync("compute/cuda/repos/debian12/x86_64",
        [
            new FixturePackage("cuda-keyring", "1.1-1")
            {
                Architecture = "all",
                Files = new Dictionary<string, FixtureFile>
                {
                    ["usr/share/keyrings/cuda-archive-keyring.gpg"] = keyring,
                    ["etc/apt/sources.list.d/cuda-debian12-x86_64.list"] =
                        "deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/ /\n",
                },
            },
            Plain("nvidia-headless-580-server-open", "nvidia-dkms-580-server-open"),
            DkmsSource("nvidia-dkms-580-server-open", "nvidia", NvidiaVersion, ["nvidia", "nvidia-uvm", "nvidia-modeset", "nvidia-drm", "nvidia-peermem"], "dkms"),
            Unit("nvidia-utils-580-server", "nvidia-persistenced.service"),
            Unit("nvidia-fabricmanager-580", "nvidia-fabricmanager.service"),
            Plain("libnvidia-nscq-580"),
            Plain("nvlsm"),
            Unit("nvidia-imex-580", "nvidia-imex.service"),
            // Other branches and the closed modules: a wrong choice shows in the installed set.
            Plain("nvidia-headless-580-server", "nvidia-dkms-580-server-open"),
            Plain("nvidia-headless-570-server-open"),
            Plain("nvidia-utils-570-server"),
        ]);

        // NVIDIA's container toolkit repository: its key, its source list (NVIDIA's host, $(ARCH)), a flat archive per arch.
        mirror.AddText("/libnvidia-container/gpgkey", key);
        mirror.AddText("/libnvidia-container/stable/deb/nvidia-container-toolkit.list", "deb https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /\n");
        await mirror.AddFlatAsync("libnvidia-container/stable/deb/amd64", [Plain("nvidia-container-toolkit", "nvidia-container-toolkit-base"), Plain("nvidia-container-toolkit-base")]);

        // AMD: the release's amdgpu-install directory (an HTML listing, older build first), its package naming repo.radeon.com.
        var installer = await mirror.BuildAsync(new FixturePackage("amdgpu-install", "7.14.70140-1")
        {
            Architecture = "all",
            Files = new Dictionary<string, FixtureFile>
            {
                ["etc/apt/keyrings/rocm.gpg"] = keyring,
                ["etc/apt/sources.list.d/amdgpu.list"] = "deb [arch=amd64 signed-by=/etc/apt/keyrings/rocm.gpg] https://repo.radeon.com/amdgpu/31.40/debian bookworm main\n",
                ["etc/apt/sources.list.d/rocm.list"] = "deb [arch=amd64 signed-by=/etc/apt/keyrings/rocm.gpg] https://repo.radeon.com/rocm/apt/7.14 bookworm main\n",
                ["usr/bin/amdgpu-install"] = FixtureFile.Executable("#!/bin/sh\nexit 0\n"),
            },
        }, Path.Combine(Path.GetDirectoryName(mirror.ArmoredKey)!, "amdgpu-install"));
        mirror.AddFile("/amdgpu-install/31.40/debian/bookworm/amdgpu-install_7.14.70140-1_all.deb", installer);
        mirror.AddText("/amdgpu-install/31.40/debian/bookworm/",
            "<html><body><a href=\"amdgpu-install_7.14.70100-1_all.deb\">amdgpu-install_7.14.70100-1_all.deb</a>\n" +
            "<a href=\"amdgpu-install_7.14.70140-1_all.deb\">amdgpu-install_7.14.70140-1_all.deb</a></body></html>\n");
        await mirror.AddSuiteAsync("amdgpu/31.40/debian", "bookworm",
        [
            DkmsSource("amdgpu-dkms", "amdgpu", AmdGpuVersion, ["amdgpu", "amdttm", "amdkcl", "amdxcp"], "dkms", "amdgpu-dkms-firmware"),
            new FixturePackage("amdgpu-dkms-firmware") { Architecture = "all", Files = new Dictionary<string, FixtureFile> { ["lib/firmware/amdgpu/fixture.bin"] = "fixture firmware\n" } },
        ]);
        await mirror.AddSuiteAsync("rocm/apt/7.14", "bookworm",
        [
            new FixturePackage("amd-smi-lib") { Files = new Dictionary<string, FixtureFile> { ["opt/rocm-7.14.0/bin/amd-smi"] = FixtureFile.Executable("#!/bin/sh\necho fixture amd-smi\n") } },
        ]);
    }

    /// <summary>
    /// dkms as far as the steps use it: <c>add</c> registers a module's source, <c>build</c>/<c>install</c> need the
    /// kernel's headers at <c>/lib/modules/K/build</c> and "build" the modules dkms.conf names into
    /// <c>updates/dkms</c>, <c>status</c> prints dkms 3's format; the kernel defaults to <c>uname -r</c> as dkms's does.
    /// </summary>
    private const string FixtureDkms = """
        #!/bin/sh
        set -e
        command=$1; shift
        echo "dkms $command $*" >> /var/log/fixture-tools.log
        module= version= kernel=$(uname -r)
        while [ $# -gt 0 ]; do
          case "$1" in
            -m) module=$2; shift 2 ;;
            -v) version=$2; shift 2 ;;
            -k) kernel=$2; shift 2 ;;
            *) shift ;;
          esac
        done
        install_module() {
          [ -f "/lib/modules/$kernel/build/Makefile" ] || { echo "fixture dkms: no headers for kernel $kernel at /lib/modules/$kernel/build" >&2; exit 10; }
          mkdir -p "/lib/modules/$kernel/updates/dkms"
          for name in $(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"$/\1/p' "/usr/src/$1-$2/dkms.conf"); do
            echo "fixture $name $2 for $kernel" > "/lib/modules/$kernel/updates/dkms/$name.ko"
          done
          echo "$kernel" >> "/var/lib/dkms/$1/$2/installed"
        }
        case "$command" in
          add) mkdir -p "/var/lib/dkms/$module/$version" ;;
          build|install) [ -d "/var/lib/dkms/$module/$version" ] || { echo "fixture dkms: $module/$version is not added" >&2; exit 3; }; install_module "$module" "$version" ;;
          autoinstall) for dir in /var/lib/dkms/*/*/; do dir=${dir%/}; install_module "$(basename "$(dirname "$dir")")" "$(basename "$dir")"; done ;;
          status)
            for dir in /var/lib/dkms/*/*/; do
              [ -d "$dir" ] || continue
              dir=${dir%/}; m=$(basename "$(dirname "$dir")"); v=$(basename "$dir")
              if [ -f "$dir/installed" ]; then sort -u "$dir/installed" | while read -r k; do echo "$m/$v, $k, x86_64: installed"; done; else echo "$m/$v: added"; fi
            done ;;
          *) echo "fixture dkms: $command is not part of the fixture" >&2; exit 2 ;;
        esac
        """;

    private const string FixtureDepmod = """
        #!/bin/sh
        echo "depmod $*" >> /var/log/fixture-tools.log
        for kernel in "$@"; do
          case "$kernel" in -*) continue ;; esac
          (cd "/lib/modules/$kernel" && find . -name '*.ko*' | sed 's#^\./##' | sort) > "/lib/modules/$kernel/modules.dep"
        done
        """;

    /// <summary>dracut -f OUTPUT KERNEL: writes an "initramfs" holding the kernel's name and the drop-ins dracut would read.</summary>
    private const string FixtureDracut = """
        #!/bin/sh
        echo "dracut $*" >> /var/log/fixture-tools.log
        [ "$1" = -f ] && shift
        { echo "fixture initramfs for $2"; cat /etc/dracut.conf.d/*.conf 2>/dev/null || true; } > "$1"
        """;
}
