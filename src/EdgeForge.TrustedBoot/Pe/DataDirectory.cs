using System.Buffers.Binary;

namespace EdgeForge.TrustedBoot.Pe;

/// <summary>
/// One entry of the optional header's data directory table. Microsoft PE Format, "Optional Header Data Directories
/// (Image Only)": an RVA and a size, except the Certificate Table, whose "address" is a file offset.
/// </summary>
internal readonly record struct DataDirectory(uint VirtualAddress, uint Size)
{
    public const int EntrySize = 8;

    public const int VirtualAddressOffset = 0;
    public const int SizeOffset = 4;

    /// <summary>Index of the Certificate Table (the attribute certificate table, "Security Directory").</summary>
    public const int CertificateTableIndex = 4;

    /// <summary>Index of the Debug directory, whose entries carry file offsets (PE Format, "The .debug Section").</summary>
    public const int DebugIndex = 6;

    public bool IsEmpty => VirtualAddress == 0 && Size == 0;

    public static DataDirectory Parse(ReadOnlySpan<byte> entry) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(entry[VirtualAddressOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(entry[SizeOffset..]));

    public void Write(Span<byte> entry)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(entry[VirtualAddressOffset..], VirtualAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[SizeOffset..], Size);
    }
}
