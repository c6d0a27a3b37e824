using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EdgeForge.Compression;
using EdgeForge.Content.Signing;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Content.Bundles;

public enum BundleFormat
{
    Zst,
    Tar,
    Iso,
}

public sealed record ContentBundleOptions
{
    /// <summary>The bundle goes to <c>OutputDirectory/content-ID/NAME.EXT</c> (the folder convention the ISO build embeds).</summary>
    public required string OutputDirectory { get; init; }

    public string Name { get; init; } = "content";

    public BundleFormat Format { get; init; } = BundleFormat.Zst;

    /// <summary>zstd level (1..19; <c>zstd -3</c> is the default of the tool and of ours).</summary>
    public int Level { get; init; } = 3;

    /// <summary>zstd worker threads (libzstd ZSTD_c_nbWorkers); 0 compresses on the calling thread.</summary>
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Reduce every image to this architecture (digests of indexes change); null keeps every platform.</summary>
    public string? Architecture { get; init; }

    /// <summary>
    /// SOURCE_DATE_EPOCH (reproducible-builds.org): <c>created</c> and every tar/ISO timestamp. When unset, entries
    /// get time 0 (still reproducible) and <c>created</c> records the actual build time.
    /// </summary>
    public long? SourceDateEpoch { get; init; } =
        long.TryParse(Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH"), out var epoch) && epoch >= 0 ? epoch : null;

    /// <summary>Bundles built before (any format) whose blobs are reused instead of fetched again.</summary>
    public IReadOnlyList<string> ExistingBundles { get; init; } = [];

    /// <summary>When set, a detached signature <c>BUNDLE.sig</c> is written (spec §9).</summary>
    public RSA? SigningKey { get; init; }

    /// <summary>Receives one line per stage (resolve, fetch, write, sign) for the user's progress display.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Receives each stage as it begins and its bytes as they move: fetched from the registries (per blob), and read
    /// into the bundle (the total is the bundle's content before compression).
    /// </summary>
    public IProgress<ContentBundleProgress>? Progress { get; init; }
}

/// <summary>The stages of <see cref="ContentBundleBuilder.BuildAsync"/>, in order.</summary>
public enum ContentBundleStage
{
    Resolve,
    Fetch,
    Write,
    Sign,
}

/// <summary>Where a content build is: its stage, and bytes done of the stage's total (0 of 0 for stages without a size).</summary>
public readonly record struct ContentBundleProgress(ContentBundleStage Stage, long Bytes, long Total);

public sealed record ContentBundleResult(string BundlePath, string? SignaturePath, BundleDefinition Definition);

/// <summary>
/// Builds a content bundle (spec §9): an OCI image layout of every image of an image list and of cluster profiles,
/// plus Helm charts, pack descriptions, manifests and <c>bundle-definition.yaml</c>, as one tar — zstd-compressed, plain,
/// or as an ISO 9660 image. Stages: resolve the images' manifests, fill the blob cache from the registries (every
/// blob verified against its digest as it is stored, blobs already cached are not fetched again), then stream
/// cache → tar → zstd → a temporary file renamed when complete. The bundle is never held in memory and no blob is
/// copied to a staging directory: the cache file is the only copy until it is written into the bundle.
/// </summary>
public sealed class ContentBundleBuilder(RegistryClient client, BlobCache cache)
{
    private const int MaxParallelFetches = 4;
    private const string LayoutVersion = "{\"imageLayoutVersion\":\"1.0.0\"}";

    public async Task<ContentBundleResult> BuildAsync(ContentInputs inputs, ContentBundleOptions options, CancellationToken cancellationToken = default)
    {
        if (!ClusterProfileFile.IsSafeName(options.Name))
        {
            throw new ArgumentException($"bundle name \"{options.Name}\" may hold only letters, digits, '.', '_' and '-'");
        }

        var log = options.Log ?? (_ => { });
        var progress = options.Progress;
        progress?.Report(new ContentBundleProgress(ContentBundleStage.Resolve, 0, 0));
        var platform = options.Architecture is null ? null : Platform.Parse(options.Architecture.Contains('/') ? options.Architecture : "linux/" + options.Architecture);
        var id = await ComputeIdAsync(inputs, options, cancellationToken).ConfigureAwait(false);

        log($"resolve: {inputs.Images.Count} image reference(s), {inputs.Profiles.Count} profile(s)");
        var layout = new LayoutContent();
        foreach (var image in inputs.Images.DistinctBy(i => i.Reference.ToString()))
        {
            await AddImageAsync(layout, image.Reference, image.Origin, platform, cancellationToken).ConfigureAwait(false);
        }

        var files = new List<BundleFile>();
        var definition = new BundleDefinition
        {
            Name = options.Name,
            Id = id,
            Created = (options.SourceDateEpoch is { } epoch ? DateTimeOffset.FromUnixTimeSeconds(epoch) : DateTimeOffset.UtcNow).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Arch = platform?.Architecture ?? "all",
        };
        await AddProfilesAsync(layout, inputs.Profiles, definition, files, cancellationToken).ConfigureAwait(false);
        await FillCacheAsync(layout, options.ExistingBundles, log, progress, cancellationToken).ConfigureAwait(false);
        await RecordPlatformsAsync(layout, platform, cancellationToken).ConfigureAwait(false);

        definition.Images = [.. layout.Entries.Where(e => !e.IsChart).Select(e => new BundleImage
        {
            Reference = e.Reference,
            Digest = e.Root.Digest.ToString(),
            MediaType = e.Root.MediaType,
            Size = e.Size,
            Platforms = e.Platforms,
        })];
        var blobs = layout.Blobs.Values.OrderBy(b => b.Digest.ToString(), StringComparer.Ordinal).ToList();
        var index = new ImageIndex
        {
            SchemaVersion = 2,
            MediaType = MediaTypes.OciIndex,
            Manifests = [.. layout.Entries.Select(e => e.Root with
            {
                Annotations = new Dictionary<string, string> { [Annotations.RefName] = e.Reference },
                Platform = e.Platforms.Count == 1 && !MediaTypes.IsIndex(e.Root.MediaType) ? Platform.Parse(e.Platforms[0]) : null,
            })],
        };
        var head = new List<BundleFile>
        {
            BundleFile.FromBytes(OciLayout.LayoutFile, Encoding.UTF8.GetBytes(LayoutVersion)),
            BundleFile.FromBytes(OciLayout.IndexFile, OciJson.Serialize(index)),
        };
        var blobFiles = blobs.Select(b => layout.Manifests.TryGetValue(b.Digest, out var manifest)
            ? BundleFile.FromBytes($"blobs/{b.Digest.Algorithm}/{b.Digest.Encoded}", manifest.Bytes.ToArray())
            : BundleFile.FromFile($"blobs/{b.Digest.Algorithm}/{b.Digest.Encoded}", cache.PathOf(b.Digest), b.Size, b.Digest)).ToList();

        definition.Totals = new BundleTotals
        {
            Images = definition.Images.Count,
            Blobs = blobs.Count,
            BlobBytes = blobs.Sum(b => b.Size),
            Charts = definition.Charts.Count,
            Packs = definition.Packs.Count,
            Manifests = definition.Packs.Sum(p => p.Manifests.Count),
        };
        // The definition counts its own bytes too; its length depends on that number, so settle it by iterating.
        var others = head.Concat(blobFiles).Concat(files).Sum(f => f.Size);
        byte[] definitionBytes = [];
        for (var i = 0; i < 4; i++)
        {
            definition.Totals.ContentBytes = others + definitionBytes.Length;
            definitionBytes = Encoding.UTF8.GetBytes(definition.ToYaml());
        }

        // bundle-definition.yaml first, then the layout metadata: `content inspect` reads only the first entries.
        var ordered = new List<BundleFile> { BundleFile.FromBytes(BundleDefinition.FileName, definitionBytes) };
        ordered.AddRange(head);
        ordered.AddRange(blobFiles);
        ordered.AddRange(files);

        var directory = Path.Combine(options.OutputDirectory, "content-" + id);
        Directory.CreateDirectory(directory);
        var extension = options.Format switch { BundleFormat.Zst => ".zst", BundleFormat.Tar => ".tar", _ => ".iso" };
        var bundlePath = Path.Combine(directory, options.Name + extension);
        var temporary = Path.Combine(directory, $".{options.Name}{extension}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        log($"write: {bundlePath} ({ordered.Count} files, {definition.Totals.ContentBytes} bytes before compression)");
        if (progress is not null)
        {
            // Progress counts what is read into the bundle: its size before compression is known, the output's is not.
            long read = 0;
            var contentBytes = definition.Totals.ContentBytes;
            progress.Report(new ContentBundleProgress(ContentBundleStage.Write, 0, contentBytes));
            ordered = [.. ordered.Select(f => f with { OnRead = n => progress.Report(new ContentBundleProgress(ContentBundleStage.Write, Interlocked.Add(ref read, n), contentBytes)) })];
        }

        try
        {
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                await WriteAsync(ordered, output, options, cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }

            File.Move(temporary, bundlePath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        string? signaturePath = null;
        if (options.SigningKey is { } key)
        {
            log($"sign: {bundlePath}{ContentSignature.Extension}");
            progress?.Report(new ContentBundleProgress(ContentBundleStage.Sign, 0, 0));
            signaturePath = await ContentSignature.SignFileAsync(bundlePath, key, cancellationToken).ConfigureAwait(false);
        }

        return new ContentBundleResult(bundlePath, signaturePath, definition);
    }

    private static async Task WriteAsync(IReadOnlyList<BundleFile> files, Stream output, ContentBundleOptions options, CancellationToken cancellationToken)
    {
        if (options.Format == BundleFormat.Iso)
        {
            // Rock Ridge carries the long names (blobs/sha256/<64 hex>); Joliet's 64-character limit would not.
            var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "EDGEFORGE_CONTENT", Joliet = false, Timestamp = options.SourceDateEpoch ?? 0 });
            writer.AddFileTree(new BundleFileTree(files.Select(f => (f.Path, f.Size, (Func<Stream>)f.Open)), options.SourceDateEpoch ?? 0));
            await writer.WriteAsync(output, cancellationToken).ConfigureAwait(false);
            return;
        }

        Stream tarOutput = output;
        ZstdCompressStream? zstd = null;
        if (options.Format == BundleFormat.Zst)
        {
            zstd = new ZstdCompressStream(output, options.Level, options.Workers, leaveOpen: true);
            tarOutput = zstd;
        }

        try
        {
            await using (var tar = new DeterministicTarWriter(tarOutput, options.SourceDateEpoch ?? 0))
            {
                var written = new HashSet<string>(StringComparer.Ordinal);
                foreach (var file in files)
                {
                    foreach (var parent in BundleFileTree.Parents(file.Path).Where(written.Add))
                    {
                        await tar.WriteEntryAsync(new FileTreeEntry { Path = parent, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED }, null, cancellationToken).ConfigureAwait(false);
                    }

                    var entry = new FileTreeEntry { Path = file.Path, Kind = FileTreeEntryKind.RegularFile, Mode = 0x1A4, Size = file.Size };
                    await using var content = file.Open();
                    await tar.WriteEntryAsync(entry, content, cancellationToken).ConfigureAwait(false);
                    await BundleFileTree.ReadToEndAsync(content, file.Path, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (zstd is not null)
            {
                await zstd.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Resolves one reference and records its manifests and the blobs they name (fetched later, all at once).</summary>
    private async Task AddImageAsync(LayoutContent layout, ImageReference reference, string origin, Platform? platform, CancellationToken cancellationToken, bool isChart = false)
    {
        var name = reference.ToString();
        var source = new RegistryImageSource(client, reference, cache);
        ManifestContent root;
        try
        {
            root = await source.GetManifestAsync(cancellationToken).ConfigureAwait(false);
            // --arch: an index is replaced by the manifest of that platform (spec §9: "Images pulled for a chosen
            // --arch become single-arch (digests change)").
            while (platform is not null && root.IsIndex)
            {
                var chosen = root.AsIndex().SelectPlatform(platform);
                root = (await source.GetManifestAsync(chosen, cancellationToken).ConfigureAwait(false)).VerifiedAgainst(chosen);
            }
        }
        catch (PlatformNotFoundException e)
        {
            throw new ContentBundleException($"{name} (from {origin}): {e.Message}");
        }
        catch (RegistryException e)
        {
            throw new ContentBundleException($"{name} (from {origin}): {e.Message}");
        }

        var entry = new LayoutEntry(name, origin, root.Descriptor, isChart);
        await CollectAsync(layout, entry, source, root, depth: 0, cancellationToken).ConfigureAwait(false);
        layout.Entries.Add(entry);
    }

    private static async Task CollectAsync(LayoutContent layout, LayoutEntry entry, RegistryImageSource source, ManifestContent manifest, int depth, CancellationToken cancellationToken)
    {
        if (depth > 4)
        {
            throw new ContentBundleException($"{entry.Reference}: indexes nested too deep");
        }

        entry.Size += manifest.Bytes.Length;
        layout.Manifests.TryAdd(manifest.Digest, manifest);
        layout.Blobs.TryAdd(manifest.Digest, manifest.Descriptor);
        if (manifest.IsIndex)
        {
            foreach (var child in manifest.AsIndex().Manifests)
            {
                var childManifest = (await source.GetManifestAsync(child, cancellationToken).ConfigureAwait(false)).VerifiedAgainst(child);
                await CollectAsync(layout, entry, source, childManifest, depth + 1, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var image = manifest.AsManifest();
        // Foreign layers live at their URLs, not in registries (image-spec layer.md "Non-distributable"), and are
        // not copied by registries or by skopeo either.
        foreach (var blob in new[] { image.Config }.Concat(image.Layers.Where(l => l.Urls is not { Count: > 0 })).DistinctBy(b => b.Digest))
        {
            entry.Size += blob.Size;
            if (layout.Blobs.TryAdd(blob.Digest, blob))
            {
                layout.Sources[blob.Digest] = source;
            }
        }

        if (image.Config.MediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig)
        {
            entry.Configs.Add(image.Config);
        }
    }

    /// <summary>
    /// Puts every blob the bundle needs into the cache: blobs already there are kept, blobs found in
    /// <paramref name="existingBundles"/> are taken from them (one streaming pass over each), the rest is fetched
    /// from the registries. Every blob is verified against its digest and size as it is stored.
    /// </summary>
    private async Task FillCacheAsync(LayoutContent layout, IReadOnlyList<string> existingBundles, Action<string> log, IProgress<ContentBundleProgress>? progress,
        CancellationToken cancellationToken)
    {
        bool Cached(Descriptor blob) => new FileInfo(cache.PathOf(blob.Digest)) is { Exists: true } file && file.Length == blob.Size;
        var missing = layout.Sources.Keys.Select(d => layout.Blobs[d]).Where(b => !Cached(b)).ToDictionary(b => b.Digest.Encoded, StringComparer.Ordinal);
        log($"cache: {layout.Sources.Count - missing.Count} of {layout.Sources.Count} blobs already cached");
        foreach (var bundle in existingBundles)
        {
            if (missing.Count == 0)
            {
                break;
            }

            var reused = 0;
            await foreach (var (name, content) in ContentBundleReader.EntriesAsync(bundle, cancellationToken).ConfigureAwait(false))
            {
                if (content is not null && name.StartsWith("blobs/sha256/", StringComparison.Ordinal) && missing.Remove(name["blobs/sha256/".Length..], out var blob))
                {
                    await cache.PutAsync(blob.Digest, blob.Size, content, cancellationToken).ConfigureAwait(false);
                    reused++;
                }
            }

            log($"cache: {reused} blobs taken from {bundle}");
        }

        log($"fetch: {missing.Count} blobs from the registries");
        var total = missing.Values.Sum(b => b.Size);
        long fetched = 0;
        progress?.Report(new ContentBundleProgress(ContentBundleStage.Fetch, 0, total));
        await Parallel.ForEachAsync(missing.Values, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelFetches, CancellationToken = cancellationToken }, async (blob, ct) =>
        {
            // The registry source stores the blob in the cache, verified against digest and size, before opening it.
            await using var stream = await layout.Sources[blob.Digest].OpenBlobAsync(blob, ct).ConfigureAwait(false);
            progress?.Report(new ContentBundleProgress(ContentBundleStage.Fetch, Interlocked.Add(ref fetched, blob.Size), total));
        }).ConfigureAwait(false);
    }

    /// <summary>The platforms of each image, read from its configs (now cached); with --arch, an image of another architecture is refused.</summary>
    private async Task RecordPlatformsAsync(LayoutContent layout, Platform? platform, CancellationToken cancellationToken)
    {
        foreach (var entry in layout.Entries)
        {
            foreach (var configDescriptor in entry.Configs)
            {
                var config = ImageConfig.Parse(await File.ReadAllBytesAsync(cache.PathOf(configDescriptor.Digest), cancellationToken).ConfigureAwait(false));
                var platformName = config.Platform.ToString();
                if (!entry.Platforms.Contains(platformName))
                {
                    entry.Platforms.Add(platformName);
                }
            }

            if (platform is not null && !entry.IsChart && entry.Platforms.Count == 1 && Platform.Parse(entry.Platforms[0]).Architecture != platform.Architecture)
            {
                throw new ContentBundleException($"{entry.Reference} (from {entry.Origin}): the image is {entry.Platforms[0]} only, not {platform}");
            }
        }
    }

    private async Task AddProfilesAsync(LayoutContent layout, IReadOnlyList<ClusterProfile> profiles, BundleDefinition definition, List<BundleFile> files, CancellationToken cancellationToken)
    {
        var charts = new Dictionary<string, BundleChart>(StringComparer.Ordinal);
        foreach (var profile in profiles)
        {
            var type = profile.Type == ProfileType.Infra ? "infra" : "add-on";
            foreach (var pack in profile.Packs)
            {
                var description = new BundlePack
                {
                    Profile = profile.Name,
                    ProfileType = type,
                    Name = pack.Name,
                    Version = pack.Version,
                    Path = $"packs/{profile.Name}/{pack.Name}.yaml",
                    Images = [.. pack.Images.Select(i => i.Reference.ToString())],
                };
                foreach (var chart in pack.Charts)
                {
                    var recorded = await AddChartAsync(layout, chart, $"{profile.File} ({profile.Name}/{pack.Name})", charts, files, cancellationToken).ConfigureAwait(false);
                    description.Charts.Add(recorded.Path ?? "oci://" + recorded.Reference);
                }

                foreach (var manifest in pack.Manifests)
                {
                    var path = $"manifests/{profile.Name}/{pack.Name}/{Path.GetFileName(manifest)}";
                    files.Add(BundleFile.FromFile(path, manifest, new FileInfo(manifest).Length));
                    description.Manifests.Add(path);
                }

                files.Add(BundleFile.FromBytes(description.Path, Encoding.UTF8.GetBytes(PackYaml(description))));
                definition.Packs.Add(description);
            }
        }

        definition.Charts = [.. charts.Values];
    }

    private async Task<BundleChart> AddChartAsync(LayoutContent layout, ChartSource chart, string origin, Dictionary<string, BundleChart> charts, List<BundleFile> files, CancellationToken cancellationToken)
    {
        if (chart.OciReference is { } reference)
        {
            var key = reference.ToString();
            if (!charts.TryGetValue("oci://" + key, out var known))
            {
                await AddImageAsync(layout, reference, origin, platform: null, cancellationToken, isChart: true).ConfigureAwait(false);
                var entry = layout.Entries[^1];
                known = new BundleChart { Name = reference.Repository.Split('/')[^1], Reference = key, Digest = entry.Root.Digest.ToString(), Size = entry.Size };
                charts["oci://" + key] = known;
            }

            return known;
        }

        var local = chart.LocalPath!;
        var name = Path.GetFileName(local);
        string digest;
        await using (var stream = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
        {
            digest = "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }

        if (charts.TryGetValue(name, out var existing))
        {
            return existing.Digest == digest
                ? existing
                : throw new ContentBundleException($"{origin}: two different charts are named {name}; a bundle holds one charts/{name}");
        }

        var size = new FileInfo(local).Length;
        var recorded = new BundleChart { Name = name, Path = "charts/" + name, Digest = digest, Size = size };
        charts[name] = recorded;
        files.Add(BundleFile.FromFile(recorded.Path, local, size));
        return recorded;
    }

    private static string PackYaml(BundlePack pack) => new YamlDotNet.Serialization.SerializerBuilder()
        .WithNamingConvention(YamlDotNet.Serialization.NamingConventions.CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(YamlDotNet.Serialization.DefaultValuesHandling.OmitNull)
        .Build()
        .Serialize(pack);

    /// <summary>
    /// <c>content-&lt;id&gt;</c>: the first 12 hex digits of a SHA-256 over the inputs — the input files and the local
    /// charts and manifests they name (streamed), and the options that change the content (name, arch, format).
    /// </summary>
    private static async Task<string> ComputeIdAsync(ContentInputs inputs, ContentBundleOptions options, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{options.Name}\n{options.Architecture ?? "all"}\n{options.Format}\n"));
        var localFiles = inputs.InputFiles
            .Concat(inputs.Profiles.SelectMany(p => p.Packs).SelectMany(p => p.Charts.Where(c => c.LocalPath is not null).Select(c => c.LocalPath!).Concat(p.Manifests)));
        var buffer = new byte[1 << 16];
        foreach (var file in localFiles)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }

    private sealed class LayoutContent
    {
        public List<LayoutEntry> Entries { get; } = [];

        public Dictionary<Digest, Descriptor> Blobs { get; } = [];

        /// <summary>Manifests and indexes are small and kept in memory; every other blob stays in the cache.</summary>
        public Dictionary<Digest, ManifestContent> Manifests { get; } = [];

        /// <summary>Where each non-manifest blob is fetched from when it is not cached.</summary>
        public Dictionary<Digest, RegistryImageSource> Sources { get; } = [];
    }

    private sealed class LayoutEntry(string reference, string origin, Descriptor root, bool isChart)
    {
        public string Reference { get; } = reference;

        public string Origin { get; } = origin;

        public List<Descriptor> Configs { get; } = [];

        public Descriptor Root { get; } = root;

        public bool IsChart { get; } = isChart;

        public long Size { get; set; }

        public List<string> Platforms { get; } = [];
    }

    /// <summary>
    /// One file of the bundle: small generated content in memory, or a local file (cache blob, chart, manifest) opened
    /// when written. A cache blob is verified again as it is written: a bundle is signed and carried to a site that
    /// cannot fetch a replacement, so a blob damaged in the cache since it was stored must fail the build, not the site.
    /// </summary>
    private sealed record BundleFile(string Path, long Size, byte[]? Bytes, string? LocalPath, Digest? Digest = null)
    {
        /// <summary>Told how many bytes each read of <see cref="Open"/>'s stream returned (write progress).</summary>
        public Action<long>? OnRead { get; init; }

        public static BundleFile FromBytes(string path, byte[] bytes) => new(path, bytes.Length, bytes, null);

        public static BundleFile FromFile(string path, string localPath, long size, Digest? digest = null) => new(path, size, null, localPath, digest);

        public Stream Open()
        {
            var content = OpenContent();
            return OnRead is { } onRead ? new ProgressReadStream(content, onRead) : content;
        }

        private Stream OpenContent()
        {
            if (Bytes is not null)
            {
                return new MemoryStream(Bytes, writable: false);
            }

            var file = new FileStream(LocalPath!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            return Digest is { } digest ? new DigestVerifyingStream(file, digest, Size, $"cached blob {digest}") : file;
        }
    }
}

/// <summary>The bundle's files as a file tree for the ISO writer: the same streams (verifying for cache blobs) the tar gets.</summary>
internal sealed class BundleFileTree : IFileTreeSource
{
    private readonly IReadOnlyList<(FileTreeEntry Entry, Func<Stream> Open)> _files;

    internal BundleFileTree(IEnumerable<(string Path, long Size, Func<Stream> Open)> files, long modificationTime)
    {
        _files = [.. files.Select(f => (new FileTreeEntry { Path = f.Path, Kind = FileTreeEntryKind.RegularFile, Mode = 0x1A4, Size = f.Size, ModificationTime = modificationTime }, f.Open))];
        var directories = _files.SelectMany(f => Parents(f.Entry.Path)).Distinct(StringComparer.Ordinal)
            .Select(d => new FileTreeEntry { Path = d, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED, ModificationTime = modificationTime });
        Entries = [.. directories, .. _files.Select(f => f.Entry)];
    }

    public IReadOnlyList<FileTreeEntry> Entries { get; }

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        foreach (var (entry, open) in _files)
        {
            await using var stream = open();
            await consumer(entry, stream, cancellationToken).ConfigureAwait(false);
            await ReadToEndAsync(stream, entry.Path, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The tar and ISO writers read exactly the entry's size and stop; a verifying stream checks the digest only when it
    /// sees the end, so the end is read here. A file that grew since its size was taken fails too.
    /// </summary>
    internal static async Task ReadToEndAsync(Stream content, string path, CancellationToken cancellationToken)
    {
        if (await content.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
        {
            throw new IOException($"{path}: the source changed while the bundle was written (longer than its recorded size)");
        }
    }

    internal static IEnumerable<string> Parents(string path)
    {
        var parts = path.Split('/');
        for (var i = 1; i < parts.Length; i++)
        {
            yield return string.Join('/', parts[..i]);
        }
    }
}

/// <summary>A bundle cannot be built from these inputs (an image missing, a platform absent, a registry refusing).</summary>
public sealed class ContentBundleException(string message) : Exception(message);
