using EdgeForge.Build.Composition;
using EdgeForge.Build.Installer;
using EdgeForge.Build.ProviderImages;
using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Planning;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Transports;
using EdgeForge.TrustedBoot.SecureBoot;

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
        if (UpdateKernel.HeadersCommand(Plan.Settings) is { } headers)
        {
            await chain.RunAsync(headers, cancellationToken).ConfigureAwait(false);
        }

        await AddOverlayEtcAsync(chain, cancellationToken).ConfigureAwait(false);

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

        await AddEdgeCustomConfigAsync(chain, cancellationToken).ConfigureAwait(false);
        if (Plan.Settings.TwoNode)
        {
            await AddTwoNodeAsync(chain, cancellationToken).ConfigureAwait(false);
        }

        return chain.Result;
    }

    /// <summary>
    /// CanvOS's TWO_NODE block (<see cref="TwoNode"/>): PostgreSQL in the RUN sandbox, then kine. Here once for the
    /// matrix, not in every cell after its Kubernetes as CanvOS places it: neither reads the Kubernetes files, the
    /// cell's clean-up still runs after them, and a 58-version matrix then installs PostgreSQL once, not 58 times.
    /// </summary>
    private async Task AddTwoNodeAsync(LayerChain chain, CancellationToken cancellationToken)
    {
        var family = PackageFamilies.Of(Plan.Settings.OsDistribution)
            ?? throw new InvalidOperationException("the plan admits TWO_NODE only for apt and zypper operating systems");
        build.Log($"two-node: PostgreSQL with {family.ToString().ToLowerInvariant()}, kine {Plan.Settings.KineVersion} from {Plan.Settings.KineUrl}");
        await chain.RunAsync(TwoNode.PostgresCommand(family, Plan.Settings.Arch), cancellationToken).ConfigureAwait(false);

        var url = Plan.Settings.KineUrl;
        var work = Path.Combine(Plan.ProjectDirectory, "build", $".kine.{Environment.ProcessId}");
        try
        {
            await chain.AddAsync($"RUN mkdir -p /opt/spectrocloud/bin && curl -L {url} | install -m 755 /dev/stdin /{TwoNode.KinePath}", $"kine\n{url}", async () =>
            {
                var (tree, sha256) = await TwoNode.DownloadKineAsync(url, Plan.Settings.Arch, work, build.Options.SourceDateEpoch, cancellationToken).ConfigureAwait(false);
                build.Log($"kine: {url} sha256:{sha256}");
                return tree;
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    /// <summary><c>COPY --if-exists overlay/files/etc/ /etc/</c>, with its logrotate fix-up.</summary>
    private async Task AddOverlayEtcAsync(LayerChain chain, CancellationToken cancellationToken)
    {
        var overlayEtc = Path.Combine(Plan.ProjectDirectory, "overlay", "files", "etc");
        if (Directory.Exists(overlayEtc))
        {
            var tree = ProjectOverlay(overlayEtc, "etc");
            await chain.AddAsync("COPY --if-exists overlay/files/etc/ /etc/", "overlay-etc\n" + await LayerChain.FingerprintAsync(tree, cancellationToken).ConfigureAwait(false),
                () => Task.FromResult<IFileTreeSource>(tree), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>COPY --if-exists "$EDGE_CUSTOM_CONFIG" /oem/.edge_custom_config.yaml</c>.</summary>
    private async Task AddEdgeCustomConfigAsync(LayerChain chain, CancellationToken cancellationToken)
    {
        if (Plan.Inputs.EdgeCustomConfig is { } edgeCustomConfig)
        {
            var tree = new InMemoryFileTreeSource().AddFile("oem/.edge_custom_config.yaml", await File.ReadAllBytesAsync(edgeCustomConfig.Path, cancellationToken).ConfigureAwait(false));
            await chain.AddAsync($"COPY {edgeCustomConfig.DisplayName} /oem/.edge_custom_config.yaml", "edge-custom-config\n" + await LayerChain.FingerprintAsync(tree, cancellationToken).ConfigureAwait(false),
                () => Task.FromResult<IFileTreeSource>(tree), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One matrix cell: its Kubernetes layers, etcdctl, the clean-up and the labels.</summary>
    public async Task<BuiltImage> BuildCellAsync(LayeredImage shared, ProviderImagePlan cell, CancellationToken cancellationToken)
    {
        var chain = new LayerChain(build, shared);
        await AddKubernetesAsync(chain, cell, cancellationToken).ConfigureAwait(false);
        await AddEtcdctlAndCleanupAsync(chain, shared, cancellationToken).ConfigureAwait(false);
        return Labelled(chain.Image, cell);
    }

    /// <summary>The cell's Kubernetes: the explicit image's layers, or the luet packages as one layer; nothing when the host takes system extensions.</summary>
    private async Task AddKubernetesAsync(LayerChain chain, ProviderImagePlan cell, CancellationToken cancellationToken)
    {
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
    }

    /// <summary><c>COPY (+third-party/etcdctl) /usr/bin/</c>, then the clean-up over everything below.</summary>
    private async Task AddEtcdctlAndCleanupAsync(LayerChain chain, LayeredImage shared, CancellationToken cancellationToken)
    {
        var thirdParty = build.ThirdParty ?? throw new InvalidOperationException("pin-upstreams did not pin the third-party image");
        var etcdctl = Plan.Sources.EtcdctlPath;
        await chain.AddAsync($"COPY (+third-party/etcdctl) /usr/bin/ ({thirdParty.Reference})", $"etcdctl\n{thirdParty.Digest}\n{etcdctl}",
            async () => CanvosFiles.Etcdctl(await ImageFileTree.LoadAsync(thirdParty.Image, cancellationToken).ConfigureAwait(false), etcdctl, thirdParty.Reference),
            cancellationToken).ConfigureAwait(false);

        var added = chain.Image.Layers.Skip(shared.Image.Layers.Count).ToList();
        await chain.AddAsync("RUN rm -f /etc/ssh/ssh_host_* /etc/ssh/moduli && touch /etc/machine-id && chmod 444 /etc/machine-id", "cleanup",
            async () => CanvosFiles.Cleanup(await EntriesBelowAsync(shared.Image, added, cancellationToken).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The layers every Trusted Boot provider image of the matrix shares (CanvOS <c>uki-provider-image</c> up to its
    /// per-version copies): CanvOS's Ubuntu image, <c>apt-get install -y rsync</c> in the RUN sandbox,
    /// <c>overlay/files/etc/</c>, luet from the third-party image, kairos-agent from the Kairos base.
    /// </summary>
    public async Task<LayeredImage> BuildTrustedBootSharedAsync(CancellationToken cancellationToken)
    {
        var ubuntu = build.TrustedBootProviderBase ?? throw new InvalidOperationException("pin-upstreams did not pin the Trusted Boot provider base image");
        var start = new LayeredImage(BuiltImage.AppendLayers(ubuntu.Image, []), ubuntu.Digest.ToString());
        var chain = new LayerChain(build, start);
        await chain.RunAsync(TrustedBootPackageInstall, cancellationToken).ConfigureAwait(false);
        await AddOverlayEtcAsync(chain, cancellationToken).ConfigureAwait(false);

        var thirdParty = build.ThirdParty ?? throw new InvalidOperationException("pin-upstreams did not pin the third-party image");
        var luet = Plan.Sources.LuetPath;
        await chain.AddAsync($"COPY (+third-party/luet --binary=luet) /usr/bin/luet ({thirdParty.Reference})", $"luet-binary\n{thirdParty.Digest}\n{luet}",
            async () => CanvosFiles.ThirdPartyBinary(await ImageFileTree.LoadAsync(thirdParty.Image, cancellationToken).ConfigureAwait(false), luet, thirdParty.Reference,
                "luet", "usr/bin/luet"), cancellationToken).ConfigureAwait(false);

        var kairos = build.Base ?? throw new InvalidOperationException("pin-upstreams did not pin the base image");
        await chain.AddAsync($"COPY +kairos-agent/kairos-agent /usr/bin/kairos-agent ({kairos.Reference})", $"kairos-agent\n{kairos.Digest}",
            async () => CanvosFiles.KairosAgent(await ImageFileTree.LoadAsync(kairos.Image, cancellationToken).ConfigureAwait(false), kairos.Reference),
            cancellationToken).ConfigureAwait(false);
        return chain.Result;
    }

    /// <summary>What CanvOS's uki-provider-image runs on its Ubuntu image (kairos-agent's upgrades copy with rsync).</summary>
    public const string TrustedBootPackageInstall = "apt-get update && apt-get install -y rsync";

    /// <summary>
    /// One Trusted Boot matrix cell (CanvOS <c>uki-provider-image</c>). First the provider root filesystem as CanvOS's
    /// provider-image makes it with IS_UKI=true — Kubernetes as links into <c>/opt/k8s</c>, etcdctl, the clean-up — which
    /// is not published: AuroraBoot's build-uki turns it into a signed unified kernel image. Then the published image:
    /// the shared Ubuntu layers, the boot files under <c>/trusted-boot</c>, the Kubernetes files under <c>/k8s</c> with
    /// the bundled sentinel, the edge custom config and the stylus cloud-config.
    /// </summary>
    public async Task<BuiltImage> BuildTrustedBootCellAsync(LayeredImage shared, LayeredImage trustedBootShared, ProviderImagePlan cell, CancellationToken cancellationToken)
    {
        var settings = Plan.Settings.TrustedBoot ?? throw new InvalidOperationException("a Trusted Boot cell needs IS_UKI=true");
        var kubernetesChain = new LayerChain(build, shared);
        await AddKubernetesAsync(kubernetesChain, cell, cancellationToken).ConfigureAwait(false);
        var kubernetesLayers = kubernetesChain.Image.Layers.Skip(shared.Image.Layers.Count).ToList();
        IFileTreeSource? kubernetes = kubernetesLayers.Count == 0 ? null
            : await ImageFileTree.LoadAsync(kubernetesLayers.Select(l => (Func<CancellationToken, Task<Stream>>)l.OpenUncompressedAsync).ToList(), cancellationToken).ConfigureAwait(false);
        var kubernetesMaterial = kubernetesChain.Key;

        var rootfs = new LayerChain(build, shared);
        if (kubernetes is not null)
        {
            await rootfs.AddAsync($"COPY +install-k8s/output/ /k8s && slink --source /k8s/ --target /{CanvosFiles.TrustedBootKubernetesTarget} && rm -rf /k8s && " +
                                  $"ln -sf /opt/spectrocloud/bin/{CanvosFiles.TrustedBootKeptAgentBinary} /usr/local/bin/", "kubernetes-links\n" + kubernetesMaterial,
                () => Task.FromResult<IFileTreeSource>(CanvosFiles.KubernetesLinks(kubernetes)), cancellationToken).ConfigureAwait(false);
        }

        await AddEtcdctlAndCleanupAsync(rootfs, shared, cancellationToken).ConfigureAwait(false);

        var chain = new LayerChain(build, trustedBootShared);
        using (var keys = SecureBootKeySet.Load(Path.Combine(Plan.ProjectDirectory, TrustedBootSettings.KeysDirectory)))
        {
            var work = Path.Combine(Plan.ProjectDirectory, "build", $".uki-work.{cell.Tag}.{Environment.ProcessId}");
            try
            {
                await chain.AddAsync($"COPY +trust-boot-unpack/ /{CanvosFiles.TrustedBootDirectory} (build-uki of the provider root filesystem, signed by {keys.DbCertificate.Subject})",
                    $"trusted-boot\n{rootfs.Key}\n{KeyMaterial(keys)}\n{build.Options.BootAssets ?? Plan.Settings.BootAssets}\n{TrustedBootMedia.ProviderCommandLine}",
                    () => TrustedBootFilesAsync(rootfs.Image, settings, keys, cell, work, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
        }

        if (kubernetes is not null)
        {
            await chain.AddAsync($"COPY --keep-ts +install-k8s/output/ /{CanvosFiles.TrustedBootKubernetesCopy} && touch /{CanvosFiles.BundledSentinel}", "kubernetes-copy\n" + kubernetesMaterial,
                () => Task.FromResult<IFileTreeSource>(CanvosFiles.KubernetesCopy(kubernetes)), cancellationToken).ConfigureAwait(false);
        }

        await AddEdgeCustomConfigAsync(chain, cancellationToken).ConfigureAwait(false);
        var stylus = build.StylusFramework ?? throw new InvalidOperationException("pin-upstreams did not pin the stylus framework image");
        await chain.AddAsync($"COPY --if-exists +stylus-image/etc/kairos/80_stylus.yaml /etc/kairos/80_stylus.yaml ({stylus.Reference})", $"stylus-cloud-config\n{stylus.Digest}",
            async () => CanvosFiles.StylusCloudConfig(await ImageFileTree.LoadAsync(stylus.Image, cancellationToken).ConfigureAwait(false)), cancellationToken).ConfigureAwait(false);
        return Labelled(chain.Image, cell, Plan.Sources.TrustedBootProviderBase!.Reference, build.TrustedBootProviderBase!.Digest.ToString());
    }

    /// <summary>
    /// What AuroraBoot's <c>build-uki -t container</c> puts in its image and CanvOS unpacks to <c>/trusted-boot</c>: the
    /// EFI system partition's files (signed systemd-boot, the signed image, the loader configuration and entry, the
    /// enrolment updates), which the host's upgrade copies to its partition.
    /// </summary>
    private async Task<IFileTreeSource> TrustedBootFilesAsync(IImage rootfs, TrustedBootSettings settings, SecureBootKeySet keys, ProviderImagePlan cell, string work,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(work);
        var builder = new InstallerIsoBuilder(Plan, new InstallerIsoOptions
        {
            BootAssets = build.Options.BootAssets,
            SourceDateEpoch = build.Options.SourceDateEpoch,
            Registry = build.Options.Registry,
            Blobs = build.Options.Blobs,
            Observer = build.Options.Observer,
            StepName = build.Scope?.Name ?? "provider-image " + cell.Tag,
        });
        var image = await builder.UnifiedKernelImageAsync(rootfs, settings, TrustedBootMedia.ProviderEntries, keys, "provider", work, cancellationToken).ConfigureAwait(false);
        build.Log($"{cell.Tag}: {TrustedBootMedia.EntryName}.efi {image.Images.Single().Length:N0} bytes (kernel {image.Kernel}), systemd-boot and stub from {image.AssetsFrom}");
        // CanvOS passes build-uki no --secure-boot-enroll for provider images: AuroraBoot's default, if-safe.
        return TrustedBootMedia.BootFileTree(CanvosFiles.TrustedBootDirectory, image, TrustedBootMedia.LoaderConfiguration(autoEnroll: false),
            InstallerIsoBuilder.EnrolmentFiles(keys), build.Options.SourceDateEpoch);
    }

    /// <summary>The signing certificate and the enrolment updates: a new key set re-signs (and rebuilds) the boot files.</summary>
    private static string KeyMaterial(SecureBootKeySet keys)
    {
        var parts = new List<string> { Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(keys.DbCertificate.RawData)) };
        parts.AddRange(InstallerIsoBuilder.EnrolmentFiles(keys).OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => e.Key + ":" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(e.Value)))));
        return string.Join("\n", parts);
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

    private BuiltImage Labelled(BuiltImage image, ProviderImagePlan cell, string? baseName = null, string? baseDigest = null)
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
            ["org.opencontainers.image.base.name"] = baseName ?? Plan.Sources.Base.Reference,
            ["org.opencontainers.image.base.digest"] = baseDigest ?? build.Base!.Digest.ToString(),
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
