using System.Buffers.Binary;

namespace EdgeForge.TrustedBoot.Authenticode;

/// <summary>
/// An entry of the attribute certificate table. Microsoft PE Format, "The Attribute Certificate Table (Image Only)":
/// entries are quadword aligned and follow the last section; the Certificate Table data directory holds the table's
/// file offset and size.
/// </summary>
internal static class WinCertificate
{
    public const int HeaderSize = 8;

    public const int LengthOffset = 0;
    public const int RevisionOffset = 4;
    public const int CertificateTypeOffset = 6;

    /// <summary>WIN_CERT_REVISION_2_0.</summary>
    public const ushort Revision2 = 0x0200;

    /// <summary>WIN_CERT_TYPE_PKCS_SIGNED_DATA: bCertificate is a PKCS#7 SignedData.</summary>
    public const ushort TypePkcsSignedData = 0x0002;

    /// <summary>The table and each entry start on 8-byte boundaries.</summary>
    public const int Alignment = 8;

    public static long Align(long value) => (value + Alignment - 1) & ~(long)(Alignment - 1);

    /// <summary>
    /// One entry holding <paramref name="signedData"/>, zero-padded to a quadword. dwLength counts the padding, so the
    /// entry's length and the table's size are the same 8-aligned number (UEFI's image verification walks entries by
    /// dwLength rounded up, so either convention verifies; this one leaves nothing outside an entry).
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<byte> signedData)
    {
        var entry = new byte[Align(HeaderSize + signedData.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(LengthOffset), (uint)entry.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(RevisionOffset), Revision2);
        BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(CertificateTypeOffset), TypePkcsSignedData);
        signedData.CopyTo(entry.AsSpan(HeaderSize));
        return entry;
    }
}
