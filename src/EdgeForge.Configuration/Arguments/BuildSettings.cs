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
    public bool BundleK8sAndAgentProvider { get; init; } = true;
    public string? K8sProviderSource { get; init; }
    public string? BootAssets { get; init; }
    public string? BaseImageMirror { get; init; }
    public required SquashFsCompression SquashFsCompression { get; init; }
}
