using System.Runtime.InteropServices;

namespace EdgeForge.Compression;

/// <summary>
/// One-shot zstd (RFC 8878) compression through the system libzstd. Each thread keeps one compression and one
/// decompression context, so repeated calls allocate nothing.
/// </summary>
public static class Zstd
{
    [ThreadStatic]
    private static ZstdCompressionContextHandle? t_compressionContext;

    [ThreadStatic]
    private static ZstdDecompressionContextHandle? t_decompressionContext;

    /// <summary>The level set on this thread's compression context; ZSTD_compress2 keeps parameters across calls.</summary>
    [ThreadStatic]
    private static int t_compressionLevel;

    private static readonly Lazy<string> LibraryVersion = new(() => Marshal.PtrToStringUTF8(ZstdNative.VersionString()) ?? "");

    /// <summary>libzstd's version string, e.g. "1.5.4".</summary>
    public static string Version => LibraryVersion.Value;

    /// <summary>The lowest (fastest, negative) compression level libzstd accepts.</summary>
    public static int MinLevel => ZstdNative.MinCompressionLevel();

    /// <summary>The highest compression level libzstd accepts (22).</summary>
    public static int MaxLevel => ZstdNative.MaxCompressionLevel();

    /// <summary>The largest size <paramref name="sourceSize"/> bytes can compress to: a destination this large never fails.</summary>
    public static int CompressBound(int sourceSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sourceSize);
        var bound = ZstdNative.CompressBound((nuint)sourceSize);
        return bound > int.MaxValue ? throw new ArgumentOutOfRangeException(nameof(sourceSize), "too large for one zstd call") : (int)bound;
    }

    /// <summary>
    /// Compresses <paramref name="source"/> into one zstd frame (with the content size in its header) and returns the
    /// number of bytes written. Throws <see cref="ZstdException"/> when <paramref name="destination"/> is too small;
    /// use <see cref="TryCompress"/> to treat that as "does not shrink".
    /// </summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        var code = CompressCore(source, destination, level);
        return (int)ZstdNative.ThrowIfError(code, "compression");
    }

    /// <summary>
    /// Like <see cref="Compress"/>, but returns false instead of throwing when the frame does not fit in
    /// <paramref name="destination"/> — how block formats (SquashFS) detect data that is better stored raw.
    /// </summary>
    public static bool TryCompress(ReadOnlySpan<byte> source, Span<byte> destination, int level, out int bytesWritten)
    {
        var code = CompressCore(source, destination, level);
        if (ZstdNative.IsError(code) != 0)
        {
            // ZSTD_error_dstSize_tooSmall is the expected "does not fit"; anything else is a real failure.
            if (ZstdNative.GetErrorCode(code) == ZstdNative.ErrorDestinationTooSmall)
            {
                bytesWritten = 0;
                return false;
            }

            ZstdNative.ThrowIfError(code, "compression");
        }

        bytesWritten = (int)code;
        return true;
    }

    /// <summary>
    /// Decompresses every frame of <paramref name="source"/> (concatenated frames are joined) and returns the number
    /// of bytes written. Throws <see cref="ZstdException"/> for corrupt or truncated input or a too small destination.
    /// </summary>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var context = t_decompressionContext ??= ZstdDecompressionContextHandle.Create();
        nuint code;
        unsafe
        {
            fixed (byte* sourcePointer = source)
            fixed (byte* destinationPointer = destination)
            {
                code = ZstdNative.DecompressWithContext(context, destinationPointer, (nuint)destination.Length, sourcePointer, (nuint)source.Length);
            }
        }

        return (int)ZstdNative.ThrowIfError(code, "decompression");
    }

    internal static void ValidateLevel(int level)
    {
        if (level < MinLevel || level > MaxLevel)
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, $"zstd levels run from {MinLevel} to {MaxLevel}");
        }
    }

    private static nuint CompressCore(ReadOnlySpan<byte> source, Span<byte> destination, int level)
    {
        ValidateLevel(level);
        var context = t_compressionContext;
        if (context is null || t_compressionLevel != level)
        {
            context ??= t_compressionContext = ZstdCompressionContextHandle.Create();
            ZstdNative.ThrowIfError(ZstdNative.SetParameter(context, ZstdNative.CompressionLevelParameter, level), "setting the level");
            t_compressionLevel = level;
        }
        unsafe
        {
            fixed (byte* sourcePointer = source)
            fixed (byte* destinationPointer = destination)
            {
                return ZstdNative.Compress2(context, destinationPointer, (nuint)destination.Length, sourcePointer, (nuint)source.Length);
            }
        }
    }
}

/// <summary>A zstd error: corrupt, truncated or unsupported input, or a destination too small.</summary>
public sealed class ZstdException : IOException
{
    public ZstdException(string message)
        : base(message)
    {
    }

    public ZstdException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal ZstdException(string message, string errorName)
        : base(message)
    {
        ErrorName = errorName;
    }

    /// <summary>libzstd's name for the error (ZSTD_getErrorName), when the error came from the library.</summary>
    public string? ErrorName { get; }
}
