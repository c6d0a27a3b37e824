using System.Runtime.InteropServices;

namespace EdgeForge.Compression;

/// <summary>
/// The subset of libzstd's stable API (zstd.h, "advanced compression API" and "streaming") that EdgeForge uses.
/// The library is the system's <c>libzstd.so.1</c>: no zstd package exists on the NuGet feed this project uses.
/// </summary>
internal static partial class ZstdNative
{
    private const string Library = "libzstd.so.1";

    /// <summary>ZSTD_cParameter values (zstd.h).</summary>
    public const int CompressionLevelParameter = 100;
    public const int ChecksumFlagParameter = 201;
    public const int WorkerCountParameter = 400;

    /// <summary>ZSTD_EndDirective values (zstd.h).</summary>
    public const int EndContinue = 0;
    public const int EndFlush = 1;
    public const int EndFrame = 2;

    /// <summary>ZSTD_ResetDirective: ZSTD_reset_session_only keeps the parameters.</summary>
    public const int ResetSessionOnly = 1;

    /// <summary>ZSTD_inBuffer: a pointer, its size and how much of it the library has consumed.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct InBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }

    /// <summary>ZSTD_outBuffer: a pointer, its capacity and how much of it the library has filled.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct OutBuffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    [LibraryImport(Library, EntryPoint = "ZSTD_versionString")]
    public static partial nint VersionString();

    [LibraryImport(Library, EntryPoint = "ZSTD_compressBound")]
    public static partial nuint CompressBound(nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    /// <summary>ZSTD_ErrorCode of "destination buffer is too small" (zstd_errors.h).</summary>
    public const int ErrorDestinationTooSmall = 70;

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorCode")]
    public static partial int GetErrorCode(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_getErrorName")]
    public static partial nint GetErrorName(nuint code);

    [LibraryImport(Library, EntryPoint = "ZSTD_minCLevel")]
    public static partial int MinCompressionLevel();

    [LibraryImport(Library, EntryPoint = "ZSTD_maxCLevel")]
    public static partial int MaxCompressionLevel();

    [LibraryImport(Library, EntryPoint = "ZSTD_createCCtx")]
    public static partial nint CreateCompressionContext();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCompressionContext(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_createDCtx")]
    public static partial nint CreateDecompressionContext();

    [LibraryImport(Library, EntryPoint = "ZSTD_freeDCtx")]
    public static partial nuint FreeDecompressionContext(nint context);

    [LibraryImport(Library, EntryPoint = "ZSTD_CCtx_setParameter")]
    public static partial nuint SetParameter(ZstdCompressionContextHandle context, int parameter, int value);

    [LibraryImport(Library, EntryPoint = "ZSTD_CCtx_reset")]
    public static partial nuint ResetCompressionContext(ZstdCompressionContextHandle context, int directive);

    [LibraryImport(Library, EntryPoint = "ZSTD_DCtx_reset")]
    public static partial nuint ResetDecompressionContext(ZstdDecompressionContextHandle context, int directive);

    [LibraryImport(Library, EntryPoint = "ZSTD_compress2")]
    public static unsafe partial nuint Compress2(ZstdCompressionContextHandle context, byte* destination, nuint capacity, byte* source, nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressDCtx")]
    public static unsafe partial nuint DecompressWithContext(ZstdDecompressionContextHandle context, byte* destination, nuint capacity, byte* source, nuint sourceSize);

    [LibraryImport(Library, EntryPoint = "ZSTD_compressStream2")]
    public static unsafe partial nuint CompressStream2(ZstdCompressionContextHandle context, OutBuffer* output, InBuffer* input, int endDirective);

    [LibraryImport(Library, EntryPoint = "ZSTD_decompressStream")]
    public static unsafe partial nuint DecompressStream(ZstdDecompressionContextHandle context, OutBuffer* output, InBuffer* input);

    [LibraryImport(Library, EntryPoint = "ZSTD_CStreamOutSize")]
    public static partial nuint RecommendedCompressOutputSize();

    [LibraryImport(Library, EntryPoint = "ZSTD_DStreamInSize")]
    public static partial nuint RecommendedDecompressInputSize();

    [LibraryImport(Library, EntryPoint = "ZSTD_DStreamOutSize")]
    public static partial nuint RecommendedDecompressOutputSize();

    /// <summary>Returns <paramref name="code"/> when it is a size, throws <see cref="ZstdException"/> when it is an error code.</summary>
    public static nuint ThrowIfError(nuint code, string operation)
    {
        if (IsError(code) != 0)
        {
            throw new ZstdException($"zstd: {operation} failed: {ErrorName(code)}", ErrorName(code));
        }

        return code;
    }

    public static string ErrorName(nuint code) => Marshal.PtrToStringUTF8(GetErrorName(code)) ?? "unknown error";
}

/// <summary>Owns a ZSTD_CCtx; freed exactly once, even when the owner is finalised.</summary>
internal sealed class ZstdCompressionContextHandle : SafeHandle
{
    public ZstdCompressionContextHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    public static ZstdCompressionContextHandle Create()
    {
        var context = new ZstdCompressionContextHandle();
        context.SetHandle(ZstdNative.CreateCompressionContext());
        if (context.IsInvalid)
        {
            throw new OutOfMemoryException("zstd: cannot create a compression context");
        }

        return context;
    }

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeCompressionContext(handle);
        return true;
    }
}

/// <summary>Owns a ZSTD_DCtx; freed exactly once, even when the owner is finalised.</summary>
internal sealed class ZstdDecompressionContextHandle : SafeHandle
{
    public ZstdDecompressionContextHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    public static ZstdDecompressionContextHandle Create()
    {
        var context = new ZstdDecompressionContextHandle();
        context.SetHandle(ZstdNative.CreateDecompressionContext());
        if (context.IsInvalid)
        {
            throw new OutOfMemoryException("zstd: cannot create a decompression context");
        }

        return context;
    }

    protected override bool ReleaseHandle()
    {
        ZstdNative.FreeDecompressionContext(handle);
        return true;
    }
}
