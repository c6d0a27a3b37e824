using System.Security.Cryptography;

namespace EdgeForge.DiskFormats.IO;

/// <summary>
/// The sink every image writer writes through: strictly sequential (so the target may be a pipe), counting the bytes
/// written and optionally hashing them with SHA-256 on the way, so an image is never read back to be checksummed.
/// </summary>
internal sealed class ImageOutputStream : IDisposable
{
    private static readonly byte[] Zeros = new byte[1 << 16];
    private readonly Stream _target;
    private readonly IncrementalHash? _sha256;
    private readonly Action<int>? _written;

    /// <param name="target">Where the image goes.</param>
    /// <param name="computeSha256">Hash the bytes in stream order (<see cref="Sha256Hex"/>).</param>
    /// <param name="written">Called after every write with its byte count, for progress reports.</param>
    public ImageOutputStream(Stream target, bool computeSha256, Action<int>? written = null)
    {
        _target = target;
        _sha256 = computeSha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        _written = written;
    }

    public long Position { get; private set; }

    /// <summary>The furthest byte written so far (differs from <see cref="Position"/> only after <see cref="Seek"/>).</summary>
    public long HighWater { get; private set; }

    /// <summary>Whether <see cref="Seek"/> may be used: a seekable target and no hash being computed in stream order.</summary>
    public bool CanSeek => _target.CanSeek && _sha256 is null;

    /// <summary>
    /// Moves the write position of a seekable, initially empty target. Used only to place file data that a source
    /// delivers out of its announced order; unwritten gaps read as zeros (holes).
    /// </summary>
    public void Seek(long offset)
    {
        if (!CanSeek)
        {
            throw new InvalidOperationException("the image is written strictly in order to this target");
        }

        _target.Flush();
        _target.Position = offset;
        Position = offset;
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _sha256?.AppendData(data.Span);
        if (_target is FileStream)
        {
            // A local file: a synchronous write costs no thread-pool hop per chunk (thousands of small files).
            cancellationToken.ThrowIfCancellationRequested();
            _target.Write(data.Span);
        }
        else
        {
            await _target.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }

        Position += data.Length;
        HighWater = Math.Max(HighWater, Position);
        _written?.Invoke(data.Length);
    }

    public async ValueTask WriteZerosAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            var chunk = (int)Math.Min(count, Zeros.Length);
            await WriteAsync(Zeros.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
            count -= chunk;
        }
    }

    /// <summary>Pads with zeros up to the absolute byte offset <paramref name="offset"/>; writing backwards is a layout bug.</summary>
    public ValueTask PadToAsync(long offset, CancellationToken cancellationToken)
    {
        if (offset < Position)
        {
            throw new InvalidOperationException($"image layout error: at byte {Position}, expected to be at or before {offset}");
        }

        return WriteZerosAsync(offset - Position, cancellationToken);
    }

    /// <summary>Copies exactly <paramref name="length"/> bytes from <paramref name="source"/>; a shorter source is an error.</summary>
    public async ValueTask CopyExactlyAsync(Stream source, long length, string what, CancellationToken cancellationToken)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            var remaining = length;
            while (remaining > 0)
            {
                var chunk = (int)Math.Min(buffer.Length, remaining);
                var read = source is FileStream
                    ? source.Read(buffer, 0, chunk)
                    : await source.ReadAsync(buffer.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"{what}: ended after {length - remaining} of {length} bytes");
                }

                await WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                remaining -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task FlushAsync(CancellationToken cancellationToken) => _target.FlushAsync(cancellationToken);

    public string? Sha256Hex() => _sha256 is null ? null : Convert.ToHexStringLower(_sha256.GetCurrentHash());

    public void Dispose() => _sha256?.Dispose();
}
