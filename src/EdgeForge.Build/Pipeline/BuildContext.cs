using System.Collections.Concurrent;
using EdgeForge.Build.Composition;
using EdgeForge.Build.Installer;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Planning;
using EdgeForge.Luet;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;

namespace EdgeForge.Build.Pipeline;

/// <summary>Which artifacts a run produces: CanvOS's <c>+build-provider-images</c>, <c>+iso</c> or <c>+build-all-images</c>.</summary>
public enum BuildTarget
{
    ProviderImages,
    Iso,
    All,
}

public sealed record EdgeBuildOptions
{
    public required RegistryClient Registry { get; init; }

    public required BlobCache Blobs { get; init; }

    /// <summary>Where step records are kept (default: next to the blob cache).</summary>
    public string? LayerCacheDirectory { get; init; }

    /// <summary>Modification time of every layer entry, the <c>created</c> times and the ISO's timestamps.</summary>
    public long SourceDateEpoch { get; init; } = DeterministicTarWriter.SourceDateEpochFromEnvironment();

    /// <summary>The sandbox for RUN; detected when null.</summary>
    public SandboxKind? Sandbox { get; init; }

    /// <summary>Where the kernel's binfmt_misc handlers are read, to run RUN steps of a foreign ARCH (a test points it elsewhere).</summary>
    public string BinfmtDirectory { get; init; } = ForeignArchitecture.DefaultBinfmtDirectory;

    /// <summary>Push every provider image to its planned reference as well.</summary>
    public bool Push { get; init; }

    /// <summary>Matrix cells built at once.</summary>
    public int Jobs { get; init; } = 2;

    /// <summary>OCI layout the provider images are written to; default <c>DIR/build/images</c>.</summary>
    public string? OutputLayout { get; init; }

    /// <summary>Boot assets overriding <c>BOOT_ASSETS</c>.</summary>
    public string? BootAssets { get; init; }

    public string ExtraKernelArguments { get; init; } = "";

    public long ContentPartSize { get; init; } = ContentBundleParts.DefaultPartSize;

    /// <summary>A lock from an earlier run: rebuild exactly it (<c>build --locked</c>).</summary>
    public PlanLock? Locked { get; init; }

    public IBuildObserver Observer { get; init; } = NullBuildObserver.Instance;
}

/// <summary>The image after a chain of cached layer steps, and the chain key the next step continues from.</summary>
public sealed record LayeredImage(BuiltImage Image, string Key);

/// <summary>What the steps did, for the report: RUN executions, layers built and reused, blobs sent and skipped.</summary>
public sealed class BuildCounters
{
    private int _runs;
    private int _built;
    private int _reused;
    private int _uploaded;
    private int _skipped;

    public int Runs => _runs;
    public int Built => _built;
    public int Reused => _reused;
    public int Uploaded => _uploaded;
    public int Skipped => _skipped;

    public void Run() => Interlocked.Increment(ref _runs);
    public void LayerBuilt() => Interlocked.Increment(ref _built);
    public void LayerReused() => Interlocked.Increment(ref _reused);
    public void Transferred(int uploaded, int skipped)
    {
        Interlocked.Add(ref _uploaded, uploaded);
        Interlocked.Add(ref _skipped, skipped);
    }
}

/// <summary>
/// The one context a build's steps share: the plan, the pinned upstream images (pulled once, so every artifact is made
/// from the same digests), the layers built so far, and the outputs. Steps write only the fields they own.
/// </summary>
public sealed class BuildContext
{
    private static readonly AsyncLocal<StepScope?> CurrentScope = new();

    public BuildContext(BuildPlan plan, EdgeBuildOptions options, BuildTarget target)
    {
        Plan = plan;
        Options = options;
        Target = target;
        Platform = new Platform { Os = "linux", Architecture = plan.Settings.Arch };
        // A pull reports its bytes to the step that asked for it first (the pin step, or a cell pinning its own source).
        Puller = new UpstreamPuller(options.Registry, options.Blobs, Platform, () => Scope);
        LayerCache = new LayerCache(options.LayerCacheDirectory ?? Path.Combine(options.Blobs.Root, "edgeforge-layer-cache"), options.Blobs);
    }

    public BuildPlan Plan { get; }
    public EdgeBuildOptions Options { get; }
    public BuildTarget Target { get; }
    public Platform Platform { get; }
    public UpstreamPuller Puller { get; }
    public LayerCache LayerCache { get; }
    public BuildCounters Counters { get; } = new();

    public bool BuildsProviderImages => Target is BuildTarget.ProviderImages or BuildTarget.All;
    public bool BuildsIso => Target is BuildTarget.Iso or BuildTarget.All;

    // pin-upstreams
    public PinnedImage? Base { get; set; }
    public PinnedImage? StylusFramework { get; set; }
    public PinnedImage? KairosProvider { get; set; }
    public PinnedImage? ThirdParty { get; set; }

    /// <summary>The stylus package image (<c>STYLUS_PACKAGE_BASE</c>), pinned for Trusted Boot ISOs only.</summary>
    public PinnedImage? StylusPackage { get; set; }

    /// <summary>CanvOS's Ubuntu image for Trusted Boot provider images (IS_UKI=true only).</summary>
    public PinnedImage? TrustedBootProviderBase { get; set; }
    public LuetDockerRepository? Luet { get; set; }

    /// <summary>Each cell's luet packages (the Kubernetes package and what it requires), or why they cannot be had.</summary>
    public ConcurrentDictionary<string, IReadOnlyList<LuetPackageInfo>> KubernetesPackages { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, string> CellErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>The base image's systemd major version (0: none), as CanvOS's CHECK_SYSTEMD_VERSION probes it.</summary>
    public int SystemdVersion { get; set; }

    /// <summary>Whether Kubernetes and the agent provider are baked into the provider images (BUNDLE_K8S_AND_AGENT_PROVIDER + the probe).</summary>
    public bool BundleKubernetes { get; set; }

    // common-layers, provider-layers, installer-image
    public LayeredImage? Common { get; set; }
    public LayeredImage? ProviderShared { get; set; }

    /// <summary>The shared layers of the published Trusted Boot provider images (on <see cref="TrustedBootProviderBase"/>).</summary>
    public LayeredImage? TrustedBootProviderShared { get; set; }
    public BuiltImage? Installer { get; set; }

    // provider-images, publish, installer-iso
    public ProviderImageResult[] ProviderResults { get; set; } = [];
    public ConcurrentDictionary<string, BuiltImage> ProviderImages { get; } = new(StringComparer.Ordinal);
    public InstallerIsoResult? Iso { get; set; }

    /// <summary>The step whose code is running on this logical thread: where its messages and byte progress go.</summary>
    public StepScope? Scope
    {
        get => CurrentScope.Value;
        set => CurrentScope.Value = value;
    }

    public void Log(string message) => StepScope.Message(Options.Observer, Scope, "build", message);

    /// <summary>Starts a step on this logical thread (its messages and progress are attributed to it until the next).</summary>
    public StepScope StartStep(string name, string? title) => Scope = StepScope.Start(Options.Observer, name, title);

    public void Emit(BuildEvent buildEvent) => Options.Observer.OnEvent(buildEvent);

    public LayerOptions LayerOptions() => new() { SourceDateEpoch = Options.SourceDateEpoch };

    public string Created() => BuiltImage.FormatCreated(Options.SourceDateEpoch);
}
