using System.IO.Compression;

namespace EdgeForge.Compression;

/// <summary>
/// One-shot zlib (RFC 1950: deflate with the 2-byte header and Adler-32 trailer) — the format SquashFS calls "gzip"
/// and the kernel's zlib_inflate reads — through the system libdeflate. Each thread keeps one compressor per level
/// and one decompressor, so repeated calls allocate nothing.
/// </summary>
public static class ZLib
{
    /// <summary>zlib's levels: 0 (store) to 9 (smallest); libdeflate's levels of the same numbers are used.</summary>
    public const int MinLevel = 0, MaxLevel = 9;

    [ThreadStatic]
    private static LibDeflateCompressorHandle?[]? t_compressors;

    [ThreadStatic]
    private static LibDeflateDecompressorHandle? t_decompressor;

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/> at zlib <paramref name="level"/>.
    /// Returns false when the result does not fit — how block formats detect data better stored raw.
    /// </summary>
    public static bool TryCompress(ReadOnlySpan<byte> source, Span<byte> destination, int level, out int bytesWritten)
    {
        ValidateLevel(level);
        var compressors = t_compressors ??= new LibDeflateCompressorHandle?[MaxLevel + 1];
        var compressor = compressors[level] ??= LibDeflateCompressorHandle.Create(level);
        nuint written;
        unsafe
        {
            fixed (byte* sourcePointer = source)
            fixed (byte* destinationPointer = destination)
            {
                written = LibDeflateNative.ZLibCompress(compressor, sourcePointer, (nuint)source.Length, destinationPointer, (nuint)destination.Length);
            }
        }

        // libdeflate returns 0 for "does not fit"; a zlib stream is never empty (header and trailer alone are 6 bytes).
        bytesWritten = (int)written;
        return written != 0;
    }

    /// <summary>Decompresses one zlib stream into <paramref name="destination"/>; returns the byte count.</summary>
    /// <exception cref="InvalidDataException">The input is not a complete zlib stream or does not fit.</exception>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var decompressor = t_decompressor ??= LibDeflateDecompressorHandle.Create();
        LibDeflateNative.Result result;
        nuint read, written;
        unsafe
        {
            fixed (byte* sourcePointer = source)
            fixed (byte* destinationPointer = destination)
            {
                result = LibDeflateNative.ZLibDecompress(
                    decompressor, sourcePointer, (nuint)source.Length, destinationPointer, (nuint)destination.Length, &read, &written);
            }
        }

        return result switch
        {
            LibDeflateNative.Result.Success => (int)written,
            LibDeflateNative.Result.InsufficientSpace => throw new InvalidDataException("zlib: the data does not fit the destination"),
            _ => throw new InvalidDataException("zlib: the input is not a complete zlib stream (corrupt or truncated)"),
        };
    }

    internal static void ValidateLevel(int level)
    {
        if (level is < MinLevel or > MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"zlib levels run from {MinLevel} to {MaxLevel}");
        }
    }
}

/// <summary>gzip (RFC 1952) streams: compression over System.IO.Compression with zlib's numeric levels, decompression through ISA-L.</summary>
public static class Gzip
{
    /// <summary>A write-only stream that gzip-compresses into <paramref name="inner"/> at zlib <paramref name="level"/> (0–9).</summary>
    public static Stream CreateCompressStream(Stream inner, int level = 6, bool leaveOpen = false)
    {
        ZLib.ValidateLevel(level);
        return new GZipStream(inner, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen);
    }

    /// <summary>A read-only stream of the decompressed gzip members read from <paramref name="inner"/>.</summary>
    public static Stream CreateDecompressStream(Stream inner, bool leaveOpen = false) =>
        new GzipDecompressStream(inner, leaveOpen);
}
