using EdgeForge.FileTree;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Blobs;

/// <summary>
/// A local content-addressed blob store, laid out like an OCI layout's <c>blobs/ALG/HEX</c>, under
/// <c>$EDGEFORGE_CACHE</c> or <c>~/.cache/edgeforge</c>. A blob appears under its digest only complete and verified:
/// it is written to a unique temporary name in the same directory and renamed (rename(2) is atomic within a
/// filesystem), so concurrent builds sharing the cache never see a partial blob and two writers of the same blob
/// simply race to put identical bytes in place.
/// </summary>
public sealed class BlobCache
{
    public BlobCache(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>The cache of this user: <c>$EDGEFORGE_CACHE</c>, else <c>$XDG_CACHE_HOME/edgeforge</c>, else <c>~/.cache/edgeforge</c>.</summary>
    public static BlobCache Default()
    {
        var configured = Environment.GetEnvironmentVariable("EDGEFORGE_CACHE");
        if (!string.IsNullOrEmpty(configured))
        {
            return new BlobCache(configured);
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var baseDir = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return new BlobCache(Path.Combine(baseDir, "edgeforge"));
    }

    public string PathOf(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Encoded);

    public bool Contains(Digest digest) => File.Exists(PathOf(digest));

    /// <summary>Opens a cached blob for reading, or returns null when it is not cached.</summary>
    public Stream? TryOpen(Digest digest)
    {
        try
        {
            // Blobs are written and read with direct I/O: each is read once per use, start to end, and its pages in
            // the page cache would cost more to allocate than the device read (DirectIoFileStream says why).
            return new DirectIoFileStream(PathOf(digest), FileMode.Open, FileAccess.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Copies <paramref name="content"/> into the cache, verifying it against the digest and size that name it.</summary>
    public async Task<string> PutAsync(Digest digest, long size, Stream content, CancellationToken cancellationToken = default)
    {
        var final = PathOf(digest);
        if (File.Exists(final))
        {
            return final;
        }

        var temp = CreateTemporaryPath(digest.Algorithm);
        try
        {
            await using (var verifying = new DigestVerifyingStream(content, digest, size, $"blob {digest}", leaveOpen: true))
            // Direct I/O: a pulled layer goes to the device without allocating page-cache pages for it (see TryOpen).
            await using (var file = new DirectIoFileStream(temp, FileMode.CreateNew))
            {
                await verifying.CopyToAsync(file, 1 << 20, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, final, overwrite: true);
            return final;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// A fresh temporary file path inside the cache (same filesystem as the blobs, so <see cref="Commit"/> is a
    /// rename). The caller writes it and then commits or deletes it.
    /// </summary>
    public string CreateTemporaryPath(string algorithm = "sha256")
    {
        var directory = Path.Combine(Root, "blobs", algorithm);
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
    }

    /// <summary>Moves a finished temporary file into place as the blob <paramref name="digest"/>.</summary>
    public string Commit(string temporaryPath, Digest digest)
    {
        var final = PathOf(digest);
        File.Move(temporaryPath, final, overwrite: true);
        return final;
    }

    internal static FileStream OpenNewFile(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
}
