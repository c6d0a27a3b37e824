namespace EdgeForge.DiskFormats.Iso9660;

// IEEE P1281 System Use Sharing Protocol 1.12 (SUSP) and IEEE P1282 Rock Ridge Interchange Protocol 1.12 (RRIP).
// Offsets are from the start of an entry; numbers are both-byte order as in ECMA-119 §7.3.3.

/// <summary>SUSP §4.1: every System Use entry is signature (2), length (1), version (1), data.</summary>
internal static class SuspEntryFields
{
    public const int Signature = 0;
    public const int Length = 2;
    public const int Version = 3;
    public const int Data = 4;

    /// <summary>Entry version 1, the only one SUSP 1.12 and RRIP 1.12 define.</summary>
    public const byte CurrentVersion = 1;
}

/// <summary>The two-character entry signatures: SUSP §5 and RRIP §4.1.</summary>
internal static class SuspSignatures
{
    /// <summary>SUSP §5.1: continuation area.</summary>
    public const string ContinuationArea = "CE";

    /// <summary>SUSP §5.3: sharing protocol indicator.</summary>
    public const string SharingProtocolIndicator = "SP";

    /// <summary>SUSP §5.4: terminator.</summary>
    public const string Terminator = "ST";

    /// <summary>SUSP §5.5: extensions reference.</summary>
    public const string ExtensionsReference = "ER";

    /// <summary>RRIP §4.1.1: POSIX file attributes.</summary>
    public const string PosixAttributes = "PX";

    /// <summary>RRIP §4.1.2: POSIX device number.</summary>
    public const string DeviceNumber = "PN";

    /// <summary>RRIP §4.1.3: symbolic link.</summary>
    public const string SymbolicLink = "SL";

    /// <summary>RRIP §4.1.4: alternate name.</summary>
    public const string AlternateName = "NM";

    /// <summary>RRIP §4.1.6: time stamps.</summary>
    public const string Timestamps = "TF";
}

/// <summary>SUSP §5.1: CE, 28 bytes.</summary>
internal static class ContinuationAreaFields
{
    public const int Block = 4;
    public const int Offset = 12;
    public const int AreaLength = 20;
    public const int EntryLength = 28;
}

/// <summary>SUSP §5.3: SP, 7 bytes, opening the root's "." record.</summary>
internal static class SharingProtocolIndicatorFields
{
    public const int CheckBytes = 4;
    public const int BytesSkipped = 6;
    public const int EntryLength = 7;
    public const byte Check1 = 0xBE, Check2 = 0xEF;
}

/// <summary>SUSP §5.5: ER; identifier, descriptor and source follow each other from <see cref="Identifier"/>.</summary>
internal static class ExtensionsReferenceFields
{
    public const int IdentifierLength = 4;
    public const int DescriptorLength = 5;
    public const int SourceLength = 6;
    public const int ExtensionVersion = 7;
    public const int Identifier = 8;
}

/// <summary>RRIP 1.12 §4.1.1: PX, 44 bytes with the file serial number (RRIP 1.10 ended before it, at 36).</summary>
internal static class PosixAttributesFields
{
    public const int FileMode = 4;
    public const int Links = 12;
    public const int Uid = 20;
    public const int Gid = 28;
    public const int SerialNumber = 36;
    public const int EntryLength = 44;
}

/// <summary>RRIP §4.1.2: PN, the high and low 32 bits of the device number.</summary>
internal static class DeviceNumberFields
{
    public const int High = 4;
    public const int Low = 12;
    public const int EntryLength = 20;
}

/// <summary>RRIP §4.1.3: SL; flags, then component records of flags (1), length (1), content (§4.1.3.1).</summary>
internal static class SymbolicLinkFields
{
    public const int Flags = 4;
    public const int Components = 5;
    public const int ComponentFlags = 0;
    public const int ComponentLength = 1;
    public const int ComponentContent = 2;

    /// <summary>§4.1.3: the link continues in the next SL entry.</summary>
    public const byte Continue = 0x01;
}

/// <summary>RRIP §4.1.4: NM; flags, then the name's bytes.</summary>
internal static class AlternateNameFields
{
    public const int Flags = 4;
    public const int Name = 5;

    /// <summary>§4.1.4.1: the name continues in the next NM entry; CURRENT and PARENT stand for "." and "..".</summary>
    public const byte Continue = 0x01, Current = 0x02, Parent = 0x04;
}

/// <summary>RRIP §4.1.6: TF; flags saying which times follow, then those times.</summary>
internal static class TimestampsFields
{
    public const int Flags = 4;
    public const int Times = 5;

    /// <summary>§4.1.6.1: which times are recorded; LONG_FORM (0x80) unset means 7-byte dates (ECMA-119 §9.1.5).</summary>
    public const byte Creation = 0x01, Modify = 0x02, Access = 0x04, Attributes = 0x08;
}
