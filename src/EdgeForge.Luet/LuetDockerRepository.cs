using System.Formats.Tar;
using System.Net;
using System.Text;
using EdgeForge.Compression;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Luet;

/// <summary>
/// A luet repository of type <c>docker</c> (<c>luet repo add NAME --type docker --url REGISTRY/REPO</c>), read the way
/// <c>luet repo update</c> and <c>luet install</c> read it, through EdgeForge's registry client (so credentials,
/// retries, mirrors and TLS settings are the client's):
/// <list type="number">
/// <item>the index, image tag <c>repository.yaml</c>, holding the file <c>repository.yaml</c> whose <c>repo_files</c>
/// name the tree and meta files with their compression and sha256 (luet pkg/installer/repository.go Sync);</item>
/// <item>the tree (default <c>tree.tar.gz</c>) and the meta file (default <c>repository.meta.yaml.tar</c>), each
/// an image tagged with its file name that holds that one file, checked against the index's sha256
/// (repository.go getRepoFile → artifact Verify);</item>
/// <item>each package's artifact: an image tagged <c>NAME-CATEGORY-VERSION</c> whose layers are the package's files
/// (pkg/installer/client/docker.go DownloadArtifact).</item>
/// </list>
/// Read-only: nothing is pushed, no luet database is written.
/// </summary>
public sealed class LuetDockerRepository
{
    private readonly RegistryClient _client;
    private readonly BlobCache _blobs;
    private readonly Platform _platform;
    private readonly Dictionary<string, List<LuetPackageInfo>> _versionsByName;

    private LuetDockerRepository(RegistryClient client, BlobCache blobs, Platform platform, ImageReference repository, Digest indexDigest, int revision, IReadOnlyList<LuetPackageInfo> packages)
    {
        _client = client;
        _blobs = blobs;
        _platform = platform;
        Repository = repository;
        IndexDigest = indexDigest;
        Revision = revision;
        Packages = packages;
        _versionsByName = packages.GroupBy(p => $"{p.Category}/{p.Name}", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
    }

    /// <summary>The repository, without a tag (e.g. <c>us-docker.pkg.dev/palette-images/edge/luet-repo-amd</c>).</summary>
    public ImageReference Repository { get; }

    /// <summary>
    /// The digest of the manifest behind the <c>repository.yaml</c> tag when the repository was opened: its revision
    /// as content (luet's own <c>revision</c> counter is <see cref="Revision"/>), for pinning and as a cache key.
    /// </summary>
    public Digest IndexDigest { get; }

    /// <summary>The <c>revision</c> of repository.yaml (luet bumps it on every publish, repository.go BumpRevision).</summary>
    public int Revision { get; }

    /// <summary>Every package of the tree, by category, name and ascending version.</summary>
    public IReadOnlyList<LuetPackageInfo> Packages { get; }

    public static async Task<LuetDockerRepository> OpenAsync(RegistryClient client, BlobCache blobs, ImageReference repository, Platform platform, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(platform);
        var bare = ImageReference.Parse(repository.Name);
        var reader = new ImageFileReader(client, blobs, platform, bare);

        var indexImage = await reader.LoadImageAsync(
            bare.WithTag(LuetRepositoryFormat.IndexFileName),
            $"{bare.Name} is not a luet docker repository: it has no image tagged \"{LuetRepositoryFormat.IndexFileName}\" (the index `luet repo update` reads first)",
            cancellationToken).ConfigureAwait(false);
        var spec = await reader.ReadFileAsync(indexImage.Image, indexImage.Reference, LuetRepositoryFormat.IndexFileName, expected: null, (stream, where, _) =>
        {
            using var text = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
            return Task.FromResult(LuetRepositoryFormat.Parse<RepositorySpecDocument>(text, where));
        }, cancellationToken).ConfigureAwait(false);

        var indexWhere = $"{indexImage.Reference} file {LuetRepositoryFormat.IndexFileName}";
        var treeFile = RequireRepositoryFile(spec, LuetRepositoryFormat.TreeKey, indexWhere);
        var metaFile = RequireRepositoryFile(spec, LuetRepositoryFormat.MetaKey, indexWhere);

        var definitions = await reader.ReadRepositoryFileAsync(treeFile, LuetRepositoryFormat.TreeKey, indexWhere, ReadTreeAsync, cancellationToken).ConfigureAwait(false);
        var artifacts = await reader.ReadRepositoryFileAsync(metaFile, LuetRepositoryFormat.MetaKey, indexWhere, ReadMetaAsync, cancellationToken).ConfigureAwait(false);

        var packages = new List<LuetPackageInfo>();
        foreach (var (definition, path, raw) in definitions)
        {
            var category = definition.Category!;
            var name = definition.Name!;
            var version = definition.Version!;
            artifacts.TryGetValue((category, name, version), out var artifact);
            var tag = LuetRepositoryFormat.TagOfPackage(category, name, version);
            ImageReference image;
            try
            {
                image = bare.WithTag(tag);
            }
            catch (FormatException)
            {
                throw new LuetRepositoryFormatException($"{treeFile.FileName}: {path}: {category}/{name}@{version} gives the artifact tag \"{tag}\", which is not a valid image tag");
            }

            packages.Add(new LuetPackageInfo
            {
                Category = category,
                Name = name,
                Version = version,
                Requires = Requirements(definition.Requires, path, "requires", treeFile.FileName!),
                Conflicts = Requirements(definition.Conflicts, path, "conflicts", treeFile.FileName!),
                ArtifactTag = tag,
                ArtifactImage = image,
                HasArtifact = artifact is not null,
                ArtifactFileName = artifact?.Path,
                ArtifactCompression = artifact?.CompressionType,
                Checksums = artifact?.Checksums ?? new Dictionary<string, string>(),
                Labels = definition.Labels ?? new Dictionary<string, string>(),
                Annotations = definition.Annotations ?? new Dictionary<string, string>(),
                Hidden = definition.Hidden,
                DefinitionPath = path,
                RawDefinition = raw,
            });
        }

        var ordered = packages
            .GroupBy(p => (p.Category, p.Name, p.Version))
            .Select(g => g.Last())
            .OrderBy(p => p.Category, StringComparer.Ordinal)
            .ThenBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Version, Comparer<string>.Create(LuetVersion.Compare))
            .ThenBy(p => p.Version, StringComparer.Ordinal)
            .ToList();
        return new LuetDockerRepository(client, blobs, platform, bare, indexImage.TopDigest, spec.Revision, ordered);
    }

    /// <summary>The package with exactly this category, name and version.</summary>
    public LuetPackageInfo Resolve(LuetPackageReference package)
    {
        ArgumentNullException.ThrowIfNull(package);
        var versions = VersionsOf(package.PackageName);
        return versions.FirstOrDefault(p => p.Version == package.Version)
            ?? throw new LuetPackageNotFoundException(Repository, package, versions.Count == 0
                ? $"luet repository {Repository.Name} has no package {package.PackageName} (asked for {package})"
                : $"luet repository {Repository.Name} has no version {package.Version} of {package.PackageName}; available versions: {string.Join(", ", versions.Select(v => v.Version))}");
    }

    /// <summary>
    /// The package and everything it requires, transitively, dependencies before the packages that need them. A
    /// requirement's selector picks the newest version that satisfies it; a package chosen once is kept for every later
    /// requirement of the same category/name (no backtracking), which must then accept it too.
    /// </summary>
    public IReadOnlyList<LuetPackageInfo> ResolveWithDependencies(LuetPackageReference package)
    {
        var root = Resolve(package);
        var chosen = new Dictionary<string, LuetPackageInfo>(StringComparer.Ordinal) { [$"{root.Category}/{root.Name}"] = root };
        var done = new HashSet<LuetPackageInfo>(ReferenceEqualityComparer.Instance);
        var visiting = new HashSet<LuetPackageInfo>(ReferenceEqualityComparer.Instance);
        var order = new List<LuetPackageInfo>();

        void Visit(LuetPackageInfo current)
        {
            // A cycle (luet allows mutual requirements) is cut where it closes; both ends still get installed.
            if (done.Contains(current) || !visiting.Add(current))
            {
                return;
            }

            foreach (var requirement in current.Requires)
            {
                if (chosen.TryGetValue(requirement.PackageName, out var existing))
                {
                    if (!requirement.IsSatisfiedBy(existing))
                    {
                        throw new LuetPackageNotFoundException(Repository, RequirementReference(requirement),
                            $"{current} requires {requirement}, but {existing} is already required by another package of luet repository {Repository.Name}");
                    }

                    Visit(existing);
                    continue;
                }

                var versions = VersionsOf(requirement.PackageName);
                var best = versions.LastOrDefault(requirement.IsSatisfiedBy)
                    ?? throw new LuetPackageNotFoundException(Repository, RequirementReference(requirement), versions.Count == 0
                        ? $"{current} requires {requirement}, but luet repository {Repository.Name} has no package {requirement.PackageName}"
                        : $"{current} requires {requirement}, which no version in luet repository {Repository.Name} satisfies; available versions of {requirement.PackageName}: {string.Join(", ", versions.Select(v => v.Version))}");
                chosen[requirement.PackageName] = best;
                Visit(best);
            }

            visiting.Remove(current);
            done.Add(current);
            order.Add(current);
        }

        Visit(root);
        return order;
    }

    /// <summary>
    /// The package's artifact image for the repository's platform, every blob downloaded into the blob cache and
    /// verified against its digest before this returns.
    /// </summary>
    public async Task<IImage> OpenPackageImageAsync(LuetPackageInfo package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (!package.HasArtifact)
        {
            // luet pkg/installer/repository.go SearchArtefact: a tree package without an index entry cannot be installed.
            throw new LuetPackageNotFoundException(Repository, package.Reference,
                $"{package} is in the tree of luet repository {Repository.Name} but {LuetRepositoryFormat.MetaFileName} lists no artifact for it");
        }

        var reader = new ImageFileReader(_client, _blobs, _platform, Repository);
        var loaded = await reader.LoadImageAsync(package.ArtifactImage,
            $"luet repository {Repository.Name} lists {package} but has no artifact image {package.ArtifactImage}", cancellationToken).ConfigureAwait(false);
        return loaded.Image;
    }

    /// <summary>
    /// The files of <paramref name="packages"/> (in the given order; a later package's entry replaces an earlier one's)
    /// as one layer, streamed from the artifact layers into the blob store — what <c>luet install --system-target
    /// /output</c> followed by CanvOS's <c>rm -rf /output/var/cache/*</c> leaves in /output: <c>var/cache</c>'s
    /// contents are left out. Modes, owners, links and modification times are the artifacts'.
    /// </summary>
    public async Task<ILayer> WriteFilesLayerAsync(IReadOnlyList<LuetPackageInfo> packages, BlobCache blobs, LayerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(packages);
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(options);
        var layers = new List<Func<CancellationToken, Task<Stream>>>();
        foreach (var package in packages)
        {
            var image = await OpenPackageImageAsync(package, cancellationToken).ConfigureAwait(false);
            layers.AddRange(image.Layers.Select(l => (Func<CancellationToken, Task<Stream>>)l.OpenUncompressedAsync));
        }

        var tree = await ImageFileTree.LoadAsync(layers, cancellationToken).ConfigureAwait(false);
        var files = new ExcludingFileTree(tree, IsRemovedByCanvOs);
        return await LayerWriter.WriteAsync(files, blobs, options with { KeepModificationTimes = true }, cancellationToken).ConfigureAwait(false);
    }

    // CanvOS (Earthfile, +install-k8s): `rm -rf /output/var/cache/*` — the directory stays, its contents go (luet keeps
    // its package cache and database there, pkg/api/core/types/config.go System paths).
    internal static bool IsRemovedByCanvOs(string path) => path.StartsWith("var/cache/", StringComparison.Ordinal);

    private IReadOnlyList<LuetPackageInfo> VersionsOf(string packageName) =>
        _versionsByName.TryGetValue(packageName, out var versions) ? versions : [];

    private static LuetPackageReference RequirementReference(LuetPackageRequirement requirement) =>
        new(requirement.Category, requirement.Name, requirement.VersionSelector.Length == 0 ? ">=0" : requirement.VersionSelector.Replace(" ", "", StringComparison.Ordinal));

    private static RepositoryFileDocument RequireRepositoryFile(RepositorySpecDocument spec, string key, string where)
    {
        // luet pkg/installer/repository.go ReadSpecFile: "Invalid repository without the tree/meta key file."
        if (spec.RepositoryFiles is null || !spec.RepositoryFiles.TryGetValue(key, out var file) || file is null)
        {
            throw new LuetRepositoryFormatException($"{where}: repo_files has no \"{key}\" entry (luet requires the tree and meta files)");
        }

        if (string.IsNullOrWhiteSpace(file.FileName) || file.FileName.Contains('/', StringComparison.Ordinal))
        {
            throw new LuetRepositoryFormatException($"{where}: repo_files.{key}.filename is missing or not a plain file name");
        }

        return file;
    }

    private static List<LuetPackageRequirement> Requirements(List<PackageDocument?>? list, string path, string field, string treeFile)
    {
        var result = new List<LuetPackageRequirement>();
        foreach (var (item, i) in (list ?? []).Select((item, i) => (item, i)))
        {
            if (item is null || string.IsNullOrWhiteSpace(item.Name) || string.IsNullOrWhiteSpace(item.Category))
            {
                throw new LuetRepositoryFormatException($"{treeFile}: {path}: {field}[{i}] needs a category and a name");
            }

            result.Add(new LuetPackageRequirement(item.Category, item.Name, item.Version?.Trim() ?? ""));
        }

        return result;
    }

    /// <summary>The tree tarball: every <c>…/definition.yaml</c> (luet pkg/tree/installer_recipe.go Save writes CATEGORY/NAME/VERSION/definition.yaml).</summary>
    private static async Task<List<(PackageDocument Definition, string Path, string Raw)>> ReadTreeAsync(Stream tarStream, string where, CancellationToken cancellationToken)
    {
        const int definitionLimit = 4 << 20;
        var definitions = new List<(PackageDocument, string, string)>();
        await using var tar = new TarReader(tarStream, leaveOpen: true);
        while (await ReadNextEntryAsync(tar, where, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            var path = entry.Name.TrimStart('.', '/');
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) ||
                (path != LuetRepositoryFormat.DefinitionFileName && !path.EndsWith("/" + LuetRepositoryFormat.DefinitionFileName, StringComparison.Ordinal)))
            {
                continue;
            }

            if (entry.Length > definitionLimit)
            {
                throw new LuetRepositoryFormatException($"{where}: {path} is {entry.Length} bytes, too large for a package definition");
            }

            var bytes = new byte[entry.Length];
            await entry.DataStream!.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
            var raw = Encoding.UTF8.GetString(bytes);
            var definition = LuetRepositoryFormat.Parse<PackageDocument>(new StringReader(raw), $"{where}: {path}");
            foreach (var (field, value) in new[] { ("category", definition.Category), ("name", definition.Name), ("version", definition.Version) })
            {
                if (string.IsNullOrWhiteSpace(value))
                {
                    throw new LuetRepositoryFormatException($"{where}: {path}: field \"{field}\" is missing or empty");
                }
            }

            definitions.Add((definition, path, raw));
        }

        return definitions;
    }

    /// <summary>The meta tarball: <c>repository.meta.yaml</c>, whose <c>index</c> lists the package artifacts (repository.go Sync).</summary>
    private static async Task<Dictionary<(string, string, string), ArtifactDocument>> ReadMetaAsync(Stream tarStream, string where, CancellationToken cancellationToken)
    {
        await using var tar = new TarReader(tarStream, leaveOpen: true);
        while (await ReadNextEntryAsync(tar, where, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') != LuetRepositoryFormat.MetaFileName || entry.DataStream is null)
            {
                continue;
            }

            // Streamed into the parser: the index of a large repository (with every package's file list) is never
            // held as text, and the fields a client does not need are skipped, not built.
            using var text = new StreamReader(entry.DataStream, Encoding.UTF8, leaveOpen: true);
            var meta = LuetRepositoryFormat.Parse<RepositoryMetaDocument>(text, $"{where}: {LuetRepositoryFormat.MetaFileName}");
            var artifacts = new Dictionary<(string, string, string), ArtifactDocument>();
            foreach (var (artifact, i) in (meta.Index ?? []).Select((a, i) => (a, i)))
            {
                if (artifact?.CompileSpec?.Package is not { Name.Length: > 0, Category.Length: > 0, Version.Length: > 0 } package)
                {
                    throw new LuetRepositoryFormatException($"{where}: {LuetRepositoryFormat.MetaFileName}: index[{i}].compilationspec.package needs a category, a name and a version");
                }

                artifacts[(package.Category, package.Name, package.Version)] = artifact;
            }

            return artifacts;
        }

        throw new LuetRepositoryFormatException($"{where}: the tarball has no {LuetRepositoryFormat.MetaFileName}");
    }

    private static async Task<TarEntry?> ReadNextEntryAsync(TarReader tar, string where, CancellationToken cancellationToken)
    {
        try
        {
            return await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            throw new LuetRepositoryFormatException($"{where}: not a valid tar archive: {e.Message}", e);
        }
    }

    /// <summary>Loads images of the repository and reads single files out of them, as luet's docker client does.</summary>
    private sealed class ImageFileReader(RegistryClient client, BlobCache blobs, Platform platform, ImageReference repository)
    {
        public async Task<(IImage Image, ImageReference Reference, Digest TopDigest)> LoadImageAsync(ImageReference reference, string notFoundMessage, CancellationToken cancellationToken)
        {
            ManifestContent top;
            try
            {
                top = await client.GetManifestAsync(reference, cancellationToken).ConfigureAwait(false);
            }
            catch (RegistryException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new LuetRepositoryFormatException(notFoundMessage, e);
            }

            // Pinned to the digest just seen, so every later read is of the same revision even if the tag moves.
            var source = new RegistryImageSource(client, reference.WithDigest(top.Digest), blobs);
            var image = await SourceImage.LoadAsync(source, platform, cancellationToken).ConfigureAwait(false);
            foreach (var layer in image.Layers)
            {
                // With a cache, opening a blob downloads it whole and checks digest and size before it is kept.
                await using var blob = await layer.OpenCompressedAsync(cancellationToken).ConfigureAwait(false);
            }

            return (image, reference, top.Digest);
        }

        /// <summary>
        /// A repository file: the image tagged with its (sanitised) name, the file of that name inside it, its sha256
        /// checked against the index, decompressed as the index says (luet pkg/installer/repository.go getRepoFile).
        /// </summary>
        public async Task<T> ReadRepositoryFileAsync<T>(RepositoryFileDocument file, string key, string indexWhere, Func<Stream, string, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
        {
            var fileName = file.FileName!;
            ImageReference reference;
            try
            {
                reference = repository.WithTag(LuetRepositoryFormat.TagOfFile(fileName));
            }
            catch (FormatException)
            {
                throw new LuetRepositoryFormatException($"{indexWhere}: repo_files.{key}.filename \"{fileName}\" does not give a valid image tag");
            }

            var loaded = await LoadImageAsync(reference, $"luet repository {repository.Name}: the index names {key} file \"{fileName}\" but there is no image {reference}", cancellationToken).ConfigureAwait(false);
            return await ReadFileAsync(loaded.Image, reference, fileName, file, async (stream, where, ct) =>
            {
                var compression = file.CompressionType ?? "";
                // pkg/api/core/types/compilerspec.go: "none" (or unset), "gzip", "zstd"; luet decompresses by sniffing
                // (containerd DecompressStream), and writes exactly these.
                await using Stream decompressed = compression switch
                {
                    "" or "none" => new NonDisposingStream(stream),
                    "gzip" => new GzipDecompressStream(stream, leaveOpen: true),
                    "zstd" => new ZstdDecompressStream(stream, leaveOpen: true),
                    _ => throw new LuetRepositoryFormatException($"{indexWhere}: repo_files.{key}.compressiontype \"{compression}\" is not one of none, gzip, zstd"),
                };
                try
                {
                    return await read(decompressed, where, ct).ConfigureAwait(false);
                }
                catch (InvalidDataException e)
                {
                    throw new LuetRepositoryFormatException($"{where}: not {compression}-compressed as repo_files.{key}.compressiontype says: {e.Message}", e);
                }
            }, cancellationToken).ConfigureAwait(false);
        }

        public async Task<T> ReadFileAsync<T>(IImage image, ImageReference reference, string fileName, RepositoryFileDocument? expected, Func<Stream, string, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
        {
            var where = $"{reference} file {fileName}";
            var tree = await ImageFileTree.LoadAsync(image, cancellationToken).ConfigureAwait(false);
            if (!tree.Entries.Any(e => e.Path == fileName && e.Kind == FileTreeEntryKind.RegularFile))
            {
                throw new LuetRepositoryFormatException($"{reference}: the image has no file \"{fileName}\" at its root (luet's docker client copies that file out of it)");
            }

            var found = false;
            T result = default!;
            await tree.ReadContentsAsync(async (entry, content, ct) =>
            {
                if (entry.Path != fileName)
                {
                    return;
                }

                found = true;
                await using var hashing = new HashingReadStream(content, leaveOpen: true);
                result = await read(hashing, where, ct).ConfigureAwait(false);
                // The whole file counts, also what the parser did not need to read.
                await hashing.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
                if (expected?.Checksums is { } checksums && checksums.TryGetValue("sha256", out var sha256) && !string.Equals(hashing.Digest.Encoded, sha256, StringComparison.OrdinalIgnoreCase))
                {
                    // luet pkg/api/core/types/artifact/checksum.go Compare, on the file as downloaded.
                    throw new DigestMismatchException($"{where}: sha256 {hashing.Digest.Encoded} does not match the index's checksum {sha256} (file integrity check failure)");
                }
            }, cancellationToken).ConfigureAwait(false);
            return found ? result : throw new LuetRepositoryFormatException($"{where}: the file could not be read from the image");
        }
    }

    /// <summary>Hands a stream to a consumer that disposes it, without closing the stream underneath.</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>A file tree without the entries a predicate removes (and without what lies beneath them).</summary>
internal sealed class ExcludingFileTree(IFileTreeSource inner, Func<string, bool> excluded) : IFileTreeSource
{
    public IReadOnlyList<FileTreeEntry> Entries { get; } = inner.Entries.Where(e => !excluded(e.Path)).ToList();

    public Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default) =>
        inner.ReadContentsAsync((entry, content, ct) => excluded(entry.Path) ? ValueTask.CompletedTask : consumer(entry, content, ct), cancellationToken);
}
