namespace EdgeForge.Oci.Layers;

/// <summary>
/// Rewrites the 10-byte gzip member header (RFC 1952 §2.3) that the underlying deflate library writes to fixed
/// bytes — no MTIME, XFL 0, OS 255 "unknown" (what Go's compress/gzip writes) — so a layer's compressed digest
/// depends only on its content, not on the zlib build or platform that compressed it.
/// </summary>
internal sealed class GzipHeaderNormalisingStream(Stream inner) : Stream
{
    private static readonly byte[] FixedHeader = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff];
    private int _headerBytesSeen;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_headerBytesSeen < FixedHeader.Length && buffer.Length > 0)
        {
            var take = Math.Min(FixedHeader.Length - _headerBytesSeen, buffer.Length);
            if (buffer[0] != FixedHeader[_headerBytesSeen] && _headerBytesSeen < 3)
            {
                throw new InvalidDataException("not a gzip stream");
            }

            var flags = _headerBytesSeen <= 3 && 3 - _headerBytesSeen < take ? buffer[3 - _headerBytesSeen] : (byte)0;
            if (flags != 0)
            {
                throw new InvalidDataException("gzip header with optional fields cannot be normalised");
            }

            inner.Write(FixedHeader.AsSpan(_headerBytesSeen, take));
            _headerBytesSeen += take;
            buffer = buffer[take..];
        }

        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
