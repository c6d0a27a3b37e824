using System.Buffers;
using System.Buffers.Binary;

namespace EdgeForge.TrustedBoot.Pe;

/// <summary>
/// The optional header's CheckSum as ImageHlp's CheckSumMappedFile computes it (the algorithm the PE Format's
/// "Optional Header Windows-Specific Fields (Image Only)" leaves to IMAGHELP.DLL): the file as little-endian 16-bit
/// words, the CheckSum field read as zero and an odd last byte as a word of its own, summed with end-around carry
/// into 16 bits, plus the file length. UEFI firmware does not check it; Windows tools and some loaders do.
/// </summary>
internal static class PeChecksum
{
    private const int ChunkSize = 1 << 20;

    public static async Task<uint> ComputeAsync(Stream stream, long checkSumOffset, CancellationToken cancellation)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            stream.Position = 0;
            ulong sum = 0;
            long chunkStart = 0;
            while (true)
            {
                // Full chunks of even length keep every word inside one chunk; only the last one can end on an odd byte.
                var read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, cancellation).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                var chunk = buffer.AsSpan(0, read);
                for (var offset = Math.Max(checkSumOffset, chunkStart); offset < Math.Min(checkSumOffset + 4, chunkStart + read); offset++)
                {
                    chunk[(int)(offset - chunkStart)] = 0;
                }

                sum += SumWords(chunk);
                chunkStart += read;
                if (read < ChunkSize)
                {
                    break;
                }
            }

            // Folding a wide sum once at the end equals folding after every word: both are the one's-complement sum
            // modulo 0xFFFF, and both are zero only when every word is.
            while (sum > 0xFFFF)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }

            return unchecked((uint)sum + (uint)chunkStart);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Computes the checksum of the image in <paramref name="stream"/> and writes it into its CheckSum field.</summary>
    public static async Task<uint> UpdateAsync(Stream stream, long checkSumOffset, CancellationToken cancellation)
    {
        var checksum = await ComputeAsync(stream, checkSumOffset, cancellation).ConfigureAwait(false);
        var field = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(field, checksum);
        stream.Position = checkSumOffset;
        await stream.WriteAsync(field, cancellation).ConfigureAwait(false);
        return checksum;
    }

    private static ulong SumWords(ReadOnlySpan<byte> chunk)
    {
        ulong sum = 0;
        var i = 0;
        for (; i + 1 < chunk.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(chunk[i..]);
        }

        if (i < chunk.Length)
        {
            sum += chunk[i];
        }

        return sum;
    }
}
