namespace EdgeForge.DiskFormats.Iso9660;

// ECMA-119 (4th edition) numbers the bytes of a structure from 1 ("BP 1"); every offset below is that byte position
// minus one. Numeric fields are "both-byte order" (§7.2.3, §7.3.3: little-endian copy, then big-endian copy) unless
// a comment says otherwise.

/// <summary>ECMA-119 §8.1: the opening fields every volume descriptor shares, and the descriptor types of §8.1.1.</summary>
internal static class VolumeDescriptorFields
{
    public const int Type = 0;
    public const int StandardIdentifier = 1;
    public const int Version = 6;

    /// <summary>§8.1.2: the standard identifier of every descriptor.</summary>
    public const string StandardIdentifierText = "CD001";

    /// <summary>§8.1.3 (and §8.2.3, §8.3.3, §8.4.3, §8.5.3 …): descriptor version 1.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>§8.1.1: the first volume descriptor is at logical sector 16, after the system area (§6.2.1).</summary>
    public const int FirstDescriptorBlock = 16;

    public const byte BootRecordType = 0;
    public const byte PrimaryType = 1;
    public const byte SupplementaryType = 2;
    public const byte TerminatorType = 255;
}

/// <summary>ECMA-119 §8.2: the boot record; El Torito §2.0 fills its boot system use field with the catalog pointer.</summary>
internal static class BootRecordFields
{
    /// <summary>§8.2.4, 32 a-characters.</summary>
    public const int BootSystemIdentifier = 7;
    public const int BootSystemIdentifierLength = 32;

    /// <summary>§8.2.5, 32 a-characters.</summary>
    public const int BootIdentifier = 39;

    /// <summary>§8.2.6; El Torito §2.0: its first four bytes are the catalog's absolute block (little-endian, offset 0x47).</summary>
    public const int BootSystemUse = 71;
}

/// <summary>
/// ECMA-119 §8.4: the primary volume descriptor. §8.5: the supplementary volume descriptor (Joliet's) has the same
/// layout, with volume flags and escape sequences in fields the primary leaves unused.
/// </summary>
internal static class PrimaryVolumeDescriptorFields
{
    /// <summary>§8.4.5, 32 a-characters.</summary>
    public const int SystemIdentifier = 8;
    public const int SystemIdentifierLength = 32;

    /// <summary>§8.4.6, 32 d-characters.</summary>
    public const int VolumeIdentifier = 40;
    public const int VolumeIdentifierLength = 32;

    /// <summary>§8.4.8: the volume's logical blocks.</summary>
    public const int VolumeSpaceSize = 80;

    /// <summary>§8.5.3 (supplementary only): volume flags, bit 0 "escape sequences not only ISO 2375".</summary>
    public const int VolumeFlags = 7;

    /// <summary>§8.5.6 (supplementary only), 32 bytes; Joliet §2.2: "%/@", "%/C" or "%/E" for UCS-2 levels 1, 2 and 3.</summary>
    public const int EscapeSequences = 88;

    /// <summary>§8.4.10, 16-bit.</summary>
    public const int VolumeSetSize = 120;

    /// <summary>§8.4.11, 16-bit.</summary>
    public const int VolumeSequenceNumber = 124;

    /// <summary>§8.4.12, 16-bit.</summary>
    public const int LogicalBlockSize = 128;

    /// <summary>§8.4.13: bytes of one path table.</summary>
    public const int PathTableSize = 132;

    /// <summary>§8.4.14: block of the type L path table, little-endian only.</summary>
    public const int TypeLPathTable = 140;

    /// <summary>§8.4.15: block of the optional type L path table, little-endian only.</summary>
    public const int OptionalTypeLPathTable = 144;

    /// <summary>§8.4.16: block of the type M path table, big-endian only.</summary>
    public const int TypeMPathTable = 148;

    /// <summary>§8.4.17: block of the optional type M path table, big-endian only.</summary>
    public const int OptionalTypeMPathTable = 152;

    /// <summary>§8.4.18: the root's directory record (§9.1), 34 bytes with its one-byte identifier.</summary>
    public const int RootDirectoryRecord = 156;
    public const int RootDirectoryRecordLength = 34;

    /// <summary>§8.4.19 to §8.4.22: 128-character identifiers.</summary>
    public const int VolumeSetIdentifier = 190;
    public const int PublisherIdentifier = 318;
    public const int DataPreparerIdentifier = 446;
    public const int ApplicationIdentifier = 574;
    public const int LongIdentifierLength = 128;

    /// <summary>§8.4.23 to §8.4.25: 37-character file identifiers.</summary>
    public const int CopyrightFileIdentifier = 702;
    public const int AbstractFileIdentifier = 739;
    public const int BibliographicFileIdentifier = 776;
    public const int FileIdentifierLength = 37;

    /// <summary>§8.4.26 to §8.4.29: 17-byte dates in the digit form of §8.4.26.1.</summary>
    public const int VolumeCreationDate = 813;
    public const int VolumeModificationDate = 830;
    public const int VolumeExpirationDate = 847;
    public const int VolumeEffectiveDate = 864;
    public const int VolumeDateLength = 17;

    /// <summary>§8.4.30: 1.</summary>
    public const int FileStructureVersion = 881;
}

/// <summary>ECMA-119 §9.1: a directory record.</summary>
internal static class DirectoryRecordFields
{
    /// <summary>§9.1.1, one byte; records are even-sized (§9.1.12), so 254 is the longest one.</summary>
    public const int Length = 0;
    public const int MaxLength = 254;

    /// <summary>§9.1.2.</summary>
    public const int ExtendedAttributeRecordLength = 1;

    /// <summary>§9.1.3: the first block of the extent.</summary>
    public const int ExtentLocation = 2;

    /// <summary>§9.1.4: bytes of the extent.</summary>
    public const int DataLength = 10;

    /// <summary>§9.1.5, 7 bytes.</summary>
    public const int RecordingDate = 18;
    public const int RecordingDateLength = 7;

    /// <summary>§9.1.6, see <see cref="DirectoryRecordFlags"/>.</summary>
    public const int FileFlags = 25;

    /// <summary>§9.1.7, §9.1.8: interleaving, unused (0).</summary>
    public const int FileUnitSize = 26;
    public const int InterleaveGapSize = 27;

    /// <summary>§9.1.9, 16-bit.</summary>
    public const int VolumeSequenceNumber = 28;

    /// <summary>§9.1.10.</summary>
    public const int FileIdentifierLength = 32;

    /// <summary>§9.1.11: the identifier, after which the fixed part ends.</summary>
    public const int FileIdentifier = 33;

    /// <summary>The shortest record: one identifier byte.</summary>
    public const int MinLength = FileIdentifier + 1;

    /// <summary>§6.8.2.2: the identifiers of a directory's own (".") and its parent's ("..") record.</summary>
    public const byte SelfIdentifier = 0x00, ParentIdentifier = 0x01;

    /// <summary>§9.1.12, §9.1.13: the system use field starts after the identifier and one padding byte when its length is even.</summary>
    public static int SystemUse(int identifierLength) => FileIdentifier + identifierLength + (identifierLength % 2 == 0 ? 1 : 0);
}

/// <summary>ECMA-119 §9.1.6: the bits of a directory record's file flags.</summary>
internal static class DirectoryRecordFlags
{
    public const byte Existence = 0x01;
    public const byte Directory = 0x02;
    public const byte AssociatedFile = 0x04;
    public const byte Record = 0x08;
    public const byte Protection = 0x10;

    /// <summary>Not the final record of the file: its data continues in the next record's extent.</summary>
    public const byte MultiExtent = 0x80;
}

/// <summary>ECMA-119 §9.4: a path table record; type L tables hold little-endian numbers, type M big-endian (§9.4.3, §9.4.4).</summary>
internal static class PathTableRecordFields
{
    /// <summary>§9.4.1.</summary>
    public const int DirectoryIdentifierLength = 0;

    /// <summary>§9.4.2.</summary>
    public const int ExtendedAttributeRecordLength = 1;

    /// <summary>§9.4.3, 32-bit.</summary>
    public const int ExtentLocation = 2;

    /// <summary>§9.4.4, 16-bit: the number (1-based, path table order) of the parent's record.</summary>
    public const int ParentDirectoryNumber = 6;

    /// <summary>§9.4.5.</summary>
    public const int DirectoryIdentifier = 8;

    /// <summary>§9.4.6: a padding byte after an odd-length identifier.</summary>
    public static int RecordLength(int identifierLength) => DirectoryIdentifier + identifierLength + (identifierLength % 2);
}
