using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Dockerfiles;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Configuration.UserData;

namespace EdgeForge.Configuration.Planning;

/// <summary>
/// One provider image: <c>IMAGE_REGISTRY/IMAGE_REPO:K8S_DISTRIBUTION-K8S_VERSION-PE_VERSION[-CUSTOM_TAG]</c> (EDGEFORGE.md §4).
/// <see cref="LuetPackage"/> is the package its Kubernetes comes from (from <see cref="UpstreamSources.LuetRepository"/>);
/// <see cref="K8sSource"/> is the <c>K8S_PROVIDER_SOURCE</c> image that replaces it, when that override is set.
/// </summary>
public sealed record ProviderImagePlan(
    string Reference, string Repository, string Tag, string K8sDistribution, string K8sVersion, string? K8sSource, string LuetPackage);

/// <summary>Where the installer ISO goes and what shapes it.</summary>
public sealed record IsoPlan(string Path, string ChecksumPath, string VolumeId, SquashFsCompression RootfsCompression, int DefaultBootEntry);

public sealed record UserDataFile(string Path, string DisplayName, UserDataSummary Summary);

/// <summary>Everything the ISO embeds besides the OS.</summary>
public sealed record EmbeddedInputs(
    UserDataFile? UserData,
    EdgeCustomConfigFile? EdgeCustomConfig,
    ClusterConfigFile? ClusterConfig,
    IReadOnlyList<ContentBundleFile> ContentBundles,
    IReadOnlyList<CertificateFile> Certificates,
    OverlayInputs Overlay,
    LuetAuthFile? LuetAuth,
    string? TrustedBootCloudConfig = null,
    string? AmdGpuArtifact = null);

/// <summary>A rough disk need, with its parts, so a 58-image matrix does not discover a full disk at image 40.</summary>
public sealed record DiskEstimate(long TotalBytes, IReadOnlyList<KeyValuePair<string, long>> Parts);

/// <summary>
/// The resolved, validated build: every later stage reads only this (style.md: Talos imager profiles). Built by
/// <see cref="ProjectLoader"/> only when no input has an error.
/// </summary>
public sealed record BuildPlan
{
    public required string ProjectDirectory { get; init; }
    public required BuildSettings Settings { get; init; }

    /// <summary>
    /// The build arguments set by the command line, environment, <c>.arg</c> or the Earthfile, by key (for Dockerfile
    /// <c>ARG</c> values, as CanvOS passes e.g. <c>DRBD_VERSION</c>); known keys only, built-in values aside.
    /// </summary>
    public IReadOnlyDictionary<string, string> BuildArguments { get; init; } = new Dictionary<string, string>();

    /// <summary>Every key's final value with its origin (command line, environment, .arg line, Earthfile line, rule, built-in), in catalog order.</summary>
    public required IReadOnlyList<ResolvedValue> Values { get; init; }

    /// <summary>The project's Earthfile, when it has one: its global ARG defaults are in <see cref="Values"/>.</summary>
    public string? Earthfile { get; init; }

    /// <summary>The upstream images the artifacts are composed from (EDGEFORGE.md §5).</summary>
    public required UpstreamSources Sources { get; init; }

    /// <summary>The base image reference actually used (<see cref="UpstreamSources.Base"/>), and whether it is the OS default (true) or <c>BASE_IMAGE</c> (false).</summary>
    public required string BaseImage { get; init; }
    public required bool BaseImageIsDefault { get; init; }

    public required string KubernetesVersionSource { get; init; }
    public required int KubernetesVersionsAvailable { get; init; }
    public required IReadOnlyList<ProviderImagePlan> ProviderImages { get; init; }
    public required IsoPlan Iso { get; init; }
    public required EmbeddedInputs Inputs { get; init; }
    public required DockerfileCustomisations Customisations { get; init; }
    public required DiskEstimate Estimate { get; init; }
}
