using System.Buffers;

namespace EdgeForge.Compression;

/// <summary>
/// A read-only stream that decompresses the zstd frames read from <c>inner</c> (ZSTD_decompressStream).
/// Concatenated frames (and skippable frames) decode as one stream, as RFC 8878 §3 allows; input that ends inside a
/// frame, or that is not zstd, throws <see cref="ZstdException"/>. An empty input is an empty stream, as with
/// <see cref="System.IO.Compression.GZipStream"/>.
/// </summary>
public sealed class ZstdDecompressStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly ZstdDecompressionContextHandle _context;
    private byte[]? _input;
    private int _inputStart;
    private int _inputEnd;
    private bool _innerAtEnd;
    private bool _insideFrame;
    private bool _disposed;

    public ZstdDecompressStream(Stream inner, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!inner.CanRead)
        {
            throw new ArgumentException("the inner stream must be readable", nameof(inner));
        }

        _inner = inner;
        _leaveOpen = leaveOpen;
        _context = ZstdDecompressionContextHandle.Create();
        _input = ArrayPool<byte>.Shared.Rent((int)ZstdNative.RecommendedDecompressInputSize());
    }

    public override bool CanRead => !_disposed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var input = InputBuffer();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_inputStart == _inputEnd && !_innerAtEnd)
            {
                Refill(_inner.Read(input, 0, input.Length));
            }

            if (TryDecode(buffer, out var produced))
            {
                return produced;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var input = InputBuffer();
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_inputStart == _inputEnd && !_innerAtEnd)
            {
                Refill(await _inner.ReadAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false));
            }

            if (TryDecode(buffer.Span, out var produced))
            {
                return produced;
            }
        }
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            _disposed = true;
            _context.Dispose();
            if (_input is { } input)
            {
                _input = null;
                ArrayPool<byte>.Shared.Return(input);
            }

            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private byte[] InputBuffer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _input!;
    }

    private void Refill(int read)
    {
        _inputStart = 0;
        _inputEnd = read;
        _innerAtEnd = read == 0;
    }

    /// <summary>
    /// One ZSTD_decompressStream call. Returns true with the byte count when there is something to hand out or the
    /// input ended cleanly between frames; false when more input is needed.
    /// </summary>
    private bool TryDecode(Span<byte> destination, out int produced)
    {
        if (_inputStart == _inputEnd && _innerAtEnd)
        {
            // libzstd may still hold decoded bytes of the last block; ask for them with no new input first.
            produced = _insideFrame ? DecodeStep(destination) : 0;
            if (produced > 0)
            {
                return true;
            }

            if (_insideFrame)
            {
                throw new ZstdException("zstd: the input ends inside a frame (truncated data)");
            }

            return true;
        }

        produced = DecodeStep(destination);
        return produced > 0;
    }

    private unsafe int DecodeStep(Span<byte> destination)
    {
        var input = _input!;
        fixed (byte* inputPointer = input)
        fixed (byte* outputPointer = destination)
        {
            var inBuffer = new ZstdNative.InBuffer { Source = inputPointer + _inputStart, Size = (nuint)(_inputEnd - _inputStart) };
            var outBuffer = new ZstdNative.OutBuffer { Destination = outputPointer, Size = (nuint)destination.Length };
            var hint = ZstdNative.DecompressStream(_context, &outBuffer, &inBuffer);
            if (ZstdNative.IsError(hint) != 0)
            {
                var name = ZstdNative.ErrorName(hint);
                throw new ZstdException($"zstd: corrupt input: {name}", name);
            }

            _inputStart += (int)inBuffer.Position;

            // A return value of 0 means a frame was completely decoded and flushed (zstd.h, ZSTD_decompressStream).
            _insideFrame = hint != 0;
            return (int)outBuffer.Position;
        }
    }
}
