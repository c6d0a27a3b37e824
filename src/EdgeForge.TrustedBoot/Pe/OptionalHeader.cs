using System.Buffers.Binary;

namespace EdgeForge.TrustedBoot.Pe;

/// <summary>
/// The fields of the optional header this project reads or rewrites. Microsoft PE Format, "Optional Header (Image
/// Only)", "Optional Header Standard Fields (Image Only)", "Optional Header Windows-Specific Fields (Image Only)" and
/// "Optional Header Data Directories (Image Only)". Offsets are from the start of the optional header; the
/// Windows-specific fields after ImageBase and the data directory sit at different offsets in PE32 and PE32+.
/// </summary>
internal sealed record OptionalHeader(
    ushort Magic,
    uint SizeOfCode,
    uint SizeOfInitializedData,
    uint SectionAlignment,
    uint FileAlignment,
    uint SizeOfImage,
    uint SizeOfHeaders,
    uint CheckSum,
    ushort Subsystem,
    IReadOnlyList<DataDirectory> DataDirectories)
{
    public const ushort Pe32Magic = 0x010B;
    public const ushort Pe32PlusMagic = 0x020B;

    // Standard fields (same offsets in PE32 and PE32+).
    public const int MagicOffset = 0;
    public const int SizeOfCodeOffset = 4;
    public const int SizeOfInitializedDataOffset = 8;
    public const int AddressOfEntryPointOffset = 16;

    // Windows-specific fields at the same offsets in both (ImageBase is 4 bytes at 28 in PE32, 8 bytes at 24 in PE32+).
    public const int SectionAlignmentOffset = 32;
    public const int FileAlignmentOffset = 36;
    public const int SizeOfImageOffset = 56;
    public const int SizeOfHeadersOffset = 60;
    public const int CheckSumOffset = 64;
    public const int SubsystemOffset = 68;

    // Where PE32 and PE32+ differ: the four stack/heap sizes are 4 or 8 bytes wide.
    public const int Pe32NumberOfRvaAndSizesOffset = 92;
    public const int Pe32DataDirectoryOffset = 96;
    public const int Pe32PlusNumberOfRvaAndSizesOffset = 108;
    public const int Pe32PlusDataDirectoryOffset = 112;

    /// <summary>IMAGE_SUBSYSTEM_EFI_APPLICATION (PE Format, "Windows Subsystem").</summary>
    public const ushort SubsystemEfiApplication = 10;

    public bool IsPe32Plus => Magic == Pe32PlusMagic;

    public int DataDirectoryOffset => IsPe32Plus ? Pe32PlusDataDirectoryOffset : Pe32DataDirectoryOffset;

    /// <summary>The certificate table entry, or an empty one when the directory is too short to have one.</summary>
    public DataDirectory CertificateTable => DataDirectories.Count > DataDirectory.CertificateTableIndex
        ? DataDirectories[DataDirectory.CertificateTableIndex]
        : default;

    public static ushort ReadMagic(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt16LittleEndian(header[MagicOffset..]);

    /// <summary>
    /// Parses <paramref name="header"/> (SizeOfOptionalHeader bytes); <paramref name="problem"/> says why it cannot
    /// be when the result is null.
    /// </summary>
    public static OptionalHeader? Parse(ReadOnlySpan<byte> header, out string problem)
    {
        problem = "";
        if (header.Length < 2)
        {
            problem = $"the optional header is {header.Length} bytes long, too short for its magic";
            return null;
        }

        var magic = ReadMagic(header);
        int countOffset;
        int directoryOffset;
        switch (magic)
        {
            case Pe32Magic:
                countOffset = Pe32NumberOfRvaAndSizesOffset;
                directoryOffset = Pe32DataDirectoryOffset;
                break;
            case Pe32PlusMagic:
                countOffset = Pe32PlusNumberOfRvaAndSizesOffset;
                directoryOffset = Pe32PlusDataDirectoryOffset;
                break;
            default:
                problem = $"optional header magic 0x{magic:X4} is neither PE32 (0x010B) nor PE32+ (0x020B)";
                return null;
        }

        if (header.Length < directoryOffset)
        {
            problem = $"the {(magic == Pe32PlusMagic ? "PE32+" : "PE32")} optional header is {header.Length} bytes long, shorter than its {directoryOffset} fixed bytes";
            return null;
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(header[countOffset..]);
        if (count > (header.Length - directoryOffset) / DataDirectory.EntrySize)
        {
            problem = $"NumberOfRvaAndSizes is {count}, but the optional header ({header.Length} bytes) has room for {(header.Length - directoryOffset) / DataDirectory.EntrySize} data directories";
            return null;
        }

        var directories = new DataDirectory[count];
        for (var i = 0; i < directories.Length; i++)
        {
            directories[i] = DataDirectory.Parse(header[(directoryOffset + (i * DataDirectory.EntrySize))..]);
        }

        return new OptionalHeader(
            magic,
            BinaryPrimitives.ReadUInt32LittleEndian(header[SizeOfCodeOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[SizeOfInitializedDataOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[SectionAlignmentOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[FileAlignmentOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[SizeOfImageOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[SizeOfHeadersOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[CheckSumOffset..]),
            BinaryPrimitives.ReadUInt16LittleEndian(header[SubsystemOffset..]),
            directories);
    }
}
