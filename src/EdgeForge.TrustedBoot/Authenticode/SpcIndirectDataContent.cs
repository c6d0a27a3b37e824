using System.Formats.Asn1;

namespace EdgeForge.TrustedBoot.Authenticode;

/// <summary>
/// The content an Authenticode signature signs. Microsoft, "Windows Authenticode Portable Executable Signature
/// Format", section "SpcIndirectDataContent":
/// <code>
/// SpcIndirectDataContent ::= SEQUENCE {
///     data           SpcAttributeTypeAndOptionalValue,  -- type SPC_PE_IMAGE_DATAOBJ, value SpcPeImageData
///     messageDigest  DigestInfo }
/// SpcPeImageData ::= SEQUENCE {
///     flags  SpcPeImageFlags DEFAULT { includeResources },  -- BIT STRING
///     file   [0] EXPLICIT SpcLink }                       -- SpcLink.file [2]: SpcString.unicode [0] "&lt;&lt;&lt;Obsolete&gt;&gt;&gt;"
/// DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTETSTRING }
/// </code>
/// </summary>
internal static class SpcIndirectDataContent
{
    /// <summary>SPC_INDIRECT_DATA_OBJID: the content type of the SignedData.</summary>
    public const string ContentTypeOid = "1.3.6.1.4.1.311.2.1.4";

    /// <summary>SPC_PE_IMAGE_DATAOBJ.</summary>
    public const string PeImageDataOid = "1.3.6.1.4.1.311.2.1.15";

    /// <summary>SPC_SP_OPUS_INFO_OBJID: the signed attribute for a program name and URL, both optional.</summary>
    public const string SpOpusInfoOid = "1.3.6.1.4.1.311.2.1.12";

    public const string Sha256Oid = "2.16.840.1.101.3.4.2.1";

    /// <summary>
    /// The file link the specification says to fill with "&lt;&lt;&lt;Obsolete&gt;&gt;&gt;"; signtool and sbsign
    /// write it as a BMPString, and so do we, so that our content has the shape every verifier has seen.
    /// </summary>
    private const string ObsoleteFileLink = "<<<Obsolete>>>";

    /// <summary>The DER of the whole SpcIndirectDataContent SEQUENCE for a SHA-256 image digest.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> sha256Digest)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(PeImageDataOid);
                using (writer.PushSequence())
                {
                    writer.WriteBitString([]);
                    using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                    {
                        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2)))
                        {
                            writer.WriteCharacterString(UniversalTagNumber.BMPString, ObsoleteFileLink, new Asn1Tag(TagClass.ContextSpecific, 0));
                        }
                    }
                }
            }

            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Sha256Oid);
                    writer.WriteNull();
                }

                writer.WriteOctetString(sha256Digest);
            }
        }

        return writer.Encode();
    }

    /// <summary>The content octets of the encoded SEQUENCE: what Authenticode's messageDigest is the hash of.</summary>
    public static byte[] ContentOctets(byte[] encoded)
    {
        AsnDecoder.ReadEncodedValue(encoded, AsnEncodingRules.DER, out var contentOffset, out var contentLength, out _);
        return encoded.AsSpan(contentOffset, contentLength).ToArray();
    }

    /// <summary>An SpcSpOpusInfo with neither program name nor URL: an empty SEQUENCE.</summary>
    public static byte[] EncodeEmptyOpusInfo()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
        }

        return writer.Encode();
    }
}
