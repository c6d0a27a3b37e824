using EdgeForge.Compression;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

/// <summary>The decompressors and compressors for layer media types (image-spec layer.md "Distributable format").</summary>
public static class LayerCompressionCodec
{
    public static Stream Decompress(Stream compressed, LayerCompression compression) => compression switch
    {
        LayerCompression.None => compressed,
        LayerCompression.Gzip => new GzipDecompressStream(compressed, leaveOpen: false),
        LayerCompression.Zstd => new ZstdDecompressStream(compressed, leaveOpen: false),
        _ => throw new ArgumentOutOfRangeException(nameof(compression)),
    };

    /// <summary>Detects the compression of a stream from its first bytes (gzip 1f 8b, zstd frame magic 28 b5 2f fd).</summary>
    public static LayerCompression Sniff(ReadOnlySpan<byte> head) => head switch
    {
        [0x1f, 0x8b, ..] => LayerCompression.Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => LayerCompression.Zstd,
        _ => LayerCompression.None,
    };
}
