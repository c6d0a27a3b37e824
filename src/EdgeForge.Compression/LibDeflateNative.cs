using System.Runtime.InteropServices;

namespace EdgeForge.Compression;

/// <summary>
/// The part of libdeflate's API (libdeflate.h, stable since 1.0) that EdgeForge uses: whole-buffer zlib (RFC 1950)
/// compression and decompression. The library is the system's <c>libdeflate.so.0</c> (Debian's libdeflate0).
/// It is used for SquashFS "gzip" blocks because a block is one buffer, which is all libdeflate handles, and at
/// level 9 it is ~15 % faster than the zlib-ng inside .NET and its output ~0.7 % smaller (docs/benchmarks.md).
/// </summary>
internal static partial class LibDeflateNative
{
    private const string Library = "libdeflate.so.0";

    /// <summary>The highest level libdeflate_alloc_compressor accepts; 0 stores, 1–9 are zlib's range.</summary>
    public const int MaxCompressionLevel = 12;

    /// <summary>enum libdeflate_result.</summary>
    public enum Result
    {
        Success = 0,
        BadData = 1,
        ShortOutput = 2,
        InsufficientSpace = 3,
    }

    [LibraryImport(Library, EntryPoint = "libdeflate_alloc_compressor")]
    public static partial nint AllocateCompressor(int level);

    [LibraryImport(Library, EntryPoint = "libdeflate_free_compressor")]
    public static partial void FreeCompressor(nint compressor);

    /// <summary>Returns the compressed size, or 0 when the result does not fit in <paramref name="capacity"/> bytes.</summary>
    [LibraryImport(Library, EntryPoint = "libdeflate_zlib_compress")]
    public static unsafe partial nuint ZLibCompress(LibDeflateCompressorHandle compressor, byte* source, nuint sourceSize, byte* destination, nuint capacity);

    [LibraryImport(Library, EntryPoint = "libdeflate_alloc_decompressor")]
    public static partial nint AllocateDecompressor();

    [LibraryImport(Library, EntryPoint = "libdeflate_free_decompressor")]
    public static partial void FreeDecompressor(nint decompressor);

    /// <summary>
    /// Decompresses one zlib stream. With non-null size pointers the output may be shorter than the capacity and
    /// input after the stream's end is allowed; both sizes are reported.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "libdeflate_zlib_decompress_ex")]
    public static unsafe partial Result ZLibDecompress(
        LibDeflateDecompressorHandle decompressor, byte* source, nuint sourceSize, byte* destination, nuint capacity,
        nuint* sourceRead, nuint* destinationWritten);
}

/// <summary>A libdeflate compressor (one level each), freed when the handle is.</summary>
internal sealed class LibDeflateCompressorHandle : SafeHandle
{
    public LibDeflateCompressorHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    public static LibDeflateCompressorHandle Create(int level)
    {
        var compressor = new LibDeflateCompressorHandle();
        compressor.SetHandle(LibDeflateNative.AllocateCompressor(level));
        if (compressor.IsInvalid)
        {
            throw new OutOfMemoryException($"libdeflate: cannot create a level {level} compressor");
        }

        return compressor;
    }

    protected override bool ReleaseHandle()
    {
        LibDeflateNative.FreeCompressor(handle);
        return true;
    }
}

/// <summary>A libdeflate decompressor, freed when the handle is.</summary>
internal sealed class LibDeflateDecompressorHandle : SafeHandle
{
    public LibDeflateDecompressorHandle() : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    public static LibDeflateDecompressorHandle Create()
    {
        var decompressor = new LibDeflateDecompressorHandle();
        decompressor.SetHandle(LibDeflateNative.AllocateDecompressor());
        if (decompressor.IsInvalid)
        {
            throw new OutOfMemoryException("libdeflate: cannot create a decompressor");
        }

        return decompressor;
    }

    protected override bool ReleaseHandle()
    {
        LibDeflateNative.FreeDecompressor(handle);
        return true;
    }
}
