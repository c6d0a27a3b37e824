namespace EdgeForge.Configuration.Arguments;

public enum BuildArgumentOrigin
{
    /// <summary>A key CanvOS defines, with the same meaning here.</summary>
    CanvOS,

    /// <summary>A key only EdgeForge reads.</summary>
    EdgeForge,

    /// <summary>A CanvOS key EdgeForge recognises (so it is never reported as a typo) but does not act on.</summary>
    CanvOSIgnored,

    /// <summary>
    /// An ARG of CanvOS's Earthfile that is plumbing of its own targets (tool images, Go versions, lowercase proxy
    /// copies), not a build option: the Earthfile reader passes it silently, and a <c>.arg</c> line setting it is ignored.
    /// </summary>
    CanvOSInternal,
}

/// <summary>One <c>.arg</c> key: its default, what it accepts and what it means. The docs' key reference is generated from these.</summary>
public sealed record BuildArgumentDefinition(
    string Key,
    string Default,
    string Allowed,
    string Description,
    BuildArgumentOrigin Origin = BuildArgumentOrigin.CanvOS)
{
    /// <summary>
    /// The CanvOS feature this key only applies to, when this version does not build that feature: setting the key in
    /// <c>.arg</c>, the environment or on the command line is then a warning naming the feature, so it is never silently
    /// accepted. Null for keys that act on what is built.
    /// </summary>
    public string? OnlyFor { get; init; }

    /// <summary>
    /// The value used when neither a source nor the Earthfile sets the key, with <c>$NAME</c> references expanded late;
    /// null when <see cref="Default"/> is a description (such as "(required)") rather than a value.
    /// </summary>
    public string? BuiltInValue => Default.StartsWith('(') ? null : Default;

    /// <summary>
    /// For an <see cref="OnlyFor"/> key whose <c>true</c> would change what CanvOS builds (<c>IS_MAAS</c>): <c>true</c>
    /// is an error, <c>false</c> (what is built anyway) passes.
    /// </summary>
    public bool RefusedWhenTrue { get; init; }

    /// <summary>False for names too generic to take from the environment (a shell's <c>DEBUG=1</c> is not a build option).</summary>
    public bool ReadFromEnvironment { get; init; } = true;

    /// <summary>
    /// Why a recognised CanvOS key has no use here although its feature is built (edgeforge writes the ISO without
    /// CanvOS's osbuilder image): setting it is a warning saying so. Null for keys that act, or whose feature is not built.
    /// </summary>
    public string? UnusedBecause { get; init; }

    /// <summary>
    /// The boolean key that switches on the feature this key configures (<c>IS_UKI</c> for <c>CMDLINE</c>): setting this
    /// key while that one is false is a warning, since it then has no effect.
    /// </summary>
    public string? OnlyWith { get; init; }

    /// <summary>
    /// A key CanvOS only passes to the project's Dockerfile as a build argument: it acts only when the Dockerfile's
    /// customisations declare <c>ARG KEY</c>, and setting it otherwise is a warning.
    /// </summary>
    public bool DockerfileOnly { get; init; }
}

/// <summary>Every <c>.arg</c> key EdgeForge knows (EDGEFORGE.md §3).</summary>
public static class BuildArgumentCatalog
{
    /// <summary>The agent version EdgeForge builds when <c>PE_VERSION</c> is not set.</summary>
    public const string PinnedAgentVersion = "v4.10.0-rc.2";

    /// <summary>CanvOS's default <c>SPECTRO_PUB_REPO</c>; the FIPS rule swaps exactly this value for <see cref="FipsPubRepo"/>.</summary>
    public const string DefaultPubRepo = "us-docker.pkg.dev/palette-images";

    /// <summary>The repository CanvOS's Earthfile switches to when <c>FIPS_ENABLED=true</c> and <c>SPECTRO_PUB_REPO</c> is the default.</summary>
    public const string FipsPubRepo = "us-docker.pkg.dev/palette-images-fips";

    public const string DefaultEdgeCustomConfig = ".edge-custom-config.yaml";

    public static IReadOnlyList<BuildArgumentDefinition> All { get; } =
    [
        new("CUSTOM_TAG", "demo", "lowercase letters, digits, `-`, `_`, `.`; may be empty",
            "Suffix of every provider image tag. Empty: the tag ends at the agent version."),
        new("IMAGE_REGISTRY", "(required)", "`host[:port][/namespace]`, no scheme, DNS rules (no `_` in the host)",
            "Registry (and namespace) the provider images are named after and pushed to."),
        new("OS_DISTRIBUTION", "ubuntu", "`ubuntu`, `opensuse-leap` (default base images); `rhel`, `sles` or any other name with `BASE_IMAGE`",
            "Operating system of the provider images and the installer."),
        new("IMAGE_REPO", "$OS_DISTRIBUTION", "an OCI repository path", "Repository name of the provider images."),
        new("OS_VERSION", "22.04", "Ubuntu: `20`, `22`, `24` (→ `.04`), `20.04`, `22.04`, `24.04`; openSUSE Leap: `15.6`; other OSes: free text",
            "Operating system version; selects the default base image."),
        new("K8S_DISTRIBUTION", "k3s", "`k3s`, `rke2`, `kubeadm`, `kubeadm-fips`, `nodeadm`, `canonical` (tech preview)",
            "Kubernetes distribution of the provider images."),
        new("K8S_VERSION", "(all versions of the distribution)", "`x.y.z` listed for the distribution in `k8s_version.json`",
            "The one Kubernetes version to build. Unset: every version listed for `K8S_DISTRIBUTION`."),
        new("ISO_NAME", "palette-edge-installer", "lowercase letters, digits, `-`, `_`",
            "File name of the installer ISO, without `.iso`. CanvOS's Earthfile sets `installer`, which applies whenever the project has its Earthfile; the built-in value is for projects without one."),
        new("ARCH", "amd64", "`amd64`, `arm64`",
            "Target architecture of every artifact. The arm64 installer ISO boots by UEFI only (`EFI/BOOT/bootaa64.efi`); RUN steps for an ARCH other than the build machine's need its qemu-user-static binfmt_misc emulator."),
        new("PE_VERSION", PinnedAgentVersion, "`vX.Y.Z` or `vX.Y.Z-pre`",
            "Palette edge agent version: the tag of the stylus images and part of every provider image tag."),
        new("BASE_IMAGE", "(derived from OS_DISTRIBUTION, OS_VERSION and ARCH; see docs/sources.md)", "an image reference",
            "Base OS image. Required for FIPS builds and for operating systems without a default."),
        new("FIPS_ENABLED", "false", "`true`, `false`",
            "FIPS build: needs `K8S_DISTRIBUTION` `rke2` or `kubeadm-fips` and `BASE_IMAGE`; incompatible with `UPDATE_KERNEL=true`. Switches the default `SPECTRO_PUB_REPO` to the FIPS repository and etcdctl to the FIPS build."),
        new("UPDATE_KERNEL", "false", "`true`, `false`", "Upgrade the kernel to the newest from the OS vendor (ubuntu: the HWE kernel of `OS_VERSION`; debian: backports), purge the others, regenerate the initramfs with the image's dracut. apt operating systems only; not with `FIPS_ENABLED`."),
        new("TWO_NODE", "false", "`true`, `false`",
            "Two-node HA provider image: PostgreSQL (installed, disabled, after network-online) and kine in `/opt/spectrocloud/bin`; apt or zypper operating systems. Cannot be changed later: mark it in `CUSTOM_TAG`."),
        new("KINE_VERSION", "0.15.0", "`x.y.z` (no `v`)", "Version of kine installed into two-node provider images."),
        new("KINE_SOURCE", "https://github.com/k3s-io/kine/releases/download/v{version}/kine-{arch}", "an `http://` or `https://` URL; `{version}` and `{arch}` are replaced",
            "Where two-node provider images get the kine binary (edgeforge; CanvOS downloads its GitHub release). Point it at a mirror on an air-gapped build site."),
        new("CIS_HARDENING", "false", "`true`, `false`", "Apply CIS hardening: CanvOS's CIS Ubuntu benchmark items, with a report in the image (apt systems; see cis-hardening.md)."),
        new("HTTP_PROXY", "", "an `http://`, `https://` or `socks5://` URL", "Proxy used while building only; never baked into an image."),
        new("HTTPS_PROXY", "", "an `http://`, `https://` or `socks5://` URL", "Proxy used while building only; never baked into an image."),
        new("NO_PROXY", "", "comma list of hosts, `.domains`, IPs, CIDRs, `*`", "Destinations reached without the build proxy."),
        new("PROXY_CERT_PATH", "", "absolute path of one PEM certificate",
            "Deprecated: one CA certificate, treated as if it were in `certs/`."),
        new("CLUSTERCONFIG", "", "path of a `.tgz` (relative to the project directory)",
            "Cluster definition embedded into the ISO as `/opt/spectrocloud/clusterconfig/spc.tgz`."),
        new("EDGE_CUSTOM_CONFIG", DefaultEdgeCustomConfig, "path of a YAML file (relative to the project directory)",
            "Holds the content-signing public key baked into the ISO and the provider images."),
        new("FORCE_INTERACTIVE_INSTALL", "false", "`true`, `false`", "Make the interactive installer the default boot entry (GRUB entry 2; with `IS_UKI=true` a second signed image, `norole_interactive-install.efi`, the default of systemd-boot)."),
        new("DISABLE_SELINUX", "true", "`true`, `false`", "Boot the installer with `selinux=0`."),
        new("DEBUG", "false", "`true`, `false`",
            "Append CanvOS's debug kernel arguments (`rd.immucore.debug console=tty0 rd.debug`) to the installer's boot menu entries. Not read from the environment (too common a variable name).")
        {
            ReadFromEnvironment = false,
        },
        new("BUNDLE_K8S_AND_AGENT_PROVIDER", "false", "`true`, `false`",
            "`true`: always put the Kubernetes and agent-provider binaries into the provider image. `false` (CanvOS's default): put them in only when the base image's systemd is older than 255; newer systems receive them later as system extensions. The build probes the base image."),

        new("SPECTRO_PUB_REPO", DefaultPubRepo, "`host[:port][/namespace]`",
            $"Registry prefix of Spectro Cloud's public images (base, stylus, Kairos provider). With `FIPS_ENABLED=true` the default becomes `{FipsPubRepo}`."),
        new("SPECTRO_LUET_REPO", "us-docker.pkg.dev/palette-images/edge", "`host[:port][/namespace]`",
            "Registry prefix of the luet repository images `luet-repo-amd` / `luet-repo-arm` the Kubernetes packages come from."),
        new("KAIROS_BASE_IMAGE_URL", "$SPECTRO_PUB_REPO/edge", "`host[:port][/namespace]`", "Registry prefix of the default Kairos-ified base images."),
        new("KAIROS_INIT_VERSION", "v0.17.1", "an image tag component", "kairos-init version the default base images are tagged with (`…-generic-$KAIROS_INIT_VERSION`)."),
        new("KAIROS_VERSION", "v4.1.2", "`vX.Y.Z`", "Kairos release CanvOS pins; recorded in the plan (the base image's own Kairos release is what the images carry)."),
        new("STYLUS_BASE", "$SPECTRO_PUB_REPO/edge/stylus-framework-linux-$ARCH:$PE_VERSION", "an image reference",
            "Stylus framework image: the installer takes it whole, the provider images take its agent files."),
        new("STYLUS_PACKAGE_BASE", "$SPECTRO_PUB_REPO/edge/stylus-linux-$ARCH:$PE_VERSION", "an image reference",
            "Stylus package image (system-extension packaging of the agent)."),
        new("K3S_PROVIDER_VERSION", "v4.10.3", "an image tag", "Tag of `$SPECTRO_PUB_REPO/edge/kairos-io/provider-k3s`."),
        new("RKE2_PROVIDER_VERSION", "v4.10.3", "an image tag", "Tag of `$SPECTRO_PUB_REPO/edge/kairos-io/provider-rke2`."),
        new("KUBEADM_PROVIDER_VERSION", "v4.10.1", "an image tag", "Tag of `$SPECTRO_PUB_REPO/edge/kairos-io/provider-kubeadm` (also for `kubeadm-fips`)."),
        new("NODEADM_PROVIDER_VERSION", "v4.9.3", "an image tag", "Tag of `$SPECTRO_PUB_REPO/edge/kairos-io/provider-nodeadm`."),
        new("CANONICAL_PROVIDER_VERSION", "v4.10.1", "an image tag", "Tag of `$SPECTRO_PUB_REPO/edge/kairos-io/provider-canonical`."),
        new("K3S_FLAVOR_TAG", "k3s1", "letters and digits", "Suffix of the k3s luet package version: `k8s/k3s@<K8S_VERSION>-<K3S_FLAVOR_TAG>`."),
        new("RKE2_FLAVOR_TAG", "rke2r1", "letters and digits", "Suffix of the rke2 luet package version: `k8s/rke2@<K8S_VERSION>-<RKE2_FLAVOR_TAG>`."),
        new("BUILDER_3RDPARTY_VERSION", "4.8", "an image tag", "Tag of CanvOS's third-party tools image."),
        new("SPECTRO_THIRD_PARTY_IMAGE", "us-docker.pkg.dev/palette-images/third-party/spectro-third-party:$BUILDER_3RDPARTY_VERSION",
            "an image reference", "Image etcdctl (and CanvOS's other helper binaries) are taken from."),
        new("ETCD_VERSION", "v3.5.13", "`vX.Y.Z`",
            "etcd version CanvOS declares. Its etcdctl comes from the `latest` path of `SPECTRO_THIRD_PARTY_IMAGE`, so the value is recorded, not used to choose the file."),

        new("DRBD_VERSION", "9.2.13", "a version",
            "Passed to the project's Dockerfile as a build argument, as CanvOS does (its Piraeus pack builds the DRBD module there).")
        {
            DockerfileOnly = true,
        },

        new("IS_UKI", "false", "`true`, `false`",
            "Trusted Boot: the installer ISO and the provider images carry signed unified kernel images booted by systemd-boot (docs/trusted-boot.md); needs the keys in `secure-boot/` (`edgeforge keys secureboot`) and `cloudconfigs/80_stylus_uki.yaml`."),
        new("MY_ORG", "ACME Corp", "text", "Organisation name in Secure Boot keys.")
        {
            UnusedBecause = KeyGeneration("--org"),
        },
        new("UKI_BRING_YOUR_OWN_KEYS", "false", "`true`, `false`", "Use your own Secure Boot keys.")
        {
            UnusedBecause = KeyGeneration("--bring-your-own DIR"),
        },
        new("INCLUDE_MS_SECUREBOOT_KEYS", "true", "`true`, `false`", "Add Microsoft's Secure Boot certificates.")
        {
            UnusedBecause = KeyGeneration("--include-ms-keys / --no-ms-keys"),
        },
        new("AUTO_ENROLL_SECUREBOOT_KEYS", "false", "`true`, `false`",
            "`true`: systemd-boot enrols the keys by itself on a machine in Setup Mode (`secure-boot-enroll force`); `false`: CanvOS's default (`if-safe`).") { OnlyWith = TrustedBootKey },
        new("CMDLINE", "stylus.registration", "kernel command line words", "Appended to the unified kernel image's command line (`--extend-cmdline`).") { OnlyWith = TrustedBootKey },
        new("BRANDING", "Palette eXtended Kubernetes Edge", "text", "Title of the systemd-boot menu entry.") { OnlyWith = TrustedBootKey },
        new("EFI_MAX_SIZE", "2048", "MiB", "Largest unified kernel image the build accepts (the largest file the target firmware was checked to load).") { OnlyWith = TrustedBootKey },
        new("EFI_IMG_SIZE", "2200", "MiB", "Largest EFI system partition the build accepts.") { OnlyWith = TrustedBootKey },
        new("IS_MAAS", "false", "`false` (MAAS images are not built)", "Build a MAAS disk image.") { OnlyFor = "MAAS image builds", RefusedWhenTrue = true },
        new("INSTALL_NVIDIA_GPU_DRIVERS", "false", "`true`, `false`",
            "Pre-install the NVIDIA data-center driver into the base layers (provider images and installer), as CanvOS's `install-nvidia-drivers.sh`: build toolchain, headers of the image's kernel, the driver's DKMS modules built for that kernel (not the builder's), nouveau blacklisted, `nvidia` modules loaded at boot; then install the GPU Operator with `driver.enabled=false`. apt operating systems (ubuntu, debian) and `ARCH=amd64` only; mutually exclusive with `INSTALL_AMD_GPU_DRIVERS`."),
        new("NVIDIA_DRIVER_BRANCH", "580", "a driver branch number (`550`, `570`, `580`), not a release", "Driver branch: `nvidia-headless-<branch>-server[-open]` and `nvidia-utils-<branch>-server` (the non-server names when those are missing); apt takes the branch's newest release.")
            { OnlyWith = NvidiaKey },
        new("NVIDIA_DRIVER_TYPE", "open", "`open`, `proprietary`", "`open`: NVIDIA's open kernel modules (Turing and newer; required on Hopper and Blackwell). `proprietary`: the closed modules (pre-Turing GPUs).")
            { OnlyWith = NvidiaKey },
        new("NVIDIA_USE_CUDA_REPO", "true", "`true`, `false`", "`true`: add NVIDIA's CUDA apt repository (`NVIDIA_CUDA_REPO_URL`, trusted through its `cuda-keyring` package) for the driver packages; `false`: only the image's own sources.")
            { OnlyWith = NvidiaKey },
        new("NVIDIA_CUDA_REPO_URL", "https://developer.download.nvidia.com/compute/cuda/repos", "an `http://` or `https://` URL",
            "Base of NVIDIA's CUDA apt repositories (edgeforge; CanvOS hard-codes it). The build uses `<url>/<distro>/x86_64/` (`ubuntu2204`, `ubuntu2404`, `debian12`, from the image's os-release) and its `cuda-keyring_1.1-1_all.deb`. Point it at a mirror on an air-gapped build site.",
            BuildArgumentOrigin.EdgeForge) { OnlyWith = NvidiaKey },
        new("NVIDIA_INSTALL_FABRICMANAGER", "true", "`true`, `false`", "Install `nvidia-fabricmanager-<branch>`, `libnvidia-nscq-<branch>`, `nvlsm` and `infiniband-diags`, enable the unit and load `ib_umad` at boot (NVSwitch systems: HGX, DGX, GB200). Required when true: a missing package fails the build (CanvOS skips it with a warning).")
            { OnlyWith = NvidiaKey },
        new("NVIDIA_INSTALL_IMEX", "true", "`true`, `false`", "Install and enable `nvidia-imex-<branch>` (GB200 NVL72). Published from branch 570 on: older branches are built without it, with a warning (as CanvOS skips it).")
            { OnlyWith = NvidiaKey },
        new("NVIDIA_INSTALL_CONTAINER_TOOLKIT", "false", "`true`, `false`", "Also install `nvidia-container-toolkit` from `NVIDIA_CONTAINER_TOOLKIT_REPO_URL` (then install the GPU Operator with `toolkit.enabled=false`).")
            { OnlyWith = NvidiaKey },
        new("NVIDIA_CONTAINER_TOOLKIT_REPO_URL", "https://nvidia.github.io/libnvidia-container", "an `http://` or `https://` URL",
            "Base of NVIDIA's libnvidia-container repository (edgeforge; CanvOS hard-codes it): its `gpgkey` is the trusted key and `stable/deb/nvidia-container-toolkit.list` the source entry, re-pointed at this base.",
            BuildArgumentOrigin.EdgeForge) { OnlyWith = NvidiaKey },
        new("NVIDIA_REBUILD_INITRD", "true", "`true`, `false`", "Regenerate the image kernel's initramfs (dracut, else update-initramfs) so the nouveau blacklist holds in early boot; the image must have one of the two.")
            { OnlyWith = NvidiaKey },

        new("INSTALL_AMD_GPU_DRIVERS", "false", "`true`, `false`",
            "Pre-install the AMD Instinct kernel driver into the base layers, as CanvOS's `install-amdgpu-drivers.sh`: `amdgpu` loaded at boot and kept out of the initramfs, a marker in `/etc/canvos/amdgpu-driver-source`; then install the AMD GPU Operator with `driver.enable=false`. apt operating systems (ubuntu, debian) and `ARCH=amd64` only; mutually exclusive with `INSTALL_NVIDIA_GPU_DRIVERS`."),
        new("AMDGPU_DRIVER_SOURCE", "dkms", "`dkms`, `inbox`", "`dkms`: AMD's `amdgpu-dkms` + `amdgpu-dkms-firmware` from the repository `amdgpu-install` configures, built for the image's kernel (or taken prebuilt from `AMDGPU_ARTIFACT_PATH`). `inbox`: the kernel's in-tree `amdgpu` module (must exist), no AMD repository.")
            { OnlyWith = AmdKey },
        new("AMDGPU_DRIVER_RELEASE", "31.40", "an amdgpu-install release (`31.40`, `7.2.1`, `30.30.1`)", "`dkms` only: the release under `<AMDGPU_REPO_URL>/amdgpu-install/<release>/<os>/<codename>/`, whose `amdgpu-install_*_all.deb` configures AMD's repository and key.")
            { OnlyWith = AmdKey },
        new("AMDGPU_ARTIFACT_PATH", "", "path of a `.tar.gz` relative to the project directory",
            "`dkms` only: the driver prebuilt by CanvOS's `scripts/prebuild-amdgpu-artifact.sh` (modules under `/lib/modules/<kernel>/updates/dkms`, firmware, drop-ins); extracted into the image instead of building `amdgpu-dkms` there. Must exist, inside the project, and hold `amdgpu.ko` for the image's kernel.")
            { OnlyWith = AmdKey },
        new("AMDGPU_INSTALL_SMI", "true", "`true`, `false`", "Install the `amd-smi` CLI (`amdrocm-amdsmi` or `amd-smi-lib` with `libdrm-amdgpu1`), linked to `/usr/bin/amd-smi`: from the repositories already configured, else `AMDGPU_ROCM_REPO_URL`, else the legacy ROCm repository under `AMDGPU_REPO_URL`. Required when true: not found fails the build (CanvOS skips it with a warning).")
            { OnlyWith = AmdKey },
        new("AMDGPU_REBUILD_INITRD", "false", "`true`, `false`", "Regenerate the image kernel's initramfs (dracut, else update-initramfs), with `amdgpu` omitted from it (CanvOS: multi-GPU amdgpu init outlasts the initqueue's timeout).")
            { OnlyWith = AmdKey },
        new("AMDGPU_REPO_URL", "https://repo.radeon.com", "an `http://` or `https://` URL",
            "Base of AMD's repo.radeon.com (edgeforge; CanvOS hard-codes it): `amdgpu-install/`, and every source entry `amdgpu-install` writes, re-pointed at this base; the legacy `rocm/apt/latest` repository and `rocm/rocm.gpg.key` for amd-smi. Point it at a mirror on an air-gapped build site.",
            BuildArgumentOrigin.EdgeForge) { OnlyWith = AmdKey },
        new("AMDGPU_ROCM_REPO_URL", "https://repo.amd.com/rocm/packages-multi-arch", "an `http://` or `https://` URL",
            "AMD's current ROCm repository (edgeforge; CanvOS hard-codes it), asked for `amdrocm-amdsmi` when the configured sources have no amd-smi: `<url>/gpg/rocm.gpg` and `<url>/ubuntu<VERSION_ID> stable main`.",
            BuildArgumentOrigin.EdgeForge) { OnlyWith = AmdKey },

        new("K8S_PROVIDER_SOURCE", "(none: Kubernetes comes from the luet repository)",
            "an image reference template using `{distribution}`, `{version}`, `{arch}`",
            "Explicit override: an image whose layers hold one Kubernetes version's binaries and Kairos provider plugin, used instead of the luet package and provider image.",
            BuildArgumentOrigin.EdgeForge),
        new("BOOT_ASSETS", "(found inside the installer image)", "a directory or an image reference",
            "Holds `eltorito.img`, `boot_hybrid.img`, `EFI/BOOT/bootx64.efi` (+ `grubx64.efi` when the first is shim); for `ARCH=arm64` only `EFI/BOOT/bootaa64.efi` (+ `grubaa64.efi` when it is shim).",
            BuildArgumentOrigin.EdgeForge),
        new("BASE_IMAGE_MIRROR", "", "`host[:port][/namespace]`",
            "Registry prefix that replaces the default base images' registry (air-gapped sites). `BASE_IMAGE` is never rewritten.",
            BuildArgumentOrigin.EdgeForge),
        new("SQUASHFS_COMPRESSION", "zstd:3", "`zstd[:1-22]`, `gzip[:1-9]`", "Compressor and level of the ISO's `rootfs.squashfs`.",
            BuildArgumentOrigin.EdgeForge),

        Unused("ENROLL_SPECTRO_EXTENSION_CERT", "true", KeyGeneration("--exported-keys DIR (its db file: the extension certificate's signature list)")),
        Unused("SPECTRO_EXTENSION_CERT_IMAGE", "us-east1-docker.pkg.dev/spectro-images/dev/arun/sysext/palette-sysext-cert:latest",
            KeyGeneration("--exported-keys DIR (its db file: the extension certificate's signature list)")),
        Ignored("MAAS_IMAGE_NAME", "kairos-ubuntu-maas", "MAAS image builds"),
        Ignored("UBUNTU_PRO_ATTACH", "false", "Ubuntu Pro attachments") with { RefusedWhenTrue = true },
        Unused("OSBUILDER_VERSION", "v0.400.3", "it tags CanvOS's osbuilder-tools image, and edgeforge writes the ISO itself without osbuilder"),
        Unused("AURORABOOT_VERSION", "v0.26.2", "it tags CanvOS's AuroraBoot image, and edgeforge writes the ISO itself without AuroraBoot"),

        Internal("TARGETOS", "Earthly's build platform"),
        Internal("TARGETARCH", "Earthly's build platform"),
        Internal("ALPINE_TAG", "the Alpine helper image of CanvOS's targets"),
        Internal("ALPINE_IMG", "the Alpine helper image of CanvOS's targets"),
        Internal("BASE_IMAGE_URL", "older CanvOS base image locations (quay.io/kairos)"),
        Internal("OSBUILDER_IMAGE", "CanvOS's osbuilder-tools image"),
        Internal("AURORABOOT_IMAGE", "CanvOS's AuroraBoot image"),
        Internal("GOLANG_VERSION", "CanvOS's Go helper targets"),
        Internal("http_proxy", "lowercase copies of HTTP_PROXY for tools that read those"),
        Internal("https_proxy", "lowercase copies of HTTPS_PROXY for tools that read those"),
        Internal("no_proxy", "lowercase copies of NO_PROXY for tools that read those"),
        Internal("IMAGE_PATH", "the provider image name, which edgeforge forms itself (EDGEFORGE.md §4)"),
    ];

    private const string TrustedBootKey = "IS_UKI";

    private static string KeyGeneration(string option) =>
        $"it is an option of Secure Boot key generation (CanvOS +uki-genkey), which is `edgeforge keys secureboot {option}`; the build reads the keys from secure-boot/";
    private const string NvidiaKey = "INSTALL_NVIDIA_GPU_DRIVERS";
    private const string AmdKey = "INSTALL_AMD_GPU_DRIVERS";

    private static readonly Dictionary<string, BuildArgumentDefinition> ByKey = All.ToDictionary(d => d.Key, StringComparer.Ordinal);

    public static BuildArgumentDefinition? Find(string key) => ByKey.GetValueOrDefault(key);

    public static IEnumerable<string> Keys => ByKey.Keys;

    private static BuildArgumentDefinition Ignored(string key, string canvosDefault, string feature) =>
        new(key, canvosDefault, "any", $"CanvOS option of {feature}; recognised, not used by EdgeForge.", BuildArgumentOrigin.CanvOSIgnored)
        {
            OnlyFor = feature,
        };

    private static BuildArgumentDefinition Unused(string key, string canvosDefault, string reason) =>
        new(key, canvosDefault, "any", "CanvOS option; recognised, not used by EdgeForge.", BuildArgumentOrigin.CanvOSIgnored)
        {
            UnusedBecause = reason,
        };

    private static BuildArgumentDefinition Internal(string key, string purpose) =>
        new(key, "", "—", $"CanvOS Earthfile plumbing: {purpose}. Not a build option.", BuildArgumentOrigin.CanvOSInternal);
}
