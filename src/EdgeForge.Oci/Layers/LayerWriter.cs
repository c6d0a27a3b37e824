using System.IO.Compression;
using EdgeForge.Compression;
using EdgeForge.FileTree;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Layers;

public sealed record LayerOptions
{
    public LayerCompression Compression { get; init; } = LayerCompression.Gzip;

    /// <summary>Modification time of every entry; default <c>SOURCE_DATE_EPOCH</c> or 0.</summary>
    public long SourceDateEpoch { get; init; } = DeterministicTarWriter.SourceDateEpochFromEnvironment();

    /// <summary>
    /// Keep every entry's own modification time instead of <see cref="SourceDateEpoch"/> — for trees copied from
    /// other images, whose times are content (e.g. package files installed as their artifact has them).
    /// </summary>
    public bool KeepModificationTimes { get; init; }

    /// <summary>Docker media types (<c>application/vnd.docker.image.rootfs.diff.tar.gzip</c>) instead of OCI ones.</summary>
    public bool DockerMediaTypes { get; init; }

    public int ZstdLevel { get; init; } = 3;

    public CompressionLevel GzipLevel { get; init; } = CompressionLevel.Optimal;
}

/// <summary>
/// Turns a file tree into a layer blob in one pass: tar → (diff-id hash) → compressor → (digest hash) → a
/// temporary file in the blob store, renamed to its digest at the end. Nothing is held in memory but buffers.
/// </summary>
public static class LayerWriter
{
    public static async Task<BlobLayer> WriteAsync(IFileTreeSource tree, BlobCache store, LayerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LayerOptions();
        var temp = store.CreateTemporaryPath();
        try
        {
            Digest digest;
            Digest diffId;
            long size;
            await using (var file = BlobCache.OpenNewFile(temp))
            {
                var compressedHash = new HashingWriteStream(file, leaveOpen: true);
                var compressor = OpenCompressor(compressedHash, options);
                var tarHash = new HashingWriteStream(compressor, leaveOpen: true);
                await using (var tar = new DeterministicTarWriter(tarHash, options.SourceDateEpoch, options.KeepModificationTimes))
                {
                    await WriteTreeAsync(tree, tar, cancellationToken).ConfigureAwait(false);
                }

                await tarHash.FlushAsync(cancellationToken).ConfigureAwait(false);
                diffId = tarHash.Digest;
                await compressor.DisposeAsync().ConfigureAwait(false);
                digest = compressedHash.Digest;
                size = compressedHash.BytesWritten;
                await tarHash.DisposeAsync().ConfigureAwait(false);
                await compressedHash.DisposeAsync().ConfigureAwait(false);
            }

            var path = store.Commit(temp, digest);
            var descriptor = new Descriptor { MediaType = MediaTypes.LayerMediaType(options.Compression, options.DockerMediaTypes), Digest = digest, Size = size };
            return new BlobLayer(path, descriptor, diffId);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Makes a layer blob from an existing uncompressed tar stream (compressed and both digests in one pass).</summary>
    public static async Task<BlobLayer> FromTarAsync(Stream tar, BlobCache store, LayerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LayerOptions();
        var temp = store.CreateTemporaryPath();
        try
        {
            Digest diffId;
            Digest digest;
            long size;
            await using (var file = BlobCache.OpenNewFile(temp))
            {
                var compressedHash = new HashingWriteStream(file, leaveOpen: true);
                var compressor = OpenCompressor(compressedHash, options);
                var tarHash = new HashingWriteStream(compressor, leaveOpen: true);
                await tar.CopyToAsync(tarHash, 1 << 16, cancellationToken).ConfigureAwait(false);
                diffId = tarHash.Digest;
                await compressor.DisposeAsync().ConfigureAwait(false);
                digest = compressedHash.Digest;
                size = compressedHash.BytesWritten;
            }

            var path = store.Commit(temp, digest);
            return new BlobLayer(path, new Descriptor { MediaType = MediaTypes.LayerMediaType(options.Compression, options.DockerMediaTypes), Digest = digest, Size = size }, diffId);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static Stream OpenCompressor(Stream output, LayerOptions options) => options.Compression switch
    {
        LayerCompression.None => new NonClosingStream(output),
        LayerCompression.Gzip => new GZipStream(new GzipHeaderNormalisingStream(output), options.GzipLevel, leaveOpen: false),
        // zstd frames carry no timestamp or OS byte: the output is a function of input and level alone.
        LayerCompression.Zstd => new ZstdCompressStream(output, options.ZstdLevel, leaveOpen: true),
        _ => throw new ArgumentOutOfRangeException(nameof(options)),
    };

    /// <summary>
    /// Writes the entries in path order as far as the source's content order allows: before each regular file
    /// arrives, every not-yet-written non-file entry that sorts before it is written (so parents precede children);
    /// hardlinks wait until their target has been written. A source that delivers contents in path order (a
    /// directory) therefore yields a fully sorted tar; any source yields the same tar for the same tree.
    /// </summary>
    internal static async Task WriteTreeAsync(IFileTreeSource tree, DeterministicTarWriter tar, CancellationToken cancellationToken)
    {
        var sorted = tree.Entries.Where(e => e.Kind != FileTreeEntryKind.Socket).OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
        var others = sorted.Where(e => e.Kind != FileTreeEntryKind.RegularFile).ToList();
        var written = new HashSet<string>(StringComparer.Ordinal);
        var next = 0;
        var pendingLinks = new List<FileTreeEntry>();

        async Task WriteOthersBefore(string? path)
        {
            while (next < others.Count && (path is null || StringComparer.Ordinal.Compare(others[next].Path, path) < 0))
            {
                var entry = others[next++];
                if (entry.Kind == FileTreeEntryKind.Hardlink && !written.Contains(entry.LinkTarget!))
                {
                    pendingLinks.Add(entry);
                    continue;
                }

                await tar.WriteEntryAsync(entry, null, cancellationToken).ConfigureAwait(false);
                written.Add(entry.Path);
            }

            for (var i = pendingLinks.Count - 1; i >= 0; i--)
            {
                if (written.Contains(pendingLinks[i].LinkTarget!))
                {
                    await tar.WriteEntryAsync(pendingLinks[i], null, cancellationToken).ConfigureAwait(false);
                    written.Add(pendingLinks[i].Path);
                    pendingLinks.RemoveAt(i);
                }
            }
        }

        await tree.ReadContentsAsync(async (entry, content, ct) =>
        {
            await WriteOthersBefore(entry.Path).ConfigureAwait(false);
            await tar.WriteEntryAsync(entry, content, ct).ConfigureAwait(false);
            written.Add(entry.Path);
        }, cancellationToken).ConfigureAwait(false);
        await WriteOthersBefore(null).ConfigureAwait(false);
        if (pendingLinks.Count > 0)
        {
            throw new InvalidDataException($"hardlink {pendingLinks[0].Path} points at {pendingLinks[0].LinkTarget}, which is not a regular file of the tree");
        }
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>A layer whose blob is a local file (in the blob store or a layout).</summary>
public sealed class BlobLayer(string path, Descriptor descriptor, Digest diffId) : ILayer
{
    public string Path => path;

    public Descriptor Descriptor => descriptor;

    public Digest DiffId => diffId;

    public Digest Digest => descriptor.Digest;

    public long Size => descriptor.Size;

    public string MediaType => descriptor.MediaType;

    public Task<Stream> OpenCompressedAsync(CancellationToken cancellationToken = default)
    {
        // Cached blobs are read with direct I/O, as BlobCache writes and reads them.
        Stream file = new DirectIoFileStream(path, FileMode.Open, FileAccess.Read);
        return Task.FromResult<Stream>(new DigestVerifyingStream(file, descriptor.Digest, descriptor.Size, $"layer {descriptor.Digest}"));
    }

    /// <summary>
    /// The tar, verified against the diff-id only: the config that names the diff-id is named by the manifest digest, and
    /// the tar is what is used, so checking the compressed bytes too would hash the same content twice on the path every
    /// SquashFS and extraction waits on.
    /// </summary>
    public Task<Stream> OpenUncompressedAsync(CancellationToken cancellationToken = default)
    {
        Stream compressed = new DirectIoFileStream(path, FileMode.Open, FileAccess.Read);
        return Task.FromResult<Stream>(new DigestVerifyingStream(LayerCompressionCodec.Decompress(compressed, MediaTypes.CompressionOf(descriptor.MediaType)), diffId, -1,
            $"layer {descriptor.Digest} (uncompressed)"));
    }
}
