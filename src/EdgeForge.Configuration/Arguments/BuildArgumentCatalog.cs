namespace EdgeForge.Configuration.Arguments;

public enum BuildArgumentOrigin
{
    /// <summary>A key CanvOS defines, with the same meaning here.</summary>
    CanvOS,

    /// <summary>A key only EdgeForge reads.</summary>
    EdgeForge,

    /// <summary>A CanvOS key EdgeForge recognises (so it is never reported as a typo) but does not act on.</summary>
    CanvOSIgnored,
}

/// <summary>One <c>.arg</c> key: its default, what it accepts and what it means. The docs' key reference is generated from these.</summary>
public sealed record BuildArgumentDefinition(
    string Key,
    string Default,
    string Allowed,
    string Description,
    BuildArgumentOrigin Origin = BuildArgumentOrigin.CanvOS);

/// <summary>Every <c>.arg</c> key EdgeForge knows (EDGEFORGE.md §3).</summary>
public static class BuildArgumentCatalog
{
    /// <summary>The agent version EdgeForge builds when <c>PE_VERSION</c> is not set.</summary>
    public const string PinnedAgentVersion = "v4.4.12";

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
        new("ISO_NAME", "palette-edge-installer", "lowercase letters, digits, `-`, `_`", "File name of the installer ISO, without `.iso`."),
        new("ARCH", "amd64", "`amd64`, `arm64`", "Target architecture of every artifact."),
        new("PE_VERSION", PinnedAgentVersion, "`vX.Y.Z` or `vX.Y.Z-pre`", "Palette edge agent version; part of every provider image tag."),
        new("BASE_IMAGE", "(derived from OS_DISTRIBUTION, OS_VERSION and ARCH)", "an image reference",
            "Base OS image. Required for FIPS builds and for operating systems without a default."),
        new("FIPS_ENABLED", "false", "`true`, `false`",
            "FIPS build: needs `K8S_DISTRIBUTION` `rke2` or `kubeadm-fips` and `BASE_IMAGE`; incompatible with `UPDATE_KERNEL=true`."),
        new("UPDATE_KERNEL", "false", "`true`, `false`", "Upgrade the kernel to the newest from the OS vendor."),
        new("TWO_NODE", "false", "`true`, `false`",
            "Two-node HA provider image (PostgreSQL + kine). Cannot be changed later: mark it in `CUSTOM_TAG`."),
        new("CIS_HARDENING", "false", "`true`, `false`", "Apply CIS hardening (Ubuntu only)."),
        new("HTTP_PROXY", "", "an `http://`, `https://` or `socks5://` URL", "Proxy used while building only; never baked into an image."),
        new("HTTPS_PROXY", "", "an `http://`, `https://` or `socks5://` URL", "Proxy used while building only; never baked into an image."),
        new("NO_PROXY", "", "comma list of hosts, `.domains`, IPs, CIDRs, `*`", "Destinations reached without the build proxy."),
        new("PROXY_CERT_PATH", "", "absolute path of one PEM certificate",
            "Deprecated: one CA certificate, treated as if it were in `certs/`."),
        new("CLUSTERCONFIG", "", "path of a `.tgz` (relative to the project directory)",
            "Cluster definition embedded into the ISO as `/opt/spectrocloud/clusterconfig/spc.tgz`."),
        new("EDGE_CUSTOM_CONFIG", DefaultEdgeCustomConfig, "path of a YAML file (relative to the project directory)",
            "Holds the content-signing public key baked into the ISO and the provider images."),
        new("FORCE_INTERACTIVE_INSTALL", "false", "`true`, `false`", "Make the interactive installer the default boot entry."),
        new("DISABLE_SELINUX", "true", "`true`, `false`", "Boot the installer with `selinux=0`."),
        new("BUNDLE_K8S_AND_AGENT_PROVIDER", "true", "`true`, `false`",
            "`false` leaves Kubernetes and agent binaries out of the provider image (delivered later as system extensions)."),
        new("IS_UKI", "false", "`false` (Trusted Boot builds are a later phase)", "Build unified kernel images for Trusted Boot."),
        new("MY_ORG", "", "text", "Organisation name in Secure Boot keys (Trusted Boot builds only)."),
        new("UKI_BRING_YOUR_OWN_KEYS", "false", "`true`, `false`", "Trusted Boot: use your own Secure Boot keys."),
        new("INCLUDE_MS_SECUREBOOT_KEYS", "false", "`true`, `false`", "Trusted Boot: add Microsoft's Secure Boot certificates."),
        new("AUTO_ENROLL_SECUREBOOT_KEYS", "false", "`true`, `false`", "Trusted Boot: enrol keys on devices in Setup Mode."),
        new("INSTALL_NVIDIA_GPU_DRIVERS", "false", "`false` (GPU driver pre-install is a later phase)",
            "Pre-install NVIDIA drivers. Mutually exclusive with `INSTALL_AMD_GPU_DRIVERS`."),
        new("INSTALL_AMD_GPU_DRIVERS", "false", "`false` (GPU driver pre-install is a later phase)",
            "Pre-install AMD drivers. Mutually exclusive with `INSTALL_NVIDIA_GPU_DRIVERS`."),

        new("K8S_PROVIDER_SOURCE", "(none: no Kubernetes layer can be fetched)",
            "an image reference template using `{distribution}`, `{version}`, `{arch}`",
            "Image whose layers hold one Kubernetes version's binaries and Kairos provider plugin; added to the provider image as-is.",
            BuildArgumentOrigin.EdgeForge),
        new("BOOT_ASSETS", "(found inside the installer image)", "a directory or an image reference",
            "Holds `eltorito.img`, `boot_hybrid.img`, `EFI/BOOT/bootx64.efi` (+ `grubx64.efi` when the first is shim).",
            BuildArgumentOrigin.EdgeForge),
        new("BASE_IMAGE_MIRROR", "", "`host[:port][/namespace]`",
            "Registry prefix that replaces the default base images' registry (air-gapped sites). `BASE_IMAGE` is never rewritten.",
            BuildArgumentOrigin.EdgeForge),
        new("SQUASHFS_COMPRESSION", "zstd:3", "`zstd[:1-22]`, `gzip[:1-9]`", "Compressor and level of the ISO's `rootfs.squashfs`.",
            BuildArgumentOrigin.EdgeForge),

        Ignored("MAAS_IMAGE_NAME", "MAAS image builds"),
        Ignored("UBUNTU_PRO_ATTACH", "Ubuntu Pro attachment"),
        Ignored("ENROLL_SPECTRO_EXTENSION_CERT", "Trusted Boot extension certificates"),
        Ignored("SPECTRO_EXTENSION_CERT_IMAGE", "Trusted Boot extension certificates"),
        Ignored("DRBD_VERSION", "DRBD module builds"),
        Ignored("NVIDIA_DRIVER_BRANCH", "NVIDIA driver pre-install"),
        Ignored("NVIDIA_DRIVER_TYPE", "NVIDIA driver pre-install"),
        Ignored("NVIDIA_USE_CUDA_REPO", "NVIDIA driver pre-install"),
        Ignored("NVIDIA_INSTALL_FABRICMANAGER", "NVIDIA driver pre-install"),
        Ignored("NVIDIA_INSTALL_CONTAINER_TOOLKIT", "NVIDIA driver pre-install"),
        Ignored("NVIDIA_REBUILD_INITRD", "NVIDIA driver pre-install"),
        Ignored("AMDGPU_DRIVER_SOURCE", "AMD driver pre-install"),
        Ignored("AMDGPU_DRIVER_RELEASE", "AMD driver pre-install"),
        Ignored("AMDGPU_INSTALL_SMI", "AMD driver pre-install"),
        Ignored("AMDGPU_REBUILD_INITRD", "AMD driver pre-install"),
    ];

    private static readonly Dictionary<string, BuildArgumentDefinition> ByKey = All.ToDictionary(d => d.Key, StringComparer.Ordinal);

    public static BuildArgumentDefinition? Find(string key) => ByKey.GetValueOrDefault(key);

    public static IEnumerable<string> Keys => ByKey.Keys;

    private static BuildArgumentDefinition Ignored(string key, string feature) =>
        new(key, "", "any", $"CanvOS option of {feature}; recognised, not used by EdgeForge.", BuildArgumentOrigin.CanvOSIgnored);
}
