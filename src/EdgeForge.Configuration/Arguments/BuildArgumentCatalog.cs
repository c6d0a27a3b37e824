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
        new("INSTALL_NVIDIA_GPU_DRIVERS", "false", "`false` (GPU driver pre-install is a later phase)",
            "Pre-install NVIDIA drivers. Mutually exclusive with `INSTALL_AMD_GPU_DRIVERS`."),
        new("INSTALL_AMD_GPU_DRIVERS", "false", "`false` (GPU driver pre-install is a later phase)",
            "Pre-install AMD drivers. Mutually exclusive with `INSTALL_NVIDIA_GPU_DRIVERS`."),

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
        Ignored("NVIDIA_DRIVER_BRANCH", "580", Nvidia),
        Ignored("NVIDIA_DRIVER_TYPE", "open", Nvidia),
        Ignored("NVIDIA_USE_CUDA_REPO", "true", Nvidia),
        Ignored("NVIDIA_INSTALL_FABRICMANAGER", "true", Nvidia),
        Ignored("NVIDIA_INSTALL_IMEX", "true", Nvidia),
        Ignored("NVIDIA_INSTALL_CONTAINER_TOOLKIT", "false", Nvidia),
        Ignored("NVIDIA_REBUILD_INITRD", "true", Nvidia),
        Ignored("AMDGPU_DRIVER_SOURCE", "dkms", Amd),
        Ignored("AMDGPU_DRIVER_RELEASE", "31.40", Amd),
        Ignored("AMDGPU_ARTIFACT_PATH", "", Amd),
        Ignored("AMDGPU_INSTALL_SMI", "true", Amd),
        Ignored("AMDGPU_REBUILD_INITRD", "false", Amd),
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
    private const string Nvidia = "NVIDIA driver pre-install";
    private const string Amd = "AMD driver pre-install";

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
