using System.Runtime.InteropServices;

namespace EdgeForge.Compression;

/// <summary>
/// The part of Intel ISA-L's igzip inflate API (isa-l/igzip_lib.h) that <see cref="GzipDecompressStream"/> uses, from
/// the system's <c>libisal.so.2</c> (Debian's libisal2). The caller allocates <c>struct inflate_state</c>, so its size
/// and the offsets of the fields used here are part of the library's ABI for soname 2; they are those of isa-l 2.30
/// on LP64 (amd64, arm64), and a test compiles the header with gcc to check them.
/// </summary>
internal static unsafe partial class IsalNative
{
    private const string Library = "libisal.so.2";

    /// <summary>sizeof(struct inflate_state).</summary>
    public const int InflateStateSize = 87368;

    /// <summary>offsetof(struct inflate_state, block_state) and offsetof(…, crc_flag).</summary>
    public const int BlockStateOffset = 21160, CrcFlagOffset = 21172;

    /// <summary>enum isal_block_state ISAL_BLOCK_FINISH: the member's data and trailer are consumed.</summary>
    public const int BlockFinish = 5;

    /// <summary>isal_inflate's ISAL_INVALID_WRAPPER: the bytes are not a gzip header.</summary>
    public const int InvalidWrapper = -4;

    /// <summary>crc_flag ISAL_GZIP: parse the gzip header and check the CRC-32 and length trailer.</summary>
    public const uint GzipWrapper = 1;

    /// <summary>The fields of struct inflate_state this project reads and writes, at their offsets.</summary>
    [StructLayout(LayoutKind.Explicit, Size = InflateStateSize)]
    public struct InflateState
    {
        [FieldOffset(0)] public byte* NextOut;
        [FieldOffset(8)] public uint AvailableOut;
        [FieldOffset(12)] public uint TotalOut;
        [FieldOffset(16)] public byte* NextIn;
        [FieldOffset(32)] public uint AvailableIn;
        [FieldOffset(BlockStateOffset)] public int BlockState;
        [FieldOffset(CrcFlagOffset)] public uint CrcFlag;
    }

    [LibraryImport(Library, EntryPoint = "isal_inflate_init")]
    private static partial void InflateInit(InflateState* state);

    [LibraryImport(Library, EntryPoint = "isal_inflate_reset")]
    private static partial void InflateReset(InflateState* state);

    [LibraryImport(Library, EntryPoint = "isal_inflate")]
    public static partial int Inflate(InflateState* state);

    /// <summary>An uninitialised state (<see cref="Initialise"/> clears it), aligned for the library's vector code; free it with <see cref="FreeInflateState"/>.</summary>
    public static InflateState* AllocateInflateState() =>
        (InflateState*)NativeMemory.AlignedAlloc(InflateStateSize, 64);

    public static void FreeInflateState(InflateState* state) => NativeMemory.AlignedFree(state);

    /// <summary>Initialises <paramref name="state"/> for one gzip member.</summary>
    public static void Initialise(InflateState* state)
    {
        NativeMemory.Clear(state, InflateStateSize);
        InflateInit(state);
        state->CrcFlag = GzipWrapper;
    }

    /// <summary>Resets <paramref name="state"/> for the next member; the unread input is kept.</summary>
    public static void Reset(InflateState* state)
    {
        var nextIn = state->NextIn;
        var availableIn = state->AvailableIn;
        InflateReset(state);
        state->NextIn = nextIn;
        state->AvailableIn = availableIn;
        state->CrcFlag = GzipWrapper;
    }

    /// <summary>What an isal_inflate error code (igzip_lib.h "Inflate Return values") means.</summary>
    public static string Describe(int code) => code switch
    {
        -1 => "invalid deflate block (corrupt data)",
        -2 => "invalid deflate symbol (corrupt data)",
        -3 => "invalid look-back distance (corrupt data)",
        InvalidWrapper => "not a gzip member (bad header, or bytes after the last member)",
        -5 => "the member uses a compression method other than deflate",
        -6 => "the CRC-32 or length in the member's trailer does not match its data (corrupt data)",
        _ => $"ISA-L inflate error {code}",
    };
}
