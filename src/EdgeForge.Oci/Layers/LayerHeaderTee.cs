using System.IO.Pipelines;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Layers;

/// <summary>
/// Reads a layer's tar headers from the bytes of its download as they pass (<see cref="Wrap"/>), so a layer pulled
/// into the cache is decompressed for its headers while the network delivers it instead of in a second pass over the
/// cached blob — the download and the decompression overlap, on two cores. The headers enter the
/// <see cref="LayerHeaderCache"/> only once <see cref="CompleteAsync"/> is told the blob was verified against its digest.
/// A layer the header reader cannot parse is not an error here: the pull goes on, and the first real read of the layer
/// reports the problem.
/// </summary>
public sealed class LayerHeaderTee
{
    /// <summary>Bytes the download may run ahead of the decompressor before it waits.</summary>
    private const long AheadBytes = 8 << 20;

    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: AheadBytes, resumeWriterThreshold: AheadBytes / 2, useSynchronizationContext: false));
    private readonly Task<LayerHeaders?> _headers;
    private readonly ILayer _layer;

    public LayerHeaderTee(ILayer layer)
    {
        _layer = layer;
        _headers = Task.Run(async () =>
        {
            try
            {
                var compression = MediaTypes.CompressionOf(layer.MediaType);
                return await LayerHeaders.ReadAsync(_ => Task.FromResult(LayerCompressionCodec.Decompress(_pipe.Reader.AsStream(), compression)), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Only a head start: whatever went wrong (an odd compression, a broken tar), the real read of the layer
                // meets it again and reports it in context.
                return null;
            }
            finally
            {
                // Whatever the reader did not take (the tar's end padding, a failed parse) must not hold up the download.
                await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
            }
        });
    }

    /// <summary>The download, passing every byte read to the header reader too.</summary>
    public Stream Wrap(Stream download) => new TeeStream(download, _pipe.Writer);

    /// <summary>
    /// After the blob was read to its end and verified: waits for the header reader and caches what it read. After a failed
    /// download, call with <paramref name="verified"/> false: nothing is cached.
    /// </summary>
    public async Task CompleteAsync(bool verified)
    {
        await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
        var headers = await _headers.ConfigureAwait(false);
        if (verified && headers is not null)
        {
            LayerHeaderCache.Shared.Prime(_layer.Digest, headers);
        }
    }

    private sealed class TeeStream(Stream inner, PipeWriter copy) : Stream
    {
        private bool _copying = true;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0 && _copying)
            {
                var result = await copy.WriteAsync(buffer[..read], cancellationToken).ConfigureAwait(false);
                // The header reader finished (or gave up): the rest of the download needs no copy.
                _copying = !result.IsCompleted;
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
