using System.Buffers.Binary;

namespace EdgeForge.TrustedBoot.Pe;

/// <summary>The COFF file header that follows the PE signature. Microsoft PE Format, "COFF File Header (Object and Image)".</summary>
internal readonly record struct CoffFileHeader(
    ushort Machine,
    ushort NumberOfSections,
    uint TimeDateStamp,
    uint PointerToSymbolTable,
    uint NumberOfSymbols,
    ushort SizeOfOptionalHeader,
    ushort Characteristics)
{
    public const int Size = 20;

    public const int MachineOffset = 0;
    public const int NumberOfSectionsOffset = 2;
    public const int TimeDateStampOffset = 4;
    public const int PointerToSymbolTableOffset = 8;
    public const int NumberOfSymbolsOffset = 12;
    public const int SizeOfOptionalHeaderOffset = 16;
    public const int CharacteristicsOffset = 18;

    /// <summary>PE Format, "Machine Types".</summary>
    public const ushort MachineI386 = 0x014C;
    public const ushort MachineAmd64 = 0x8664;
    public const ushort MachineArm64 = 0xAA64;

    /// <summary>IMAGE_FILE_LOCAL_SYMS_STRIPPED (PE Format, "Characteristics"): COFF symbol table entries removed.</summary>
    public const ushort LocalSymbolsStripped = 0x0008;

    public static CoffFileHeader Parse(ReadOnlySpan<byte> header) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(header[MachineOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(header[NumberOfSectionsOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[TimeDateStampOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[PointerToSymbolTableOffset..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[NumberOfSymbolsOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(header[SizeOfOptionalHeaderOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(header[CharacteristicsOffset..]));

    /// <summary>The architecture as people name it, for messages.</summary>
    public static string MachineName(ushort machine) => machine switch
    {
        MachineAmd64 => "x86-64",
        MachineArm64 => "AArch64",
        MachineI386 => "i386",
        _ => $"machine 0x{machine:X4}",
    };
}
