using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Transports;

/// <summary>
/// One image of a <c>docker save</c> archive's <c>manifest.json</c> (moby image/tarexport): config file, tags and
/// layer tar files, bottom layer first.
/// </summary>
internal sealed record DockerArchiveEntry(
    [property: JsonPropertyName("Config")] string Config,
    [property: JsonPropertyName("RepoTags")] IReadOnlyList<string>? RepoTags,
    [property: JsonPropertyName("Layers")] IReadOnlyList<string> Layers);

/// <summary>
/// Reads an image from a <c>docker save</c> archive (<c>docker-archive:FILE[:REF]</c>). The archive has no registry
/// manifest, so one is synthesised (Docker v2 schema 2, layers as stored: plain tar, or gzip when a writer
/// compressed them); each layer file is hashed once at open to name it.
/// </summary>
public sealed class DockerArchiveImageSource : IImageSource
{
    private readonly TarArchiveIndex _archive;
    private readonly ManifestContent _manifest;
    private readonly Dictionary<Digest, string> _members;

    private DockerArchiveImageSource(TarArchiveIndex archive, ManifestContent manifest, Dictionary<Digest, string> members)
    {
        _archive = archive;
        _manifest = manifest;
        _members = members;
    }

    public string Description => $"docker-archive:{_archive.ArchivePath}";

    public static DockerArchiveImageSource Open(string path, ImageReference? reference)
    {
        var archive = TarArchiveIndex.Read(path);
        if (!archive.Contains("manifest.json"))
        {
            throw new InvalidDataException($"{path}: not a docker-archive (no manifest.json)");
        }

        var entries = OciJson.Deserialize<List<DockerArchiveEntry>>(archive.ReadAll("manifest.json"), $"{path}: manifest.json");
        DockerArchiveEntry entry;
        if (reference is not null)
        {
            entry = entries.FirstOrDefault(e => (e.RepoTags ?? []).Any(t => ImageReference.TryParse(t, out var tagged, out _) && tagged == reference))
                ?? throw new FileNotFoundException($"{path}: no image tagged {reference} (tags: {string.Join(", ", entries.SelectMany(e => e.RepoTags ?? []))})");
        }
        else
        {
            entry = entries.Count == 1 ? entries[0] : throw new InvalidDataException($"{path}: the archive holds {entries.Count} images; name one with docker-archive:{path}:REF");
        }

        var members = new Dictionary<Digest, string>();
        var rawConfig = archive.ReadAll(entry.Config);
        var config = Descriptor.For(MediaTypes.DockerConfig, rawConfig);
        members[config.Digest] = entry.Config;
        var layers = new List<Descriptor>();
        foreach (var layerFile in entry.Layers)
        {
            using var stream = archive.Open(layerFile);
            var head = new byte[4];
            var read = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            using var hashing = new HashingReadStream(archive.Open(layerFile));
            hashing.DrainAsync().GetAwaiter().GetResult();
            var compression = LayerCompressionCodec.Sniff(head.AsSpan(0, read));
            var descriptor = new Descriptor { MediaType = MediaTypes.LayerMediaType(compression, docker: true), Digest = hashing.Digest, Size = hashing.BytesRead };
            members[descriptor.Digest] = layerFile;
            layers.Add(descriptor);
        }

        var manifest = new ImageManifest { SchemaVersion = 2, MediaType = MediaTypes.DockerManifest, Config = config, Layers = layers };
        return new DockerArchiveImageSource(archive, new ManifestContent(OciJson.Serialize(manifest), MediaTypes.DockerManifest), members);
    }

    public Task<ManifestContent> GetManifestAsync(CancellationToken cancellationToken = default) => Task.FromResult(_manifest);

    public Task<ManifestContent> GetManifestAsync(Descriptor descriptor, CancellationToken cancellationToken = default) =>
        descriptor.Digest == _manifest.Digest ? Task.FromResult(_manifest) : throw new FileNotFoundException($"{Description}: no manifest {descriptor.Digest}");

    public Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default) =>
        _members.TryGetValue(descriptor.Digest, out var member)
            ? Task.FromResult(_archive.OpenVerified(member, descriptor))
            : throw new FileNotFoundException($"{Description}: no blob {descriptor.Digest}");

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Writes a <c>docker save</c>-format archive (<c>docker-archive:FILE[:REF]</c>) that <c>docker load</c> and skopeo
/// read: <c>manifest.json</c>, <c>repositories</c>, the config as <c>HEX.json</c> and each layer uncompressed as
/// <c>DIFFID-HEX.tar</c> (in this format a layer file's digest is its diff-id). Blobs are staged next to the
/// output file; compressed layers are decompressed once, into the staging directory, to know their tar size.
/// </summary>
public sealed class DockerArchiveImageDestination : IImageDestination
{
    private readonly string _path;
    private readonly ImageReference? _reference;
    private readonly string _staging;
    private ManifestContent? _root;

    public DockerArchiveImageDestination(string path, ImageReference? reference)
    {
        _path = Path.GetFullPath(path);
        _reference = reference;
        _staging = _path + $".staging-{Guid.NewGuid():N}";
        Directory.CreateDirectory(_staging);
    }

    public string Description => $"docker-archive:{_path}";

    public int MaxParallelBlobs => 4;

    private string StagedPath(Digest digest) => Path.Combine(_staging, digest.Encoded);

    public Task<bool> HasBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default) => Task.FromResult(File.Exists(StagedPath(descriptor.Digest)));

    public async Task PutBlobAsync(Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default)
    {
        var temp = StagedPath(descriptor.Digest) + ".part";
        await using (var source = await open(cancellationToken).ConfigureAwait(false))
        await using (var verifying = new DigestVerifyingStream(source, descriptor.Digest, descriptor.Size, $"{Description}: blob {descriptor.Digest}", leaveOpen: true))
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            await verifying.CopyToAsync(file, 1 << 16, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temp, StagedPath(descriptor.Digest), overwrite: true);
    }

    public Task PutManifestAsync(ManifestContent manifest, bool isRoot, CancellationToken cancellationToken = default)
    {
        if (manifest.IsIndex)
        {
            throw new NotSupportedException($"{Description}: a docker archive holds single-platform images; copy one platform (without --all)");
        }

        if (isRoot)
        {
            _root = manifest;
        }

        return Task.CompletedTask;
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_root is null)
        {
            return;
        }

        var manifest = _root.AsManifest();
        var config = ImageConfig.Parse(await File.ReadAllBytesAsync(StagedPath(manifest.Config.Digest), cancellationToken).ConfigureAwait(false));
        var members = new List<(string Name, string LocalPath)>();
        var configName = manifest.Config.Digest.Encoded + ".json";
        members.Add((configName, StagedPath(manifest.Config.Digest)));
        var layerNames = new List<string>();
        for (var i = 0; i < manifest.Layers.Count; i++)
        {
            var layer = manifest.Layers[i];
            var diffId = config.RootFs.DiffIds[i];
            var tarPath = Path.Combine(_staging, diffId.Encoded + ".tar");
            if (!File.Exists(tarPath))
            {
                await using var compressed = new FileStream(StagedPath(layer.Digest), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
                await using var tar = new DigestVerifyingStream(LayerCompressionCodec.Decompress(compressed, MediaTypes.CompressionOf(layer.MediaType)), diffId, -1, $"layer {layer.Digest} (uncompressed)");
                await using var output = new FileStream(tarPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                await tar.CopyToAsync(output, 1 << 16, cancellationToken).ConfigureAwait(false);
            }

            var name = diffId.Encoded + ".tar";
            if (!layerNames.Contains(name))
            {
                members.Add((name, tarPath));
            }

            layerNames.Add(name);
        }

        var repoTags = _reference is null ? [] : new[] { FamiliarName(_reference) + ":" + (_reference.Tag ?? "latest") };
        var manifestJson = JsonSerializer.SerializeToUtf8Bytes(new[] { new DockerArchiveEntry(configName, repoTags, layerNames) }, OciJson.Options);
        var manifestPath = Path.Combine(_staging, "manifest.json");
        await File.WriteAllBytesAsync(manifestPath, manifestJson, cancellationToken).ConfigureAwait(false);
        members.Add(("manifest.json", manifestPath));
        if (_reference is not null && layerNames.Count > 0)
        {
            var repositories = new Dictionary<string, Dictionary<string, string>>
            {
                [FamiliarName(_reference)] = new() { [_reference.Tag ?? "latest"] = config.RootFs.DiffIds[^1].Encoded },
            };
            var repositoriesPath = Path.Combine(_staging, "repositories");
            await File.WriteAllBytesAsync(repositoriesPath, JsonSerializer.SerializeToUtf8Bytes(repositories, OciJson.Options), cancellationToken).ConfigureAwait(false);
            members.Add(("repositories", repositoriesPath));
        }

        await ArchiveWriter.WriteAsync(_path, members, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Docker's short form of a name: <c>busybox</c> for docker.io/library/busybox, <c>user/app</c> for docker.io/user/app.</summary>
    internal static string FamiliarName(ImageReference reference)
    {
        if (reference.Registry != ImageReference.DockerHubDomain)
        {
            return reference.Name;
        }

        return reference.Repository.StartsWith("library/", StringComparison.Ordinal) && reference.Repository.Count(c => c == '/') == 1
            ? reference.Repository["library/".Length..]
            : reference.Repository;
    }

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
