using System.Buffers.Binary;
using EdgeForge.Compression;

namespace EdgeForge.SquashFs;

/// <summary>
/// Compresses one data, fragment or metadata block with the image's compressor. Thread-safe: the compressor workers
/// share one instance.
/// </summary>
internal abstract class BlockCompressor
{
    public static BlockCompressor Create(SquashFsOptions options) => options.Compressor switch
    {
        SquashFsCompressor.Gzip => new GzipBlockCompressor(options.EffectiveLevel),
        SquashFsCompressor.Zstd => new ZstdBlockCompressor(options.EffectiveLevel),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Compressor, "unknown compressor"),
    };

    /// <summary>The superblock's compression id.</summary>
    public abstract ushort CompressionId { get; }

    /// <summary>
    /// The compressor options block's payload, empty when the level is the default — mksquashfs writes the options
    /// only then (format.adoc "Compression Options"), and the kernel needs none for gzip or zstd.
    /// </summary>
    public abstract byte[] OptionsPayload { get; }

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/> and returns the size, or -1 when the
    /// result would not be smaller than the source: such blocks are stored raw (format.adoc "Packing File Data").
    /// </summary>
    public abstract int Compress(ReadOnlySpan<byte> source, byte[] destination);

    /// <summary>
    /// Decompresses one stored block into <paramref name="destination"/> and returns its length — how the data
    /// pipeline reads back a file already in the image to prove a later file its duplicate.
    /// </summary>
    public abstract int Decompress(byte[] source, int length, Span<byte> destination);

    private sealed class GzipBlockCompressor(int level) : BlockCompressor
    {
        /// <summary>mksquashfs's gzip defaults: level 9, window 15, no strategies (gzip_wrapper.h).</summary>
        private const int DefaultLevel = 9, WindowBits = 15;

        public override ushort CompressionId => SquashFsFormat.CompressionGzip;

        public override byte[] OptionsPayload
        {
            get
            {
                if (level == DefaultLevel)
                {
                    return [];
                }

                var payload = new byte[8];
                BinaryPrimitives.WriteInt32LittleEndian(payload, level);
                BinaryPrimitives.WriteInt16LittleEndian(payload.AsSpan(4), WindowBits);
                return payload;
            }
        }

        public override int Compress(ReadOnlySpan<byte> source, byte[] destination) =>
            source.Length > 1 && ZLib.TryCompress(source, destination.AsSpan(0, Math.Min(destination.Length, source.Length - 1)), level, out var written)
                ? written
                : -1;

        public override int Decompress(byte[] source, int length, Span<byte> destination) =>
            ZLib.Decompress(source.AsSpan(0, length), destination);
    }

    private sealed class ZstdBlockCompressor(int level) : BlockCompressor
    {
        /// <summary>mksquashfs's zstd default level (zstd_wrapper.h ZSTD_DEFAULT_COMPRESSION_LEVEL).</summary>
        private const int DefaultLevel = 15;

        public override ushort CompressionId => SquashFsFormat.CompressionZstd;

        public override byte[] OptionsPayload
        {
            get
            {
                if (level == DefaultLevel)
                {
                    return [];
                }

                var payload = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(payload, level);
                return payload;
            }
        }

        /// <summary>
        /// One frame per block with its content size in the header, so its window never exceeds the block size: the
        /// kernel sizes its zstd workspace for a window of max(block size, 8 KiB) (fs/squashfs/zstd_wrapper.c).
        /// </summary>
        public override int Compress(ReadOnlySpan<byte> source, byte[] destination) =>
            source.Length > 1 && Zstd.TryCompress(source, destination.AsSpan(0, Math.Min(destination.Length, source.Length - 1)), level, out var written)
                ? written
                : -1;

        public override int Decompress(byte[] source, int length, Span<byte> destination) =>
            Zstd.Decompress(source.AsSpan(0, length), destination);
    }
}
