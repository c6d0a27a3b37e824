using System.Buffers;

namespace EdgeForge.Compression;

/// <summary>
/// A write-only stream that zstd-compresses what is written to it into <c>inner</c> (ZSTD_compressStream2). One frame
/// is produced, with a content checksum; it is ended when the stream is disposed. With <c>workers</c> &gt; 0 libzstd compresses on that many
/// threads of its own (ZSTD_c_nbWorkers); the output is still one standard frame.
/// </summary>
public sealed class ZstdCompressStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly ZstdCompressionContextHandle _context;
    private byte[]? _output;
    private bool _disposed;

    public ZstdCompressStream(Stream inner, int level = 3, int workers = 0, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!inner.CanWrite)
        {
            throw new ArgumentException("the inner stream must be writable", nameof(inner));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        Zstd.ValidateLevel(level);
        _inner = inner;
        _leaveOpen = leaveOpen;
        _context = ZstdCompressionContextHandle.Create();
        try
        {
            ZstdNative.ThrowIfError(ZstdNative.SetParameter(_context, ZstdNative.CompressionLevelParameter, level), "setting the level");

            // A content checksum, as the zstd tool writes by default, so corruption is detected on decompression.
            ZstdNative.ThrowIfError(ZstdNative.SetParameter(_context, ZstdNative.ChecksumFlagParameter, 1), "enabling the checksum");
            if (workers > 0)
            {
                // Fails with "Unsupported parameter" when libzstd was built without ZSTD_MULTITHREAD.
                ZstdNative.ThrowIfError(ZstdNative.SetParameter(_context, ZstdNative.WorkerCountParameter, workers), "enabling multithreading");
            }
        }
        catch
        {
            _context.Dispose();
            throw;
        }

        _output = ArrayPool<byte>.Shared.Rent((int)ZstdNative.RecommendedCompressOutputSize());
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_disposed;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var output = OutputBuffer();
        var consumed = 0;
        while (consumed < buffer.Length)
        {
            var (read, produced, _) = Step(buffer[consumed..], output, ZstdNative.EndContinue);
            consumed += read;
            if (produced > 0)
            {
                _inner.Write(output, 0, produced);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var output = OutputBuffer();
        var consumed = 0;
        while (consumed < buffer.Length)
        {
            var (read, produced, _) = Step(buffer.Span[consumed..], output, ZstdNative.EndContinue);
            consumed += read;
            if (produced > 0)
            {
                await _inner.WriteAsync(output.AsMemory(0, produced), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Flushes what libzstd buffers into a complete zstd block, so a reader can decode everything written so far.</summary>
    public override void Flush()
    {
        Drain(ZstdNative.EndFlush);
        _inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(ZstdNative.EndFlush, cancellationToken).ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (!_disposed && disposing)
        {
            try
            {
                Drain(ZstdNative.EndFrame);
                _inner.Flush();
            }
            finally
            {
                Release();
                if (!_leaveOpen)
                {
                    _inner.Dispose();
                }
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            try
            {
                await DrainAsync(ZstdNative.EndFrame, CancellationToken.None).ConfigureAwait(false);
                await _inner.FlushAsync().ConfigureAwait(false);
            }
            finally
            {
                Release();
                if (!_leaveOpen)
                {
                    await _inner.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void Release()
    {
        _disposed = true;
        _context.Dispose();
        if (_output is { } output)
        {
            _output = null;
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    private byte[] OutputBuffer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _output!;
    }

    /// <summary>Runs ZSTD_e_flush or ZSTD_e_end until libzstd reports nothing left to write (return value 0).</summary>
    private void Drain(int directive)
    {
        var output = OutputBuffer();
        nuint remaining;
        do
        {
            (_, var produced, remaining) = Step([], output, directive);
            if (produced > 0)
            {
                _inner.Write(output, 0, produced);
            }
        }
        while (remaining != 0);
    }

    private async ValueTask DrainAsync(int directive, CancellationToken cancellationToken)
    {
        var output = OutputBuffer();
        nuint remaining;
        do
        {
            (_, var produced, remaining) = Step([], output, directive);
            if (produced > 0)
            {
                await _inner.WriteAsync(output.AsMemory(0, produced), cancellationToken).ConfigureAwait(false);
            }
        }
        while (remaining != 0);
    }

    private unsafe (int Consumed, int Produced, nuint Remaining) Step(ReadOnlySpan<byte> input, byte[] output, int directive)
    {
        fixed (byte* inputPointer = input)
        fixed (byte* outputPointer = output)
        {
            var inBuffer = new ZstdNative.InBuffer { Source = inputPointer, Size = (nuint)input.Length };
            var outBuffer = new ZstdNative.OutBuffer { Destination = outputPointer, Size = (nuint)output.Length };
            var remaining = ZstdNative.ThrowIfError(ZstdNative.CompressStream2(_context, &outBuffer, &inBuffer, directive), "compression");
            return ((int)inBuffer.Position, (int)outBuffer.Position, remaining);
        }
    }
}
