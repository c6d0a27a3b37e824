using System.Globalization;
using EdgeForge.Build.Layers;
using EdgeForge.Build.Sandbox;
using EdgeForge.Configuration.Dockerfiles;
using EdgeForge.Configuration.Planning;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Build.ProviderImages;

public sealed record ProviderImageBuildOptions
{
    /// <summary>OCI layout the images are written to; default <c>DIR/build/images</c>.</summary>
    public string? OutputLayout { get; init; }

    /// <summary>Push every image to its planned reference as well.</summary>
    public bool Push { get; init; }

    /// <summary>Matrix cells built at once.</summary>
    public int Jobs { get; init; } = 2;

    public required RegistryClient Registry { get; init; }

    public required BlobCache Blobs { get; init; }

    /// <summary>Where step records are kept (default: next to the blob cache).</summary>
    public string? LayerCacheDirectory { get; init; }

    /// <summary>Modification time of every layer entry and the <c>created</c> times; default <c>SOURCE_DATE_EPOCH</c> or 0.</summary>
    public long SourceDateEpoch { get; init; } = DeterministicTarWriter.SourceDateEpochFromEnvironment();

    public Action<string> Log { get; init; } = _ => { };

    /// <summary>The sandbox for RUN; detected when null.</summary>
    public SandboxKind? Sandbox { get; init; }
}

/// <summary>One matrix cell: the image built (digest, size) or why it failed.</summary>
public sealed record ProviderImageResult(string Reference, string Tag, string K8sDistribution, string K8sVersion, string? Digest, long Size, string? Error);

/// <summary>What a build did; <see cref="RunsExecuted"/> and <see cref="BlobsUploaded"/> are 0 for a re-run with nothing changed.</summary>
public sealed record ProviderImageBuildReport(
    IReadOnlyList<ProviderImageResult> Images,
    int RunsExecuted,
    int LayersBuilt,
    int LayersReused,
    int BlobsUploaded,
    int BlobsSkipped)
{
    public bool Succeeded => Images.All(i => i.Error is null);
}

/// <summary>
/// Builds the provider image matrix (EDGEFORGE.md §5): base image → CA certificates → Dockerfile customisations →
/// edge configuration, computed once and shared by every Kubernetes version, then each version's Kubernetes layers
/// and labels. Shared steps are cached across runs by <see cref="LayerCache"/>; the root filesystem is unpacked only
/// when a step has to run. A failing matrix cell does not stop the others.
/// </summary>
public sealed class ProviderImageBuilder(BuildPlan plan, ProviderImageBuildOptions options)
{
    public const string LabelPrefix = "io.edgeforge.";

    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"];

    private int _runs;
    private int _built;
    private int _reused;

    /// <summary>The registry repository each pulled layer came from, so a push to the same registry can mount it instead of uploading.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Digest, ImageReference> _origins = new();

    public async Task<ProviderImageBuildReport> BuildAsync(CancellationToken cancellationToken = default)
    {
        var platform = new Platform { Os = "linux", Architecture = plan.Settings.Arch };
        var shared = await BuildSharedImageAsync(cancellationToken).ConfigureAwait(false);

        var layout = options.OutputLayout ?? Path.Combine(plan.ProjectDirectory, "build", "images");
        var results = new ProviderImageResult[plan.ProviderImages.Count];
        var uploaded = 0;
        var skipped = 0;
        using var throttle = new SemaphoreSlim(Math.Max(1, options.Jobs));
        using var layoutLock = new SemaphoreSlim(1);
        await Task.WhenAll(plan.ProviderImages.Select(async (cell, index) =>
        {
            await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var image = await BuildCellAsync(shared, cell, platform, cancellationToken).ConfigureAwait(false);
                await layoutLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var written = await WriteAsync(image, $"oci:{layout}:{cell.Tag}", cancellationToken).ConfigureAwait(false);
                    Interlocked.Add(ref uploaded, options.Push ? 0 : written.BlobsTransferred);
                    Interlocked.Add(ref skipped, options.Push ? 0 : written.BlobsSkipped);
                }
                finally
                {
                    layoutLock.Release();
                }

                if (options.Push)
                {
                    options.Log($"push {cell.Reference}");
                    await MountKnownLayersAsync(image, ImageReference.Parse(cell.Reference), cancellationToken).ConfigureAwait(false);
                    var pushed = await WriteAsync(image, "docker://" + cell.Reference, cancellationToken).ConfigureAwait(false);
                    Interlocked.Add(ref uploaded, pushed.BlobsTransferred);
                    Interlocked.Add(ref skipped, pushed.BlobsSkipped);
                }

                var size = image.Manifest.Config.Size + image.Layers.Sum(l => l.Size);
                results[index] = new ProviderImageResult(cell.Reference, cell.Tag, cell.K8sDistribution, cell.K8sVersion, image.Digest.ToString(), size, null);
                options.Log($"built {cell.Reference} {image.Digest}");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results[index] = new ProviderImageResult(cell.Reference, cell.Tag, cell.K8sDistribution, cell.K8sVersion, null, 0, Describe(e));
                options.Log($"FAILED {cell.Reference}: {Describe(e)}");
            }
            finally
            {
                throttle.Release();
            }
        })).ConfigureAwait(false);

        return new ProviderImageBuildReport(results, _runs, _built, _reused, uploaded, skipped);
    }

    /// <summary>
    /// The image below the Kubernetes layers — base, CA certificates, Dockerfile customisations, edge configuration —
    /// with the same cached layers the provider images use. The installer ISO is made from it (EDGEFORGE.md §6).
    /// </summary>
    public async Task<BuiltImage> BuildSharedImageAsync(CancellationToken cancellationToken = default)
    {
        var platform = new Platform { Os = "linux", Architecture = plan.Settings.Arch };
        options.Log($"pull base image {plan.BaseImage} ({platform})");
        var baseImage = await LoadImageAsync(plan.BaseImage, platform, cancellationToken).ConfigureAwait(false);
        return await BuildSharedLayersAsync(baseImage, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Counters of the steps run so far (RUN executions, layers built and reused).</summary>
    public (int RunsExecuted, int LayersBuilt, int LayersReused) StepCounters => (_runs, _built, _reused);

    private async Task<BuiltImage> BuildCellAsync(BuiltImage shared, ProviderImagePlan cell, Platform platform, CancellationToken cancellationToken)
    {
        var image = shared;
        if (cell.K8sSource is { } source)
        {
            options.Log($"pull Kubernetes {cell.K8sDistribution} {cell.K8sVersion} from {source}");
            var kubernetes = await LoadImageAsync(source, platform, cancellationToken).ConfigureAwait(false);
            var created = Created();
            image = BuiltImage.AppendLayers(image, kubernetes.Layers.Select(layer => (layer, new HistoryEntry
            {
                Created = created,
                CreatedBy = $"edgeforge: Kubernetes {cell.K8sDistribution} {cell.K8sVersion} from {source}",
            })));
        }

        var settings = plan.Settings;
        var labels = new Dictionary<string, string>
        {
            [LabelPrefix + "os.name"] = settings.OsDistribution,
            [LabelPrefix + "os.version"] = settings.OsVersion,
            [LabelPrefix + "k8s.distribution"] = cell.K8sDistribution,
            [LabelPrefix + "k8s.version"] = cell.K8sVersion,
            [LabelPrefix + "agent.version"] = settings.PeVersion,
            [LabelPrefix + "custom-tag"] = settings.CustomTag,
            [LabelPrefix + "fips"] = settings.FipsEnabled ? "true" : "false",
            [LabelPrefix + "two-node"] = settings.TwoNode ? "true" : "false",
            ["org.opencontainers.image.version"] = cell.Tag,
            ["org.opencontainers.image.base.name"] = plan.BaseImage,
        };
        return BuiltImage.WithConfig(image, config => config with
        {
            Created = Created(),
            Config = (config.Config ?? new ContainerConfig()) with
            {
                Labels = MergeLabels(config.Config?.Labels, labels),
            },
        }, new HistoryEntry { Created = Created(), CreatedBy = $"edgeforge: labels for {cell.Reference}" });
    }

    /// <summary>Everything below the Kubernetes layer: computed once per matrix, cached across runs.</summary>
    private async Task<BuiltImage> BuildSharedLayersAsync(IImage baseImage, CancellationToken cancellationToken)
    {
        var cache = new LayerCache(options.LayerCacheDirectory ?? Path.Combine(options.Blobs.Root, "edgeforge-layer-cache"), options.Blobs);
        var context = new ContextFiles(plan.ProjectDirectory, DockerIgnore.Load(plan.ProjectDirectory));
        var variables = new BuildVariables(baseImage.Config.Config?.Env);
        var proxies = BuildProxies();
        var workingDirectory = string.IsNullOrEmpty(baseImage.Config.Config?.WorkingDir) ? "/" : baseImage.Config.Config!.WorkingDir!;
        var user = baseImage.Config.Config?.User;
        var labels = new Dictionary<string, string>(baseImage.Config.Config?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var key = baseImage.Digest.ToString();
        var image = BuiltImage.AppendLayers(baseImage, []);
        Workspace? workspace = null;
        try
        {
            async Task Step(string createdBy, string material, Func<RootfsSteps, Task>? onRootfs, Func<IFileTreeSource>? generated = null)
            {
                key = LayerCache.ChainKey(key, material);
                var cached = cache.TryGet(key);
                ILayer? layer;
                if (cached is not null)
                {
                    _reused++;
                    layer = cached.Layer;
                    options.Log($"cached: {createdBy}");
                    if (workspace is not null)
                    {
                        await workspace.ApplyAsync(layer, cancellationToken).ConfigureAwait(false);
                    }
                }
                else if (generated is not null)
                {
                    layer = await LayerWriter.WriteAsync(generated(), options.Blobs, LayerOptions(), cancellationToken).ConfigureAwait(false);
                    _built++;
                    cache.Put(key, layer);
                }
                else
                {
                    workspace ??= await Workspace.CreateAsync(image, options, cancellationToken).ConfigureAwait(false);
                    options.Log($"step: {createdBy}");
                    var before = FilesystemSnapshot.Take(workspace.Root);
                    await onRootfs!(workspace.Steps(context)).ConfigureAwait(false);
                    var changes = FilesystemChanges.Between(workspace.Root, before, FilesystemSnapshot.Take(workspace.Root));
                    layer = changes.IsEmpty ? null : await LayerWriter.WriteAsync(changes, options.Blobs, LayerOptions(), cancellationToken).ConfigureAwait(false);
                    _built++;
                    cache.Put(key, layer);
                }

                var history = new HistoryEntry { Created = Created(), CreatedBy = createdBy };
                image = layer is null
                    ? BuiltImage.WithConfig(image, c => c, history)
                    : BuiltImage.AppendLayers(image, [(layer, history)]);
            }

            if (plan.Inputs.Certificates.Count > 0)
            {
                var store = TrustStore.For(plan.Settings.OsDistribution);
                var certificates = plan.Inputs.Certificates;
                await Step($"edgeforge: CA certificates {string.Join(", ", certificates.Select(c => c.DisplayName))} into /{store.AnchorDirectory}",
                    "certs\n" + store + "\n" + context.Fingerprint(certificates.Select(c => Path.GetRelativePath(plan.ProjectDirectory, c.Path))),
                    steps => steps.InstallCertificatesAsync(certificates, store, WithProxies(variables.ForRun(), proxies), cancellationToken)).ConfigureAwait(false);
            }

            foreach (var instruction in plan.Customisations.Instructions)
            {
                switch (instruction)
                {
                    case RunInstruction run:
                        var runUser = user;
                        var runDirectory = workingDirectory;
                        await Step($"RUN {run.ShellCommand ?? string.Join(' ', run.Exec!)}",
                            $"RUN\n{run.ShellCommand}\n{string.Join('\0', run.Exec ?? [])}\n{variables.Fingerprint()}\n{runUser}\n{runDirectory}",
                            async steps =>
                            {
                                _runs++;
                                await steps.RunAsync(run, variables, proxies, runDirectory, runUser, cancellationToken).ConfigureAwait(false);
                            }).ConfigureAwait(false);
                        break;
                    case CopyInstruction copy:
                        var copyDirectory = workingDirectory;
                        await Step($"{copy.Keyword} {string.Join(' ', copy.Sources)} {copy.Destination}",
                            $"{copy.Keyword}\n{string.Join('\0', copy.Sources.Select(variables.Substitute))}\n{variables.Substitute(copy.Destination)}\n{copy.Chown}\n{copy.Chmod}\n{copyDirectory}\n" +
                            context.Fingerprint(copy.Sources.Select(variables.Substitute)),
                            steps => steps.CopyAsync(copy, variables, copyDirectory, cancellationToken)).ConfigureAwait(false);
                        break;
                    case WorkdirInstruction workdir:
                        var path = variables.Substitute(workdir.Path);
                        workingDirectory = path.StartsWith('/') ? path : workingDirectory.TrimEnd('/') + "/" + path;
                        var directory = workingDirectory;
                        await Step($"WORKDIR {directory}", $"WORKDIR\n{directory}", steps =>
                        {
                            steps.MakeWorkingDirectory(directory);
                            return Task.CompletedTask;
                        }).ConfigureAwait(false);
                        break;
                    case EnvInstruction env:
                        foreach (var (name, value) in env.Variables)
                        {
                            variables.SetEnv(name, variables.Substitute(value));
                        }

                        break;
                    case ArgInstruction arg:
                        variables.SetArg(arg.Name, plan.BuildArguments.GetValueOrDefault(arg.Name) ?? arg.DefaultValue ?? "");
                        break;
                    case LabelInstruction label:
                        foreach (var (name, value) in label.Labels)
                        {
                            labels[variables.Substitute(name)] = variables.Substitute(value);
                        }

                        break;
                    case UserInstruction userInstruction:
                        user = variables.Substitute(userInstruction.User);
                        break;
                }
            }

            var edgeConfiguration = EdgeConfiguration.Files(plan);
            await Step("edgeforge: edge configuration (/oem/.edge_custom_config.yaml, /etc/kairos, /etc/edgeforge-release)",
                "edge-config\n" + EdgeConfiguration.Fingerprint(plan), null, () => edgeConfiguration).ConfigureAwait(false);
        }
        finally
        {
            workspace?.Dispose();
        }

        var finalUser = user;
        var finalDirectory = workingDirectory;
        return BuiltImage.WithConfig(image, config => config with
        {
            Architecture = plan.Settings.Arch,
            Os = "linux",
            Config = (config.Config ?? new ContainerConfig()) with
            {
                Env = variables.ImageEnv,
                User = string.IsNullOrEmpty(finalUser) ? null : finalUser,
                WorkingDir = finalDirectory == "/" ? null : finalDirectory,
                Labels = labels,
            },
        });
    }

    private async Task<IImage> LoadImageAsync(string reference, Platform platform, CancellationToken cancellationToken)
    {
        var location = ImageLocation.Parse(reference.Contains("://", StringComparison.Ordinal) || reference.StartsWith("oci:", StringComparison.Ordinal) ? reference : "docker://" + reference);
        var source = location.OpenSource(options.Registry, options.Blobs);
        var image = await SourceImage.LoadAsync(source, platform, cancellationToken).ConfigureAwait(false);
        if (location.Kind == TransportKind.Registry && location.Reference is { } origin)
        {
            foreach (var layer in image.Layers)
            {
                _origins.TryAdd(layer.Digest, origin);
            }
        }

        // Copy into the local blob cache once, so every later read (unpacking, the matrix, the push) is local and verified.
        var layers = new List<ILayer>();
        foreach (var layer in image.Layers)
        {
            if (!options.Blobs.Contains(layer.Digest))
            {
                await using var blob = await layer.OpenCompressedAsync(cancellationToken).ConfigureAwait(false);
                await options.Blobs.PutAsync(layer.Digest, layer.Size, blob, cancellationToken).ConfigureAwait(false);
            }

            layers.Add(new BlobLayer(options.Blobs.PathOf(layer.Digest), layer.Descriptor, layer.DiffId));
        }

        return BuiltImage.Create(image.Config, layers, image.Manifest.Annotations);
    }

    /// <summary>
    /// Cross-repository mounts (distribution-spec "Mounting a blob from another repository") for layers pulled from the
    /// registry being pushed to: the base and Kubernetes layers are then never uploaded again.
    /// </summary>
    private async Task MountKnownLayersAsync(IImage image, ImageReference destination, CancellationToken cancellationToken)
    {
        foreach (var layer in image.Layers)
        {
            if (_origins.TryGetValue(layer.Digest, out var origin) && origin.Registry == destination.Registry && origin.Repository != destination.Repository
                && !await options.Registry.BlobExistsAsync(destination, layer.Descriptor, cancellationToken).ConfigureAwait(false))
            {
                await options.Registry.TryMountBlobAsync(destination, layer.Descriptor, origin.Repository, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<CopyResult> WriteAsync(IImage image, string destination, CancellationToken cancellationToken)
    {
        await using var target = ImageLocation.Parse(destination).OpenDestination(options.Registry);
        return await ImageCopier.WriteAsync(image, target, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The .arg proxies, in both spellings tools read: for RUN only, never in the image.</summary>
    private Dictionary<string, string> BuildProxies()
    {
        var settings = plan.Settings;
        var proxies = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in new[] { ("HTTP_PROXY", settings.HttpProxy), ("HTTPS_PROXY", settings.HttpsProxy), ("NO_PROXY", settings.NoProxy) })
        {
            if (value.Length > 0)
            {
                proxies[name] = value;
                proxies[name.ToLowerInvariant()] = value;
            }
        }

        return proxies;
    }

    private static Dictionary<string, string> WithProxies(Dictionary<string, string> environment, IReadOnlyDictionary<string, string> proxies)
    {
        foreach (var (name, value) in proxies)
        {
            environment[name] = value;
        }

        return environment;
    }

    private static Dictionary<string, string> MergeLabels(IReadOnlyDictionary<string, string>? existing, Dictionary<string, string> added)
    {
        var labels = new Dictionary<string, string>(existing ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (name, value) in added)
        {
            labels[name] = value;
        }

        return labels;
    }

    private LayerOptions LayerOptions() => new() { SourceDateEpoch = options.SourceDateEpoch };

    private string Created() => BuiltImage.FormatCreated(options.SourceDateEpoch);

    private static string Describe(Exception e) => e switch
    {
        BuildStepException step when step.Output.Count > 0 => step.Message + "\n" + string.Join("\n", step.Output.TakeLast(30).Select(l => "  | " + l)),
        _ => e.Message,
    };

    /// <summary>The unpacked root filesystem the RUN/COPY steps work on; created on the first step that must run.</summary>
    private sealed class Workspace : IDisposable
    {
        private readonly RunSandbox _sandbox;
        private readonly Action<string> _log;

        private Workspace(string root, RunSandbox sandbox, Action<string> log)
        {
            Root = root;
            _sandbox = sandbox;
            _log = log;
        }

        public string Root { get; }

        public static async Task<Workspace> CreateAsync(IImage image, ProviderImageBuildOptions options, CancellationToken cancellationToken)
        {
            var sandbox = RunSandbox.Detect(options.Sandbox);
            var root = Directory.CreateTempSubdirectory("edgeforge-rootfs-").FullName;
            File.SetUnixFileMode(root, (UnixFileMode)Convert.ToInt32("755", 8));
            options.Log($"unpack {image.Layers.Count} layer(s) for the steps that must run");
            await SafeExtractor.ExtractImageAsync(image, root, cancellationToken).ConfigureAwait(false);
            return new Workspace(root, sandbox, options.Log);
        }

        public RootfsSteps Steps(ContextFiles context) => new(Root, context, _sandbox, _log);

        public async Task ApplyAsync(ILayer? layer, CancellationToken cancellationToken)
        {
            if (layer is null)
            {
                return;
            }

            await using var tar = await layer.OpenUncompressedAsync(cancellationToken).ConfigureAwait(false);
            await SafeExtractor.ExtractLayerAsync(tar, Root, cancellationToken).ConfigureAwait(false);
        }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
