using System.Formats.Asn1;
using System.Security.Cryptography;

namespace EdgeForge.TrustedBoot.Authenticode;

/// <summary>
/// Re-encodes SignedCms's CMS SignedData as the PKCS#7 SignedData Authenticode specifies (Microsoft, "Windows
/// Authenticode Portable Executable Signature Format", "Authenticode Signatures"; RFC 2315 §9.1):
/// <code>
/// ContentInfo ::= SEQUENCE { contentType signedData, content [0] EXPLICIT SignedData }
/// SignedData ::= SEQUENCE { version 1, digestAlgorithms, contentInfo SEQUENCE { SPC_INDIRECT_DATA_OBJID,
///     [0] EXPLICIT SpcIndirectDataContent }, certificates [0] IMPLICIT OPTIONAL, crls [1] IMPLICIT OPTIONAL, signerInfos }
/// </code>
/// Digest algorithms, certificates and signer infos are copied byte for byte.
/// </summary>
internal static class Pkcs7SignedData
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";

    private static readonly Asn1Tag ExplicitContent = new(TagClass.ContextSpecific, 0, isConstructed: true);

    public static byte[] FromCms(byte[] cms, byte[] spcIndirectDataContent, byte[] contentOctets)
    {
        var outer = new AsnReader(cms, AsnEncodingRules.DER).ReadSequence();
        if (outer.ReadObjectIdentifier() != SignedDataOid)
        {
            throw new CryptographicException("SignedCms did not produce a SignedData");
        }

        var signedData = outer.ReadSequence(ExplicitContent).ReadSequence();
        signedData.ReadInteger();
        var digestAlgorithms = signedData.ReadEncodedValue();
        var encapsulated = signedData.ReadSequence();
        var contentType = encapsulated.ReadObjectIdentifier();
        var wrapped = encapsulated.ReadSequence(ExplicitContent).ReadOctetString();
        if (contentType != SpcIndirectDataContent.ContentTypeOid || !wrapped.AsSpan().SequenceEqual(contentOctets))
        {
            throw new CryptographicException("SignedCms did not encapsulate the SpcIndirectDataContent it was given");
        }

        var remaining = new List<ReadOnlyMemory<byte>>();
        while (signedData.HasData)
        {
            remaining.Add(signedData.ReadEncodedValue());
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SignedDataOid);
            using (writer.PushSequence(ExplicitContent))
            {
                using (writer.PushSequence())
                {
                    // RFC 2315 §9.1: version 1 (CMS's 3 is for a non-id-data eContent, which PKCS#7 does not have).
                    writer.WriteInteger(1);
                    writer.WriteEncodedValue(digestAlgorithms.Span);
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(SpcIndirectDataContent.ContentTypeOid);
                        using (writer.PushSequence(ExplicitContent))
                        {
                            writer.WriteEncodedValue(spcIndirectDataContent);
                        }
                    }

                    foreach (var value in remaining)
                    {
                        writer.WriteEncodedValue(value.Span);
                    }
                }
            }
        }

        return writer.Encode();
    }
}
