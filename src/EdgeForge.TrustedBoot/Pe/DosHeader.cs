namespace EdgeForge.TrustedBoot.Pe;

/// <summary>
/// The MS-DOS stub header at the start of every image. Microsoft PE Format, "MS-DOS Stub (Image Only)" and
/// "Signature (Image Only)": only the magic and e_lfanew matter, the offset of the "PE\0\0" signature.
/// </summary>
internal static class DosHeader
{
    /// <summary>"MZ", little-endian.</summary>
    public const ushort Magic = 0x5A4D;

    public const int MagicOffset = 0x00;

    /// <summary>e_lfanew: the file offset of the PE signature ("at offset 0x3c", PE Format, "Signature (Image Only)").</summary>
    public const int NewHeaderOffsetOffset = 0x3C;

    public const int Size = 0x40;
}

/// <summary>The 4-byte "PE\0\0" that precedes the COFF file header (PE Format, "Signature (Image Only)").</summary>
internal static class PeSignature
{
    public const uint Value = 0x00004550;

    public const int Size = 4;
}
