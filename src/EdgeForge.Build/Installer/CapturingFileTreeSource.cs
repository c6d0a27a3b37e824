using EdgeForge.FileTree;

namespace EdgeForge.Build.Installer;

/// <summary>
/// Passes a tree through unchanged while copying a few named files (kernel, initramfs, boot loaders) to local files as
/// their contents stream by — so the one pass over the image's layers that writes the SquashFS also yields the boot
/// files, without reading the layer blobs a second time.
/// </summary>
internal sealed class CapturingFileTreeSource(IFileTreeSource inner, IReadOnlyDictionary<string, string> captures) : IFileTreeSource
{
    public IReadOnlyList<FileTreeEntry> Entries => inner.Entries;

    /// <summary>The tree paths whose contents were written out completely.</summary>
    public HashSet<string> Captured { get; } = new(StringComparer.Ordinal);

    public Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default) =>
        inner.ReadContentsAsync(async (entry, contents, token) =>
        {
            if (!captures.TryGetValue(entry.Path, out var localPath))
            {
                await consumer(entry, contents, token).ConfigureAwait(false);
                return;
            }

            await using var copy = new FileStream(localPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            var tee = new TeeReadStream(contents, copy);
            await consumer(entry, tee, token).ConfigureAwait(false);

            // A consumer may stop early (e.g. a duplicate it recognised); the stream is still ours until we return.
            await tee.CopyToAsync(Stream.Null, token).ConfigureAwait(false);
            if (copy.Length != entry.Size)
            {
                throw new IOException($"/{entry.Path}: {copy.Length} of {entry.Size} bytes arrived from the image");
            }

            Captured.Add(entry.Path);
        }, cancellationToken);

    /// <summary>A read-only stream that writes every byte it returns to a second stream.</summary>
    private sealed class TeeReadStream(Stream source, Stream copy) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => source.Length;

        public override long Position
        {
            get => copy.Position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = source.Read(buffer);
            copy.Write(buffer[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            await copy.WriteAsync(buffer[..read], cancellationToken).ConfigureAwait(false);
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
