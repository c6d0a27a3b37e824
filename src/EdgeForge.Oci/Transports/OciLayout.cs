using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Transports;

/// <summary>
/// An OCI image layout directory (image-spec image-layout.md): <c>oci-layout</c>, <c>index.json</c> and
/// <c>blobs/ALG/HEX</c>. Images are found in <c>index.json</c> by their <c>org.opencontainers.image.ref.name</c>.
/// </summary>
public static class OciLayout
{
    public const string LayoutFile = "oci-layout";
    public const string IndexFile = "index.json";

    public static string BlobPath(string root, Digest digest) => Path.Combine(root, "blobs", digest.Algorithm, digest.Encoded);

    internal static ImageIndex ReadIndex(string root)
    {
        var path = Path.Combine(root, IndexFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{root}: not an OCI image layout (no {IndexFile})");
        }

        return ImageIndex.Parse(File.ReadAllBytes(path));
    }

    /// <summary>The entry of index.json a tag names (as skopeo, umoci and buildkit write it: the tag, or a full reference ending in it).</summary>
    internal static Descriptor FindEntry(string root, ImageIndex index, string? tag)
    {
        if (tag is null)
        {
            return index.Manifests.Count switch
            {
                1 => index.Manifests[0],
                0 => throw new InvalidDataException($"{root}: the layout holds no image"),
                _ => throw new InvalidDataException($"{root}: the layout holds {index.Manifests.Count} images; name one with oci:{root}:TAG (tags: {string.Join(", ", TagsOf(index))})"),
            };
        }

        return index.Manifests.FirstOrDefault(m => RefNameOf(m) is { } name && (name == tag || name.EndsWith(":" + tag, StringComparison.Ordinal)))
            ?? throw new FileNotFoundException($"{root}: no image tagged \"{tag}\" (tags: {string.Join(", ", TagsOf(index))})");
    }

    private static IEnumerable<string> TagsOf(ImageIndex index) => index.Manifests.Select(RefNameOf).Where(n => n is not null).Select(n => n!);

    private static string? RefNameOf(Descriptor descriptor) => descriptor.Annotations?.GetValueOrDefault(Annotations.RefName);
}

/// <summary>Reads an image from an OCI layout directory (<c>oci:DIR[:TAG]</c>).</summary>
public sealed class OciLayoutImageSource : IImageSource
{
    private readonly string _root;
    private readonly string? _tag;

    public OciLayoutImageSource(string root, string? tag = null)
    {
        _root = Path.GetFullPath(root);
        _tag = tag;
        if (!Directory.Exists(_root))
        {
            throw new DirectoryNotFoundException($"{root}: no such OCI layout directory");
        }
    }

    public string Description => $"oci:{_root}" + (_tag is null ? "" : ":" + _tag);

    public Task<ManifestContent> GetManifestAsync(CancellationToken cancellationToken = default)
    {
        var entry = OciLayout.FindEntry(_root, OciLayout.ReadIndex(_root), _tag);
        return GetManifestAsync(entry, cancellationToken);
    }

    public async Task<ManifestContent> GetManifestAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenBlobAsync(descriptor, cancellationToken).ConfigureAwait(false);
        var bytes = await SourceImage.ReadSmallBlobAsync(stream, descriptor, cancellationToken).ConfigureAwait(false);
        return new ManifestContent(bytes, MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType) ? descriptor.MediaType : null);
    }

    public Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        var path = OciLayout.BlobPath(_root, descriptor.Digest);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{Description}: blob {descriptor.Digest} is missing");
        }

        Stream file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Task.FromResult<Stream>(new DigestVerifyingStream(file, descriptor.Digest, descriptor.Size, $"{Description}: blob {descriptor.Digest}"));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Writes an image into an OCI layout directory (<c>oci:DIR[:TAG]</c>), creating it if needed and keeping the
/// images already there. Blobs are written under a temporary name and renamed once verified; index.json is
/// replaced atomically at commit, the entry for the tag replacing any previous one.
/// </summary>
public sealed class OciLayoutImageDestination : IImageDestination
{
    private readonly string _root;
    private readonly string? _tag;
    private ManifestContent? _rootManifest;
    private Platform? _rootPlatform;

    public OciLayoutImageDestination(string root, string? tag = null)
    {
        _root = Path.GetFullPath(root);
        _tag = tag is null ? null : ImageReference.ValidateTag(tag);
        Directory.CreateDirectory(Path.Combine(_root, "blobs", "sha256"));
        var layoutFile = Path.Combine(_root, OciLayout.LayoutFile);
        if (!File.Exists(layoutFile))
        {
            File.WriteAllText(layoutFile, "{\"imageLayoutVersion\":\"1.0.0\"}");
        }
    }

    public string Description => $"oci:{_root}" + (_tag is null ? "" : ":" + _tag);

    public int MaxParallelBlobs => 4;

    /// <summary>The platform recorded on the index.json entry (optional, image-index.md); set by the copier for images.</summary>
    public Platform? RootPlatform { set => _rootPlatform = value; }

    public Task<bool> HasBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        var info = new FileInfo(OciLayout.BlobPath(_root, descriptor.Digest));
        return Task.FromResult(info.Exists && info.Length == descriptor.Size);
    }

    public async Task PutBlobAsync(Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default)
    {
        var final = OciLayout.BlobPath(_root, descriptor.Digest);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var temp = Path.Combine(Path.GetDirectoryName(final)!, $".tmp-{Guid.NewGuid():N}");
        try
        {
            await using (var source = await open(cancellationToken).ConfigureAwait(false))
            await using (var verifying = new DigestVerifyingStream(source, descriptor.Digest, descriptor.Size, $"{Description}: blob {descriptor.Digest}", leaveOpen: true))
            await using (var file = BlobCache.OpenNewFile(temp))
            {
                await verifying.CopyToAsync(file, 1 << 16, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, final, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Adds a blob that already exists as a verified, immutable local file (a blob-cache entry) as a hard link rather
    /// than a copy: a matrix of images sharing gigabytes of layers then costs no extra disk and no copying. False when
    /// linking is impossible (another filesystem, a size mismatch); the caller copies instead.
    /// </summary>
    public bool TryLinkBlob(Descriptor descriptor, string existingPath)
    {
        if (!File.Exists(existingPath) || new FileInfo(existingPath).Length != descriptor.Size)
        {
            return false;
        }

        var final = OciLayout.BlobPath(_root, descriptor.Digest);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        var temp = Path.Combine(Path.GetDirectoryName(final)!, $".tmp-{Guid.NewGuid():N}");
        if (HardLink.Create(existingPath, temp) != 0)
        {
            return false;
        }

        try
        {
            File.Move(temp, final, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task PutManifestAsync(ManifestContent manifest, bool isRoot, CancellationToken cancellationToken = default)
    {
        await PutBlobAsync(manifest.Descriptor, _ => Task.FromResult<Stream>(new MemoryStream(manifest.Bytes.ToArray(), writable: false)), cancellationToken).ConfigureAwait(false);
        if (isRoot)
        {
            _rootManifest = manifest;
        }
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_rootManifest is null)
        {
            return;
        }

        var indexPath = Path.Combine(_root, OciLayout.IndexFile);
        var existing = File.Exists(indexPath) ? OciLayout.ReadIndex(_root).Manifests : [];
        var annotations = _tag is null ? null : new Dictionary<string, string> { [Annotations.RefName] = _tag };
        var entry = _rootManifest.Descriptor with { Annotations = annotations, Platform = _rootManifest.IsIndex ? null : _rootPlatform };
        // A tag names one image: drop an older entry with the same tag (or, untagged, the same digest).
        var kept = existing.Where(m => _tag is null
            ? !(m.Digest == entry.Digest && m.Annotations?.ContainsKey(Annotations.RefName) != true)
            : m.Annotations?.GetValueOrDefault(Annotations.RefName) != _tag).ToList();
        kept.Add(entry);
        var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = kept };
        var temp = indexPath + $".tmp-{Guid.NewGuid():N}";
        await File.WriteAllBytesAsync(temp, OciJson.Serialize(index), cancellationToken).ConfigureAwait(false);
        File.Move(temp, indexPath, overwrite: true);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

internal static class HardLink
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    public static extern int Create([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string existing,
        [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string newPath);
}
