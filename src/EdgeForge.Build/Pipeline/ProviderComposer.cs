using EdgeForge.Build.Composition;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Configuration.Planning;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Build.Pipeline;

/// <summary>
/// CanvOS's <c>provider-image</c> target as layers (EDGEFORGE.md §5), on the common layers: the project's
/// <c>overlay/files/etc/</c> → the Kairos provider plugin (normalised to <c>/system/providers/</c>) and the bundled
/// sentinel → the stylus files → <c>/oem/.edge_custom_config.yaml</c> (all shared by the matrix), then per Kubernetes
/// version: Kubernetes from luet → <c>etcdctl</c> → clean-up → labels.
/// </summary>
internal sealed class ProviderComposer(BuildContext build)
{
    public const string LabelPrefix = "io.edgeforge.";

    private IReadOnlyList<FileTreeEntry>? _sharedEntries;

    private BuildPlan Plan => build.Plan;

    /// <summary>The layers every provider image of the matrix shares.</summary>
    public async Task<LayeredImage> BuildSharedAsync(LayeredImage common, CancellationToken cancellationToken)
    {
        var chain = new LayerChain(build, common);
        var overlayEtc = Path.Combine(Plan.ProjectDirectory, "overlay", "files", "etc");
        if (Directory.Exists(overlayEtc))
        {
            var tree = ProjectOverlay(overlayEtc, "etc");
            await chain.AddAsync("COPY --if-exists overlay/files/etc/ /etc/", "overlay-etc\n" + await LayerChain.FingerprintAsync(tree, cancellationToken).ConfigureAwait(false),
                () => Task.FromResult<IFileTreeSource>(tree), cancellationToken).ConfigureAwait(false);
        }

        if (build.BundleKubernetes && Plan.Settings.K8sProviderSource is null)
        {
            var provider = build.KairosProvider ?? throw new InvalidOperationException("pin-upstreams did not pin the Kairos provider image");
            await chain.AddAsync($"COPY +kairos-provider-image/ / ({provider.Reference}), agent-provider-* in /system/providers, {CanvosFiles.BundledSentinel}",
                $"kairos-provider\n{provider.Digest}", async () =>
                {
                    var tree = CanvosFiles.KairosProvider(await ImageFileTree.LoadAsync(provider.Image, cancellationToken).ConfigureAwait(false));
                    if (CanvosFiles.AgentProviders(tree).Count == 0)
                    {
                        throw new UpstreamContentException($"the Kairos provider image {provider.Reference} ({provider.SetBy}) has no agent-provider-* " +
                            "in /system/providers or /usr/local/system/providers: it is not a Kairos provider image");
                    }

                    return tree;
                }, cancellationToken).ConfigureAwait(false);
        }

        var stylus = build.StylusFramework ?? throw new InvalidOperationException("pin-upstreams did not pin the stylus framework image");
        await chain.AddAsync($"COPY stylus framework files ({stylus.Reference}): /etc/kairos/branding, 80_stylus.yaml, stylus_config.yaml, /etc/elemental/config.yaml",
            $"stylus-provider\n{stylus.Digest}",
            async () => CanvosFiles.StylusForProvider(await ImageFileTree.LoadAsync(stylus.Image, cancellationToken).ConfigureAwait(false), stylus.Reference),
            cancellationToken).ConfigureAwait(false);

        if (Plan.Inputs.EdgeCustomConfig is { } edgeCustomConfig)
        {
            var tree = new InMemoryFileTreeSource().AddFile("oem/.edge_custom_config.yaml", await File.ReadAllBytesAsync(edgeCustomConfig.Path, cancellationToken).ConfigureAwait(false));
            await chain.AddAsync($"COPY {edgeCustomConfig.DisplayName} /oem/.edge_custom_config.yaml", "edge-custom-config\n" + await LayerChain.FingerprintAsync(tree, cancellationToken).ConfigureAwait(false),
                () => Task.FromResult<IFileTreeSource>(tree), cancellationToken).ConfigureAwait(false);
        }

        return chain.Result;
    }

    /// <summary>One matrix cell: its Kubernetes layers, etcdctl, the clean-up and the labels.</summary>
    public async Task<BuiltImage> BuildCellAsync(LayeredImage shared, ProviderImagePlan cell, CancellationToken cancellationToken)
    {
        var chain = new LayerChain(build, shared);
        if (cell.K8sSource is { } source)
        {
            build.Log($"Kubernetes {cell.K8sDistribution} {cell.K8sVersion} from {source} (K8S_PROVIDER_SOURCE)");
            var kubernetes = await build.Puller.PinAsync($"Kubernetes {cell.K8sVersion}", source, "K8S_PROVIDER_SOURCE", cancellationToken: cancellationToken).ConfigureAwait(false);
            chain.AddLayers(kubernetes.Image, $"edgeforge: Kubernetes {cell.K8sDistribution} {cell.K8sVersion} from {source}");
        }
        else if (build.BundleKubernetes)
        {
            if (build.CellErrors.TryGetValue(cell.Tag, out var error))
            {
                throw new UpstreamContentException(error);
            }

            var luet = build.Luet ?? throw new InvalidOperationException("pin-upstreams did not open the luet repository");
            var packages = build.KubernetesPackages[cell.Tag];
            await chain.AddLayerAsync($"luet install -y {cell.LuetPackage} --system-target / (from {luet.Repository})",
                $"luet\n{luet.Repository}\n{luet.IndexDigest}\n{string.Join("\n", packages.Select(p => p.ToString()))}",
                async () => await luet.WriteFilesLayerAsync(packages, build.Options.Blobs, build.LayerOptions(), cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        }

        var thirdParty = build.ThirdParty ?? throw new InvalidOperationException("pin-upstreams did not pin the third-party image");
        var etcdctl = Plan.Sources.EtcdctlPath;
        await chain.AddAsync($"COPY (+third-party/etcdctl) /usr/bin/ ({thirdParty.Reference})", $"etcdctl\n{thirdParty.Digest}\n{etcdctl}",
            async () => CanvosFiles.Etcdctl(await ImageFileTree.LoadAsync(thirdParty.Image, cancellationToken).ConfigureAwait(false), etcdctl, thirdParty.Reference),
            cancellationToken).ConfigureAwait(false);

        var added = chain.Image.Layers.Skip(shared.Image.Layers.Count).ToList();
        await chain.AddAsync("RUN rm -f /etc/ssh/ssh_host_* /etc/ssh/moduli && touch /etc/machine-id && chmod 444 /etc/machine-id", "cleanup",
            async () => CanvosFiles.Cleanup(await EntriesBelowAsync(shared.Image, added, cancellationToken).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);

        return Labelled(chain.Image, cell);
    }

    /// <summary>
    /// The project's overlay copied as CanvOS does (<c>COPY overlay/files/… /…</c>), with its one fix-up:
    /// <c>chmod 644 /etc/logrotate.d/stylus.conf</c> (logrotate ignores a group- or world-writable configuration).
    /// </summary>
    public static MappedFileTree ProjectOverlay(string directory, string destination)
    {
        var tree = MappedFileTree.FromDirectory(directory, destination);
        return MappedFileTree.Create(tree, path => path, adjust: entry => entry.Path == "etc/logrotate.d/stylus.conf" ? entry with { Mode = 0x1A4 } : entry);
    }

    /// <summary>The flattened entries of the shared image (read once per build) with those of the cell's own layers over them.</summary>
    private async Task<IReadOnlyList<FileTreeEntry>> EntriesBelowAsync(BuiltImage shared, IReadOnlyList<ILayer> added, CancellationToken cancellationToken)
    {
        _sharedEntries ??= (await ImageFileTree.LoadAsync(shared, cancellationToken).ConfigureAwait(false)).Entries;
        if (added.Count == 0)
        {
            return _sharedEntries;
        }

        var top = await ImageFileTree.LoadAsync(added.Select(l => (Func<CancellationToken, Task<Stream>>)l.OpenUncompressedAsync).ToList(), cancellationToken).ConfigureAwait(false);
        return _sharedEntries.Concat(top.Entries).ToList();
    }

    private BuiltImage Labelled(BuiltImage image, ProviderImagePlan cell)
    {
        var settings = Plan.Settings;
        var labels = new Dictionary<string, string>(image.Config.Config?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [LabelPrefix + "os.name"] = settings.OsDistribution,
            [LabelPrefix + "os.version"] = settings.OsVersion,
            [LabelPrefix + "k8s.distribution"] = cell.K8sDistribution,
            [LabelPrefix + "k8s.version"] = cell.K8sVersion,
            [LabelPrefix + "k8s.bundled"] = build.BundleKubernetes || cell.K8sSource is not null ? "true" : "false",
            [LabelPrefix + "agent.version"] = settings.PeVersion,
            [LabelPrefix + "custom-tag"] = settings.CustomTag,
            [LabelPrefix + "fips"] = settings.FipsEnabled ? "true" : "false",
            [LabelPrefix + "two-node"] = settings.TwoNode ? "true" : "false",
            ["org.opencontainers.image.version"] = cell.Tag,
            ["org.opencontainers.image.base.name"] = Plan.Sources.Base.Reference,
            ["org.opencontainers.image.base.digest"] = build.Base!.Digest.ToString(),
        };
        return BuiltImage.WithConfig(image, config => config with
        {
            Created = build.Created(),
            Config = (config.Config ?? new ContainerConfig()) with { Labels = labels },
        }, new HistoryEntry { Created = build.Created(), CreatedBy = $"edgeforge: labels for {cell.Reference}" });
    }

    /// <summary>Writes (and with --push, pushes) one cell's image, mounting layers the registry already has elsewhere.</summary>
    public async Task PublishAsync(BuiltImage image, ProviderImagePlan cell, SemaphoreSlim layoutLock, CancellationToken cancellationToken)
    {
        var layout = build.Options.OutputLayout ?? Path.Combine(Plan.ProjectDirectory, "build", "images");
        await layoutLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var written = await WriteAsync(image, $"oci:{layout}:{cell.Tag}", cancellationToken).ConfigureAwait(false);
            if (!build.Options.Push)
            {
                build.Counters.Transferred(written.BlobsTransferred, written.BlobsSkipped);
            }
        }
        catch
        {
            layoutLock.Release();
            throw;
        }

        // Pushes go one at a time: the cells share most blobs, and two uploads of one blob at once make the
        // Distribution registry refuse one of them (DIGEST_INVALID / MANIFEST_BLOB_UNKNOWN).
        try
        {
            await PushAsync(image, cell, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            layoutLock.Release();
        }
    }

    private async Task PushAsync(BuiltImage image, ProviderImagePlan cell, CancellationToken cancellationToken)
    {
        if (build.Options.Push)
        {
            build.Log($"push {cell.Reference}");
            var destination = ImageReference.Parse(cell.Reference);
            foreach (var layer in image.Layers)
            {
                if (build.Puller.Origins.TryGetValue(layer.Digest, out var origin) && origin.Registry == destination.Registry && origin.Repository != destination.Repository
                    && !await build.Options.Registry.BlobExistsAsync(destination, layer.Descriptor, cancellationToken).ConfigureAwait(false))
                {
                    await build.Options.Registry.TryMountBlobAsync(destination, layer.Descriptor, origin.Repository, cancellationToken).ConfigureAwait(false);
                }
            }

            var pushed = await WriteAsync(image, "docker://" + cell.Reference, cancellationToken).ConfigureAwait(false);
            build.Counters.Transferred(pushed.BlobsTransferred, pushed.BlobsSkipped);
        }
    }

    private async Task<CopyResult> WriteAsync(IImage image, string destination, CancellationToken cancellationToken)
    {
        await using var target = ImageLocation.Parse(destination).OpenDestination(build.Options.Registry);
        // Bytes written to the layout and pushed count as the cell's progress.
        return await ImageCopier.WriteAsync(image, target, new CopyOptions { Progress = build.Scope }, cancellationToken).ConfigureAwait(false);
    }
}
