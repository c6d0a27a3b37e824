using EdgeForge.Configuration.Arguments;

namespace EdgeForge.Build.Composition;

/// <summary>
/// CanvOS's GPU driver blocks of base-image (Earthfile, after the kernel is final: <c>install-nvidia-drivers.sh</c> with
/// <c>INSTALL_NVIDIA_GPU_DRIVERS=true</c>, <c>install-amdgpu-drivers.sh</c> with <c>INSTALL_AMD_GPU_DRIVERS=true</c>), each
/// as one shell script for the RUN sandbox of an apt system. The kernel the modules are for is the image's newest module
/// tree, never <c>uname -r</c> (the builder's kernel inside the sandbox): its headers are installed, DKMS is told that
/// kernel, and the modules are looked for in its tree afterwards.
/// </summary>
/// <remarks>
/// Where CanvOS's scripts carry on after a failed optional part (fabric manager, IMEX on a branch that has it, the
/// container toolkit, amd-smi, the initramfs), these fail the build: the key asked for it, and an image without it
/// would be an input silently ignored. Vendor repositories are reached with apt's own downloader
/// (<c>apt-helper download-file</c>: the build's proxies and the trust store of <c>certs/</c>, no curl, wget or gpg
/// needed in the image) and trusted through the vendor's keyring package or key file, re-pointed at the configured
/// base URL so a mirror serves them (docs/decisions.md).
/// </remarks>
public static class GpuDrivers
{
    /// <summary>Where the AMD step expects <c>AMDGPU_ARTIFACT_PATH</c> in the root filesystem; the script removes it.</summary>
    public const string AmdGpuArtifactInRootfs = "/tmp/edgeforge-amdgpu-artifact.tar.gz";

    /// <summary>The vendor bases the keyring packages' source entries name; re-pointed at the configured base.</summary>
    public const string NvidiaCudaDefaultUrl = "https://developer.download.nvidia.com/compute/cuda/repos";

    public const string NvidiaContainerToolkitDefaultUrl = "https://nvidia.github.io/libnvidia-container";

    public const string AmdRepositoryDefaultUrl = "https://repo.radeon.com";

    /// <summary>What DKMS and the module builds need (CanvOS's toolchain less curl, wget and gnupg, which apt-helper and armored keys replace).</summary>
    private const string Toolchain = "ca-certificates build-essential gcc make dkms kmod libc6-dev pkg-config";

    /// <summary>
    /// What AMD's amdgpu-dkms configure and Kbuild need besides <see cref="Toolchain"/> (CanvOS's list). Its
    /// <c>initramfs-tools</c> is left out: on a dracut image (Kairos) apt would remove dracut for it.
    /// </summary>
    private const string AmdToolchain = "bc bison flex libelf-dev libssl-dev dwarves cpio xz-utils";

    /// <summary>The names of the steps inside common-layers (<c>common-layers/nvidia-gpu-drivers</c>) progress displays show.</summary>
    public const string NvidiaStepName = "nvidia-gpu-drivers";

    public const string AmdStepName = "amd-gpu-drivers";

    /// <summary>A short title of the NVIDIA step for history and logs.</summary>
    public static string NvidiaTitle(NvidiaDriverSettings nvidia) =>
        $"edgeforge: INSTALL_NVIDIA_GPU_DRIVERS=true — NVIDIA driver {nvidia.Branch} ({nvidia.Type.ToString().ToLowerInvariant()}) with its DKMS modules for the image's kernel (CanvOS install-nvidia-drivers.sh)";

    /// <summary>A short title of the AMD step for history and logs.</summary>
    public static string AmdTitle(AmdGpuDriverSettings amd) =>
        $"edgeforge: INSTALL_AMD_GPU_DRIVERS=true — amdgpu {(amd.Source == AmdGpuDriverSource.Inbox ? "in-tree module" : amd.ArtifactPath is null ? $"amdgpu-dkms {amd.Release} built for the image's kernel" : $"prebuilt from {amd.ArtifactPath}")} (CanvOS install-amdgpu-drivers.sh)";

    /// <summary>The NVIDIA script (CanvOS's <c>install-nvidia-drivers.sh</c> steps 1–13).</summary>
    public static string NvidiaScript(BuildSettings settings)
    {
        var nvidia = settings.NvidiaDrivers ?? throw new InvalidOperationException("INSTALL_NVIDIA_GPU_DRIVERS is false");
        var branch = nvidia.Branch;
        var open = nvidia.Type == NvidiaDriverType.Open ? "-open" : "";
        var lines = new List<string>
        {
            Prelude("nvidia"),
            ImageKernel,
            "apt-get update",
            $"apt-get install -y --no-install-recommends {Toolchain}",
            Headers(settings),
        };

        if (nvidia.UseCudaRepository)
        {
            // The CUDA repository of the image's distribution (ubuntu2204, debian12): CanvOS's tag, from os-release.
            lines.Add(". /etc/os-release");
            lines.Add($"cuda={Quote(nvidia.CudaRepositoryUrl)}/\"$ID$(echo \"$VERSION_ID\" | tr -d .)\"/x86_64");
            lines.Add("fetch \"$cuda/cuda-keyring_1.1-1_all.deb\" /tmp/cuda-keyring.deb NVIDIA_CUDA_REPO_URL");
            lines.Add("apt-get install -y /tmp/cuda-keyring.deb");
            lines.Add("rm -f /tmp/cuda-keyring.deb");
            lines.Add($"repoint cuda-keyring {Quote(SedReplace(NvidiaCudaDefaultUrl, nvidia.CudaRepositoryUrl))} {Quote(nvidia.CudaRepositoryUrl)}");
            lines.Add("apt-get update");
        }

        // Headless server packages; the non-server names where the sources have no -server ones (CanvOS's fallback).
        lines.Add($"headless=nvidia-headless-{branch}-server{open} utils=nvidia-utils-{branch}-server");
        lines.Add($"if ! offered \"$headless\" || ! offered \"$utils\"; then headless=nvidia-headless-{branch}{open} utils=nvidia-utils-{branch}; fi");
        lines.Add($"offered \"$headless\" && offered \"$utils\" || fail \"the apt sources offer neither nvidia-headless-{branch}-server{open} nor nvidia-headless-{branch}{open} (with its nvidia-utils): is NVIDIA_DRIVER_BRANCH={branch} published for this OS? Check with: apt-cache search 'nvidia-headless-.*-server'\"");
        lines.Add("say \"installing $headless $utils\"");
        lines.Add("apt-get install -y --no-install-recommends \"$headless\" \"$utils\"");

        // The packages' postinst builds for whatever kernel DKMS picks; build and install again for the image's kernel.
        lines.Add(DkmsForKernel("nvidia"));
        lines.Add("find \"/lib/modules/$kernel\" -name 'nvidia*.ko*' | grep -q . || fail \"DKMS made no nvidia*.ko under /lib/modules/$kernel: check that linux-headers-$kernel match the image's kernel\"");

        if (nvidia.InstallFabricManager)
        {
            lines.Add($"apt-get install -y --no-install-recommends nvidia-fabricmanager-{branch} libnvidia-nscq-{branch} nvlsm infiniband-diags || " +
                      $"fail \"NVIDIA_INSTALL_FABRICMANAGER=true, but nvidia-fabricmanager-{branch}, libnvidia-nscq-{branch}, nvlsm or infiniband-diags cannot be installed: set NVIDIA_INSTALL_FABRICMANAGER=false if no host has NVSwitch\"");
            lines.Add("enable_unit nvidia-fabricmanager.service");
            // The fabric manager's precheck on NVL5+ systems needs ib_umad loaded before it starts.
            lines.Add(WriteFile(NvidiaScriptName, "/etc/modules-load.d/nvidia-fabricmanager.conf", "nvidia-fabricmanager-start.sh --mode precheck needs ib_umad on NVL5+ systems", "ib_umad"));
        }

        if (nvidia.ImexInstalled)
        {
            lines.Add($"apt-get install -y --no-install-recommends nvidia-imex-{branch} || fail \"NVIDIA_INSTALL_IMEX=true, but nvidia-imex-{branch} cannot be installed: set NVIDIA_INSTALL_IMEX=false\"");
            lines.Add("enable_unit nvidia-imex.service");
        }

        if (nvidia.InstallContainerToolkit)
        {
            lines.Add($"toolkit={Quote(nvidia.ContainerToolkitRepositoryUrl)}");
            lines.Add("mkdir -p /usr/share/keyrings");
            // An armored key named .asc is read by apt itself (signed-by), so the image needs no gpg to dearmor it.
            lines.Add("fetch \"$toolkit/gpgkey\" /usr/share/keyrings/nvidia-container-toolkit-keyring.asc NVIDIA_CONTAINER_TOOLKIT_REPO_URL");
            lines.Add("fetch \"$toolkit/stable/deb/nvidia-container-toolkit.list\" /tmp/nvidia-container-toolkit.list NVIDIA_CONTAINER_TOOLKIT_REPO_URL");
            lines.Add($"sed -e 's#^deb #deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.asc] #' -e {Quote(SedReplace(NvidiaContainerToolkitDefaultUrl, nvidia.ContainerToolkitRepositoryUrl))} " +
                      "/tmp/nvidia-container-toolkit.list > /etc/apt/sources.list.d/nvidia-container-toolkit.list");
            lines.Add("rm -f /tmp/nvidia-container-toolkit.list");
            lines.Add("grep -q '^deb ' /etc/apt/sources.list.d/nvidia-container-toolkit.list || fail \"$toolkit/stable/deb/nvidia-container-toolkit.list has no deb line\"");
            lines.Add("apt-get update");
            lines.Add("apt-get install -y --no-install-recommends nvidia-container-toolkit");
        }

        lines.Add(WriteFile(NvidiaScriptName, "/etc/modprobe.d/blacklist-nouveau.conf", "nouveau must not claim the GPU before nvidia does",
            "blacklist nouveau", "blacklist lbm-nouveau", "options nouveau modeset=0", "alias nouveau off", "alias lbm-nouveau off"));
        // nvidia_drm is left to load on demand: taking KMS on a headless GPU node can stall early boot.
        lines.Add(WriteFile(NvidiaScriptName, "/etc/modules-load.d/nvidia.conf", "the driver is loaded at boot, ready for the GPU Operator (driver.enabled=false)",
            "nvidia", "nvidia_uvm", "nvidia_modeset"));
        lines.Add(WriteFile(NvidiaScriptName, "/etc/modprobe.d/nvidia.conf", "data-center option of the driver", "options nvidia NVreg_PreserveVideoMemoryAllocations=1"));
        lines.Add("if unit_file nvidia-persistenced.service >/dev/null; then enable_unit nvidia-persistenced.service; else say 'the driver packages ship no nvidia-persistenced.service: not enabled'; fi");
        lines.Add("depmod -a \"$kernel\"");
        // Every later dracut run (this one, and any the image makes) leaves nouveau out and carries the blacklist.
        lines.Add(WriteFile(NvidiaScriptName, "/etc/dracut.conf.d/95-blacklist-nouveau.conf", "keep nouveau out of the initramfs and honour its blacklist there",
            "omit_drivers+=\" nouveau lbm-nouveau \"", "install_items+=\" /etc/modprobe.d/blacklist-nouveau.conf \""));
        if (nvidia.RebuildInitrd)
        {
            lines.Add(RebuildInitrd("NVIDIA_REBUILD_INITRD"));
        }

        lines.Add(Cleanup);
        lines.Add($"say \"NVIDIA driver {branch} ({nvidia.Type.ToString().ToLowerInvariant()}) installed for kernel $kernel; install the GPU Operator with driver.enabled=false" +
                  (nvidia.InstallContainerToolkit ? " and toolkit.enabled=false" : "") + "\"");
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>The AMD script (CanvOS's <c>install-amdgpu-drivers.sh</c>: inbox, prebuilt artifact, or amdgpu-dkms in the image).</summary>
    public static string AmdScript(BuildSettings settings)
    {
        var amd = settings.AmdGpuDrivers ?? throw new InvalidOperationException("INSTALL_AMD_GPU_DRIVERS is false");
        var lines = new List<string>
        {
            Prelude("amdgpu"),
            ImageKernel,
            ". /etc/os-release",
            "codename=${VERSION_CODENAME:-}",
            "[ -n \"$codename\" ] || fail \"the image's /etc/os-release names no VERSION_CODENAME: AMD publishes per release codename\"",
            "mkdir -p /etc/canvos",
            "smi=no",
        };

        string marker;
        switch (amd)
        {
            case { Source: AmdGpuDriverSource.Inbox }:
                lines.Add("find \"/lib/modules/$kernel\" -path '*/kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko*' | grep -q . || " +
                          "fail \"AMDGPU_DRIVER_SOURCE=inbox, but kernel $kernel has no in-tree amdgpu module: use AMDGPU_DRIVER_SOURCE=dkms or an image kernel with amdgpu\"");
                marker = "AMDGPU_DRIVER_SOURCE=inbox\\nAMDGPU_SMI=%s\\nKVER=%s\\n' \"$smi\" \"$kernel\"";
                break;
            case { ArtifactPath: not null }:
                lines.Add($"[ -s {AmdGpuArtifactInRootfs} ] || fail 'the AMDGPU_ARTIFACT_PATH artifact did not reach the build'");
                lines.Add($"tar -xzf {AmdGpuArtifactInRootfs} -C /");
                lines.Add($"rm -f {AmdGpuArtifactInRootfs}");
                lines.Add("find \"/lib/modules/$kernel/updates\" -name 'amdgpu.ko*' 2>/dev/null | grep -q . || " +
                          "fail \"AMDGPU_ARTIFACT_PATH holds no amdgpu.ko for the image's kernel $kernel (it has: $(ls -d /lib/modules/*/updates 2>/dev/null | cut -d/ -f4 | tr '\\n' ' ')): prebuild it against this BASE_IMAGE\"");
                marker = $"AMDGPU_DRIVER_SOURCE=dkms (artifact)\\nAMDGPU_DRIVER_RELEASE=%s\\nAMDGPU_SMI=%s\\nKVER=%s\\n' {Quote(amd.Release)} \"$smi\" \"$kernel\"";
                break;
            default:
                lines.Add("apt-get update");
                lines.Add($"apt-get install -y --no-install-recommends {Toolchain} {AmdToolchain}");
                lines.Add(Headers(settings));
                // Helpers amdgpu depends on; Ubuntu splits them into linux-modules-extra (Debian has no such package).
                lines.Add("if offered \"linux-modules-extra-$kernel\"; then apt-get install -y \"linux-modules-extra-$kernel\"; else say \"no linux-modules-extra-$kernel in the sources\"; fi");
                lines.Add($"installer={Quote(amd.RepositoryUrl)}/amdgpu-install/{Quote(amd.Release)}/\"$ID/$codename\"");
                lines.Add("fetch \"$installer/\" /tmp/amdgpu-install.html AMDGPU_REPO_URL");
                // The package's name carries AMD's build number: the newest one the release's directory lists.
                lines.Add("deb=$(grep -oE 'amdgpu-install_[0-9A-Za-z._-]+_all\\.deb' /tmp/amdgpu-install.html | sort -uV | tail -n 1 || true)");
                lines.Add("rm -f /tmp/amdgpu-install.html");
                lines.Add($"[ -n \"$deb\" ] || fail \"$installer/ lists no amdgpu-install package: is AMDGPU_DRIVER_RELEASE={amd.Release} published for $ID $codename?\"");
                lines.Add("fetch \"$installer/$deb\" /tmp/amdgpu-install.deb AMDGPU_REPO_URL");
                lines.Add("apt-get install -y /tmp/amdgpu-install.deb");
                lines.Add("rm -f /tmp/amdgpu-install.deb");
                lines.Add($"repoint amdgpu-install {Quote(SedReplace(AmdRepositoryDefaultUrl, amd.RepositoryUrl))} {Quote(amd.RepositoryUrl)}");
                lines.Add("apt-get update");
                lines.Add(NoModuleSigning);
                lines.Add($"apt-get install -y --no-install-recommends amdgpu-dkms amdgpu-dkms-firmware || " +
                          $"{{ tail -n 60 /var/lib/dkms/amdgpu/*/build/make.log 2>/dev/null || true; fail \"amdgpu-dkms of release {amd.Release} did not build for kernel $kernel: choose an AMDGPU_DRIVER_RELEASE that supports it, or AMDGPU_DRIVER_SOURCE=inbox\"; }}");
                lines.Add(DkmsForKernel("amdgpu"));
                lines.Add("find \"/lib/modules/$kernel/updates\" -name 'amdgpu.ko*' 2>/dev/null | grep -q . || fail \"DKMS made no amdgpu.ko under /lib/modules/$kernel/updates (the in-tree module does not count with AMDGPU_DRIVER_SOURCE=dkms)\"");
                lines.Add("dkms status | grep -E \"^amdgpu[/,][^,]*,[[:space:]]*$kernel,\" | grep -q ': installed' || fail \"dkms does not list amdgpu as installed for $kernel\"");
                marker = $"AMDGPU_DRIVER_SOURCE=dkms\\nAMDGPU_DRIVER_RELEASE=%s\\nAMDGPU_DKMS_MODULE=%s\\nAMDGPU_SMI=%s\\nKVER=%s\\n' {Quote(amd.Release)} \"$(dkms_modules amdgpu | head -n 1 | tr ' ' /)\" \"$smi\" \"$kernel\"";
                break;
        }

        lines.Add(WriteFile(AmdScriptName, "/etc/modules-load.d/amdgpu.conf", "amdgpu is loaded at boot, ready for the AMD GPU Operator (driver.enable=false)", "amdgpu"));
        // The inbox and artifact paths install no toolchain: the image's own kmod must index the modules.
        lines.Add("command -v depmod >/dev/null || fail \"the image has no depmod (package kmod): the amdgpu modules could not be found at boot\"");
        lines.Add("depmod -a \"$kernel\"");
        // CanvOS: amdgpu stays out of any initramfs — on multi-GPU hosts its udev events outlast dracut's initqueue
        // timeout; it is not needed to mount the root filesystem and loads after switch-root.
        lines.Add(WriteFile(AmdScriptName, "/etc/dracut.conf.d/98-canvos-amdgpu-omit.conf", "keep amdgpu and its DKMS helpers out of the initramfs",
            "omit_drivers+=\" amdgpu amdttm amdkcl amd-sched amddrm_ttm_helper amddrm_buddy amddrm_exec amdxcp \""));
        if (amd.RebuildInitrd)
        {
            lines.Add(RebuildInitrd("AMDGPU_REBUILD_INITRD"));
        }

        if (amd.InstallSmi)
        {
            lines.Add(AmdSmi(amd));
        }

        lines.Add("printf '" + marker + " > /etc/canvos/amdgpu-driver-source");
        lines.Add(Cleanup);
        lines.Add("say \"amdgpu ready for kernel $kernel; install the AMD GPU Operator with driver.enable=false\"");
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>
    /// amd-smi (CanvOS's <c>install_amd_smi</c>): <c>amdrocm-amdsmi</c> or <c>amd-smi-lib</c> from the sources already
    /// configured, else AMD's current ROCm repository, else the legacy one; with <c>libdrm-amdgpu1</c>, which amd-smi
    /// opens at run time; linked into <c>/usr/bin</c>.
    /// </summary>
    private static string AmdSmi(AmdGpuDriverSettings amd) => string.Join("\n",
        "apt-get update",
        "pick_smi() { for candidate in amdrocm-amdsmi amd-smi-lib; do if offered \"$candidate\"; then smi_package=$candidate; return 0; fi; done; return 1; }",
        "smi_package=",
        // A repository that fails (unreachable, no amd-smi) is removed again, so later apt runs do not trip on it.
        "try_rocm() { mkdir -p /etc/apt/keyrings; fetch \"$1\" /etc/apt/keyrings/rocm.asc \"$3\" && " +
        "echo \"deb [arch=amd64 signed-by=/etc/apt/keyrings/rocm.asc] $2\" > /etc/apt/sources.list.d/rocm.list && apt-get update && pick_smi || " +
        "{ rm -f /etc/apt/sources.list.d/rocm.list /etc/apt/keyrings/rocm.asc; return 1; }; }",
        $"rocm={Quote(amd.RocmRepositoryUrl)}",
        $"radeon={Quote(amd.RepositoryUrl)}",
        "pick_smi || ( try_rocm \"$rocm/gpg/rocm.gpg\" \"$rocm/ubuntu$(echo \"$VERSION_ID\" | tr -d .) stable main\" AMDGPU_ROCM_REPO_URL ) || " +
        "( try_rocm \"$radeon/rocm/rocm.gpg.key\" \"$radeon/rocm/apt/latest $codename main\" AMDGPU_REPO_URL ) || " +
        "fail \"AMDGPU_INSTALL_SMI=true, but no amd-smi package (amdrocm-amdsmi, amd-smi-lib) in the configured sources, $rocm or $radeon/rocm/apt/latest: set AMDGPU_INSTALL_SMI=false\"",
        // The subshells above configured the source but could not set the variable: pick again in this shell.
        "[ -n \"$smi_package\" ] || pick_smi",
        "apt-get install -y --no-install-recommends \"$smi_package\" libdrm-amdgpu1",
        "smi_bin=$(ls /opt/rocm*/core-*/bin/amd-smi /opt/rocm*/bin/amd-smi 2>/dev/null | sort -V | tail -n 1 || true)",
        "[ -n \"$smi_bin\" ] || fail \"$smi_package installed no amd-smi under /opt/rocm*\"",
        "ln -sf \"$smi_bin\" /usr/bin/amd-smi",
        "smi=yes");

    /// <summary>Shell helpers both scripts use: offline unit enabling (<see cref="OfflineSystemd"/>), messages, failing with a reason, apt's downloader, offers, source re-pointing.</summary>
    private static string Prelude(string name) => OfflineSystemd.Functions + "\n" + $$"""
        set -eu
        export DEBIAN_FRONTEND=noninteractive
        say() { echo "[edgeforge {{name}}] $*"; }
        fail() { echo "[edgeforge {{name}}] error: $*" >&2; exit 1; }
        offered() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
        fetch() { [ -x /usr/lib/apt/apt-helper ] || fail "the image has no /usr/lib/apt/apt-helper to download $1"; /usr/lib/apt/apt-helper download-file "$1" "$2" || fail "could not download $1: is $3 right, and reachable from the build?"; }
        repoint() { lists=$(dpkg -L "$1" | grep -E '^/etc/apt/sources\.list\.d/[^/]+\.(list|sources)$' || true); [ -n "$lists" ] || fail "$1 installed no apt source"; for list in $lists; do sed -i "$2" "$list"; grep -q -F "$3" "$list" || fail "$list does not name $3 after re-pointing"; done; }
        dkms_modules() { dkms status 2>/dev/null | sed -n "s/^\($1[^,/: ]*\)[,/] *\([^,: ]*\).*/\1 \2/p" | sort -u; }
        """;

    /// <summary>The image's kernel into <c>$kernel</c>: its newest module tree (CanvOS's rule), not the builder's <c>uname -r</c>.</summary>
    private const string ImageKernel = """
        kernel=$(printf '%s\n' /lib/modules/* | xargs -n1 basename | sort -V | tail -n 1)
        [ -d "/lib/modules/$kernel" ] || fail "the image has no kernel under /lib/modules: there is nothing to build driver modules for"
        say "image kernel $kernel (the builder runs $(uname -r), which is not the target)"
        """;

    /// <summary>The image kernel's headers (unless present) and the <c>build</c> link DKMS looks for them by.</summary>
    private static string Headers(BuildSettings settings) =>
        $"if [ ! -d \"/usr/src/linux-headers-$kernel\" ]; then {UpdateKernel.HeadersInstall(settings)} || fail \"no linux-headers-$kernel in the apt sources: DKMS cannot build for the image's kernel without them\"; fi\n" +
        "[ -e \"/lib/modules/$kernel/build\" ] || ln -s \"/usr/src/linux-headers-$kernel\" \"/lib/modules/$kernel/build\"\n" +
        "[ -d \"/lib/modules/$kernel/build/\" ] || fail \"/lib/modules/$kernel/build leads to no headers\"";

    /// <summary>Every DKMS module named <paramref name="prefix"/>* built and installed for <c>$kernel</c> (both dkms 2 and 3 status formats).</summary>
    private static string DkmsForKernel(string prefix) => $$"""
        command -v dkms >/dev/null || fail "dkms is not installed"
        dkms_modules {{prefix}} > /tmp/edgeforge-dkms-modules
        [ -s /tmp/edgeforge-dkms-modules ] || fail "the driver packages registered no {{prefix}} module with DKMS"
        while read -r module version; do say "dkms install $module/$version -k $kernel"; dkms install -m "$module" -v "$version" -k "$kernel" --force || fail "DKMS could not build $module/$version for kernel $kernel"; done < /tmp/edgeforge-dkms-modules
        rm -f /tmp/edgeforge-dkms-modules
        """;

    /// <summary>
    /// DKMS signs modules with a machine owner key through mokutil, which needs EFI variables a build has not: an
    /// empty <c>sign_tool</c> skips signing (so the modules load only without enforced Secure Boot, as in CanvOS).
    /// </summary>
    private static string NoModuleSigning =>
        WriteFile(AmdScriptName, "/etc/dkms/framework.conf.d/canvos-no-mok-signing.conf", "no module signing: a build has no EFI variables for mokutil", "sign_tool=\"\"");

    /// <summary>dracut (Kairos images), else update-initramfs, for <c>$kernel</c>; an image with neither cannot do what the key asks.</summary>
    private static string RebuildInitrd(string key) =>
        "if command -v dracut >/dev/null; then say \"dracut for $kernel\"; dracut -f \"/boot/initrd-$kernel\" \"$kernel\"; ln -sf \"initrd-$kernel\" /boot/initrd; " +
        "elif command -v update-initramfs >/dev/null; then update-initramfs -u -k \"$kernel\"; " +
        $"else fail \"{key}=true, but the image has neither dracut nor update-initramfs: set {key}=false\"; fi";

    private const string Cleanup = "apt-get clean\nrm -rf /var/lib/apt/lists/*";

    /// <summary>A configuration file the image gets: a comment saying who wrote it and why, then its lines.</summary>
    private static string WriteFile(string script, string path, string why, params string[] content) =>
        $"mkdir -p {Path.GetDirectoryName(path)} && printf '%s\\n' {Quote($"# edgeforge (as CanvOS's {script}): {why}")} " +
        string.Join(' ', content.Select(Quote)) + $" > {path}";

    private const string NvidiaScriptName = "install-nvidia-drivers.sh";

    private const string AmdScriptName = "install-amdgpu-drivers.sh";

    /// <summary>A sed substitution of one URL base by another (the URLs are validated: no '#', quotes or whitespace).</summary>
    private static string SedReplace(string from, string to) =>
        $"s#{from.Replace(".", "\\.", StringComparison.Ordinal)}#{to.Replace("&", "\\&", StringComparison.Ordinal)}#g";

    /// <summary>Single-quoted for sh.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
