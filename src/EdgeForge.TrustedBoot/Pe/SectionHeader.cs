using System.Buffers.Binary;
using System.Text;

namespace EdgeForge.TrustedBoot.Pe;

/// <summary>One row of the section table. Microsoft PE Format, "Section Table (Section Headers)".</summary>
internal readonly record struct SectionHeader(
    string Name,
    uint VirtualSize,
    uint VirtualAddress,
    uint SizeOfRawData,
    uint PointerToRawData,
    uint PointerToRelocations,
    uint PointerToLinenumbers,
    ushort NumberOfRelocations,
    ushort NumberOfLinenumbers,
    uint Characteristics)
{
    public const int Size = 40;

    /// <summary>An image's section names are at most 8 bytes, NUL-padded (longer names exist only in object files).</summary>
    public const int NameLength = 8;

    public const int NameOffset = 0;
    public const int VirtualSizeOffset = 8;
    public const int VirtualAddressOffset = 12;
    public const int SizeOfRawDataOffset = 16;
    public const int PointerToRawDataOffset = 20;
    public const int PointerToRelocationsOffset = 24;
    public const int PointerToLinenumbersOffset = 28;
    public const int NumberOfRelocationsOffset = 32;
    public const int NumberOfLinenumbersOffset = 34;
    public const int CharacteristicsOffset = 36;

    /// <summary>PE Format, "Section Flags".</summary>
    public const uint ContainsCode = 0x00000020;
    public const uint ContainsInitializedData = 0x00000040;
    public const uint MemoryRead = 0x40000000;

    public long RawDataEnd => (long)PointerToRawData + SizeOfRawData;

    public long VirtualEnd => (long)VirtualAddress + VirtualSize;

    public static SectionHeader Parse(ReadOnlySpan<byte> header)
    {
        var name = header[..NameLength];
        var end = name.IndexOf((byte)0);
        return new SectionHeader(
            Encoding.ASCII.GetString(end < 0 ? name : name[..end]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[VirtualSizeOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[VirtualAddressOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[SizeOfRawDataOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[PointerToRawDataOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[PointerToRelocationsOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[PointerToLinenumbersOffset..]),
            BinaryPrimitives.ReadUInt16LittleEndian(header[NumberOfRelocationsOffset..]),
            BinaryPrimitives.ReadUInt16LittleEndian(header[NumberOfLinenumbersOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[CharacteristicsOffset..]));
    }

    public void Write(Span<byte> header)
    {
        if (Encoding.ASCII.GetByteCount(Name) > NameLength)
        {
            throw new ArgumentException($"section name \"{Name}\" is longer than {NameLength} bytes");
        }

        header[..Size].Clear();
        Encoding.ASCII.GetBytes(Name, header[..NameLength]);

        BinaryPrimitives.WriteUInt32LittleEndian(header[VirtualSizeOffset..], VirtualSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[VirtualAddressOffset..], VirtualAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(header[SizeOfRawDataOffset..], SizeOfRawData);
        BinaryPrimitives.WriteUInt32LittleEndian(header[PointerToRawDataOffset..], PointerToRawData);
        BinaryPrimitives.WriteUInt32LittleEndian(header[PointerToRelocationsOffset..], PointerToRelocations);
        BinaryPrimitives.WriteUInt32LittleEndian(header[PointerToLinenumbersOffset..], PointerToLinenumbers);
        BinaryPrimitives.WriteUInt16LittleEndian(header[NumberOfRelocationsOffset..], NumberOfRelocations);
        BinaryPrimitives.WriteUInt16LittleEndian(header[NumberOfLinenumbersOffset..], NumberOfLinenumbers);
        BinaryPrimitives.WriteUInt32LittleEndian(header[CharacteristicsOffset..], Characteristics);
    }
}
