using System.Buffers;
using System.Security.Cryptography;

namespace EdgeForge.TrustedBoot.Pe;

/// <summary>Hashing and copying byte ranges of large files through one bounded buffer.</summary>
internal static class StreamRanges
{
    public const int BufferSize = 1 << 20;

    public static async Task HashAsync(Stream stream, long offset, long length, IncrementalHash hash, CancellationToken cancellation)
    {
        await ForEachChunkAsync(stream, offset, length, chunk =>
        {
            hash.AppendData(chunk.Span);
            return ValueTask.CompletedTask;
        }, cancellation).ConfigureAwait(false);
    }

    /// <summary>Copies <paramref name="length"/> bytes of <paramref name="source"/> from <paramref name="offset"/> to the current position of <paramref name="destination"/>.</summary>
    public static Task CopyAsync(Stream source, long offset, long length, Stream destination, CancellationToken cancellation) =>
        ForEachChunkAsync(source, offset, length, chunk => destination.WriteAsync(chunk, cancellation), cancellation);

    /// <summary>Writes <paramref name="count"/> zero bytes at the current position.</summary>
    public static async Task WriteZerosAsync(Stream destination, long count, CancellationToken cancellation)
    {
        var zeros = new byte[(int)Math.Min(count, BufferSize)];
        while (count > 0)
        {
            var now = (int)Math.Min(count, zeros.Length);
            await destination.WriteAsync(zeros.AsMemory(0, now), cancellation).ConfigureAwait(false);
            count -= now;
        }
    }

    private static async Task ForEachChunkAsync(Stream stream, long offset, long length, Func<ReadOnlyMemory<byte>, ValueTask> consume, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(length, 1, BufferSize));
        try
        {
            stream.Position = offset;
            while (length > 0)
            {
                var wanted = (int)Math.Min(length, buffer.Length);
                await stream.ReadExactlyAsync(buffer.AsMemory(0, wanted), cancellation).ConfigureAwait(false);
                await consume(buffer.AsMemory(0, wanted)).ConfigureAwait(false);
                length -= wanted;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
