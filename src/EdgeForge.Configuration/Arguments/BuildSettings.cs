namespace EdgeForge.Configuration.Arguments;

public enum SquashFsCompressor
{
    Zstd,
    Gzip,
}

/// <summary>Compressor and level of the installer's <c>rootfs.squashfs</c> (<c>SQUASHFS_COMPRESSION</c>).</summary>
public sealed record SquashFsCompression(SquashFsCompressor Compressor, int Level)
{
    public override string ToString() => $"{Compressor.ToString().ToLowerInvariant()}:{Level}";
}

/// <summary>The validated, typed build arguments (EDGEFORGE.md §3). Produced only when every key is valid.</summary>
public sealed record BuildSettings
{
    public required string CustomTag { get; init; }
    public required string ImageRegistry { get; init; }
    public required string OsDistribution { get; init; }
    public required string ImageRepo { get; init; }

    /// <summary>Normalised: Ubuntu's <c>22</c> becomes <c>22.04</c>.</summary>
    public required string OsVersion { get; init; }

    public required string K8sDistribution { get; init; }

    /// <summary>The one version to build, or null for every version of the distribution.</summary>
    public string? K8sVersion { get; init; }

    public required string IsoName { get; init; }
    public required string Arch { get; init; }
    public required string PeVersion { get; init; }

    /// <summary>Explicit <c>BASE_IMAGE</c>; null means the default for the OS (§8).</summary>
    public string? BaseImage { get; init; }

    public bool FipsEnabled { get; init; }
    public bool UpdateKernel { get; init; }
    public bool TwoNode { get; init; }
    public bool CisHardening { get; init; }
    public string HttpProxy { get; init; } = "";
    public string HttpsProxy { get; init; } = "";
    public string NoProxy { get; init; } = "";

    /// <summary>Deprecated single CA certificate (absolute path), treated as if it were in <c>certs/</c>.</summary>
    public string? ProxyCertPath { get; init; }

    /// <summary>Cluster definition path as written (relative to the project directory), or null.</summary>
    public string? ClusterConfig { get; init; }

    public required string EdgeCustomConfig { get; init; }
    public bool ForceInteractiveInstall { get; init; }
    public bool DisableSelinux { get; init; } = true;

    /// <summary><c>DEBUG</c>: CanvOS appends its debug kernel arguments to the installer's boot menu entries.</summary>
    public bool Debug { get; init; }

    /// <summary>
    /// <c>BUNDLE_K8S_AND_AGENT_PROVIDER</c> with CanvOS's meaning: true always bundles the Kubernetes and agent-provider
    /// binaries into the provider image; false (the default) bundles them only when the base image's systemd is older
    /// than 255 — a probe of the base image that the build makes, not the plan.
    /// </summary>
    public bool BundleK8sAndAgentProvider { get; init; }

    /// <summary><c>K8S_PROVIDER_SOURCE</c>: an explicit override of where Kubernetes comes from; null means the luet repository.</summary>
    public string? K8sProviderSource { get; init; }

    /// <summary><c>SPECTRO_PUB_REPO</c> after CanvOS's FIPS rule.</summary>
    public required string SpectroPubRepo { get; init; }

    public required string SpectroLuetRepo { get; init; }
    public required string KairosBaseImageUrl { get; init; }
    public required string KairosInitVersion { get; init; }
    public required string KairosVersion { get; init; }
    public required string StylusBase { get; init; }
    public required string StylusPackageBase { get; init; }

    /// <summary>Tag of each Kairos provider image by its name (<c>k3s</c>, <c>rke2</c>, <c>kubeadm</c>, <c>nodeadm</c>, <c>canonical</c>).</summary>
    public required IReadOnlyDictionary<string, string> ProviderVersions { get; init; }

    public required string K3sFlavorTag { get; init; }
    public required string Rke2FlavorTag { get; init; }
    public required string SpectroThirdPartyImage { get; init; }
    public required string EtcdVersion { get; init; }
    public required string KineVersion { get; init; }

    /// <summary><c>KINE_SOURCE</c> with <c>{version}</c> and <c>{arch}</c> replaced: where two-node images get kine.</summary>
    public required string KineUrl { get; init; }
    public string? BootAssets { get; init; }
    public string? BaseImageMirror { get; init; }
    public required SquashFsCompression SquashFsCompression { get; init; }

    /// <summary><c>IS_UKI=true</c>: the Trusted Boot build and its settings; null for the standard build.</summary>
    public TrustedBootSettings? TrustedBoot { get; init; }

    /// <summary><c>INSTALL_NVIDIA_GPU_DRIVERS=true</c>: the NVIDIA driver step and its settings; null otherwise.</summary>
    public NvidiaDriverSettings? NvidiaDrivers { get; init; }

    /// <summary><c>INSTALL_AMD_GPU_DRIVERS=true</c>: the AMD driver step and its settings; null otherwise.</summary>
    public AmdGpuDriverSettings? AmdGpuDrivers { get; init; }
}

/// <summary>
/// What shapes a Trusted Boot installer (CanvOS's <c>+build-uki-iso</c>): whether systemd-boot enrols the keys by itself
/// (<c>AUTO_ENROLL_SECUREBOOT_KEYS</c>), the command line appended to the image's (<c>CMDLINE</c>), the menu title
/// (<c>BRANDING</c>), and the size limits of the unified kernel image and its partition (<c>EFI_MAX_SIZE</c>,
/// <c>EFI_IMG_SIZE</c>, MiB).
/// </summary>
public sealed record TrustedBootSettings(bool AutoEnrollKeys, string ExtraCommandLine, string Branding, int EfiMaxSizeMiB, int EfiImageSizeMiB)
{
    /// <summary>Where CanvOS keeps the key set (<c>+uki-genkey</c> saves it there; <c>+build-uki-iso</c> copies it from there).</summary>
    public const string KeysDirectory = "secure-boot";
}
