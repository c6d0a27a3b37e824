namespace EdgeForge.DiskFormats.IO;

/// <summary>
/// A seekable stream that is <paramref name="inner"/> from <paramref name="offset"/> on: position 0 here is
/// <paramref name="offset"/> there, and the length here is what lies beyond it. Lets a writer that seeks and sets
/// its length (the SquashFS writer) write its image straight into its final place inside another file (the ISO's tail
/// file, <see cref="Iso9660.Iso9660Writer.AddTailFile"/>) as if it were a file of its own. Nothing before the offset
/// is ever touched; the inner stream stays open.
/// </summary>
public sealed class OffsetStream : Stream
{
    private readonly Stream _inner;
    private readonly long _offset;

    public OffsetStream(Stream inner, long offset)
    {
        if (!inner.CanSeek)
        {
            throw new ArgumentException("the inner stream must be seekable", nameof(inner));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        _inner = inner;
        _offset = offset;
        if (_inner.Position < offset)
        {
            _inner.Position = offset;
        }
    }

    public override bool CanRead => _inner.CanRead;
    public override bool CanSeek => true;
    public override bool CanWrite => _inner.CanWrite;
    public override long Length => Math.Max(0, _inner.Length - _offset);

    public override long Position
    {
        get => _inner.Position - _offset;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _inner.Position = _offset + value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return Position;
    }

    /// <summary>Sets the inner stream's length to the offset plus <paramref name="value"/>: the region is the inner stream's end.</summary>
    public override void SetLength(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        _inner.SetLength(_offset + value);
    }

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => _inner.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => _inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
}
