using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>
/// A signed update of a time-based authenticated variable (UEFI 2.10 §8.2.2), the content of a <c>.auth</c> file:
/// EFI_VARIABLE_AUTHENTICATION_2 { TimeStamp (EFI_TIME); AuthInfo (WIN_CERTIFICATE_UEFI_GUID { Hdr { dwLength,
/// wRevision 0x0200, wCertificateType WIN_CERT_TYPE_EFI_GUID 0x0EF1 }, CertType EFI_CERT_TYPE_PKCS7_GUID, CertData }) }
/// followed by the variable's new data. CertData is a detached PKCS#7 SignedData over
/// VariableName (UTF-16LE, no NUL) ‖ VendorGuid ‖ Attributes (UINT32 LE) ‖ TimeStamp ‖ Data.
/// </summary>
public sealed class AuthenticatedVariable
{
    /// <summary>EFI_VARIABLE_NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS | TIME_BASED_AUTHENTICATED_WRITE_ACCESS: what systemd-boot and sign-efi-sig-list use.</summary>
    public const uint DefaultAttributes = 0x01 | 0x02 | 0x04 | 0x20;

    /// <summary>WIN_CERTIFICATE.wRevision (§32.2.4).</summary>
    public const ushort WinCertificateRevision = 0x0200;

    /// <summary>WIN_CERT_TYPE_EFI_GUID (§32.2.4).</summary>
    public const ushort WinCertTypeEfiGuid = 0x0EF1;

    /// <summary>dwLength, wRevision, wCertificateType and CertType: the bytes of WIN_CERTIFICATE_UEFI_GUID before CertData.</summary>
    private const int WinCertificateUefiGuidHeader = 4 + 2 + 2 + EfiGuid.Size;

    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    private const string RsaEncryptionOid = "1.2.840.113549.1.1.1";

    private AuthenticatedVariable(EfiTime timeStamp, byte[] certData, byte[] data)
    {
        TimeStamp = timeStamp;
        CertData = certData;
        Data = data;
    }

    public EfiTime TimeStamp { get; }

    /// <summary>The DER SignedData, without a ContentInfo around it (see <see cref="Sign"/>).</summary>
    public byte[] CertData { get; }

    /// <summary>The new value of the variable: for the Secure Boot databases, ESL data.</summary>
    public byte[] Data { get; }

    /// <summary>The bytes the signature covers (§8.2.2, step 2 of "using the EFI_VARIABLE_AUTHENTICATION_2 descriptor").</summary>
    public static byte[] SignedPayload(SecureBootVariable variable, EfiTime timeStamp, ReadOnlySpan<byte> data, uint attributes = DefaultAttributes)
    {
        var name = Encoding.Unicode.GetBytes(variable.Name);
        var payload = new byte[name.Length + EfiGuid.Size + 4 + EfiTime.Size + data.Length];
        var span = payload.AsSpan();
        name.CopyTo(span);
        variable.VendorGuid.Write(span[name.Length..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(name.Length + EfiGuid.Size)..], attributes);
        timeStamp.Write(span[(name.Length + EfiGuid.Size + 4)..]);
        data.CopyTo(span[(name.Length + EfiGuid.Size + 4 + EfiTime.Size)..]);
        return payload;
    }

    /// <summary>
    /// Signs <paramref name="data"/> as an update of <paramref name="variable"/>. The SignedData has the form efitools'
    /// <c>sign-efi-sig-list</c> gives (PKCS7_DETACHED | PKCS7_NOATTR | PKCS7_BINARY, SHA-256, RSA PKCS#1 v1.5, the signer
    /// certificate included, no signed attributes) and, like it, is written without the ContentInfo wrapper: §8.2.2 asks
    /// for "a DER-encoded PKCS #7 version 1.5 SignedData" and some firmware (HP) accepts nothing else, while EDK2
    /// accepts both forms.
    /// </summary>
    public static AuthenticatedVariable Sign(SecureBootVariable variable, ReadOnlySpan<byte> data, EfiTime timeStamp, X509Certificate2 signerCertificate, RSA signerKey, uint attributes = DefaultAttributes)
    {
        if (timeStamp != timeStamp with { Nanosecond = 0, TimeZone = 0, Daylight = 0 })
        {
            throw new ArgumentException("the TimeStamp of an authenticated variable has Nanosecond, TimeZone and Daylight 0 (UEFI §8.2.2)", nameof(timeStamp));
        }

        var payload = SignedPayload(variable, timeStamp, data, attributes);
        var cms = new SignedCms(new ContentInfo(payload), detached: true);
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signerCertificate, signerKey)
        {
            DigestAlgorithm = new Oid(Sha256Oid),
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        cms.ComputeSignature(signer, silent: true);
        return new AuthenticatedVariable(timeStamp, WithNullParameters(SignedDataOf(cms.Encode())), data.ToArray());
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[EfiTime.Size + WinCertificateUefiGuidHeader + CertData.Length + Data.Length];
        var span = bytes.AsSpan();
        TimeStamp.Write(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], (uint)(WinCertificateUefiGuidHeader + CertData.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], WinCertificateRevision);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], WinCertTypeEfiGuid);
        EfiGuid.CertTypePkcs7.Write(span[24..]);
        CertData.CopyTo(span[(EfiTime.Size + WinCertificateUefiGuidHeader)..]);
        Data.CopyTo(span[(EfiTime.Size + WinCertificateUefiGuidHeader + CertData.Length)..]);
        return bytes;
    }

    /// <summary>Reads a <c>.auth</c> file's structure; a malformed one is a <see cref="SecureBootKeyException"/> naming the field.</summary>
    public static AuthenticatedVariable Parse(ReadOnlySpan<byte> bytes, string source)
    {
        if (bytes.Length < EfiTime.Size + WinCertificateUefiGuidHeader)
        {
            throw new SecureBootKeyException($"{source}: {bytes.Length} bytes are too few for an EFI_VARIABLE_AUTHENTICATION_2 header ({EfiTime.Size + WinCertificateUefiGuidHeader})");
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]);
        var revision = BinaryPrimitives.ReadUInt16LittleEndian(bytes[20..]);
        var type = BinaryPrimitives.ReadUInt16LittleEndian(bytes[22..]);
        var certType = EfiGuid.Read(bytes[24..]);
        if (revision != WinCertificateRevision || type != WinCertTypeEfiGuid || certType != EfiGuid.CertTypePkcs7)
        {
            throw new SecureBootKeyException($"{source}: AuthInfo is not a WIN_CERTIFICATE_UEFI_GUID with EFI_CERT_TYPE_PKCS7_GUID (wRevision 0x{revision:X4}, wCertificateType 0x{type:X4}, CertType {certType})");
        }

        if (length < WinCertificateUefiGuidHeader || length > bytes.Length - EfiTime.Size)
        {
            throw new SecureBootKeyException($"{source}: AuthInfo.Hdr.dwLength {length} is outside {WinCertificateUefiGuidHeader}..{bytes.Length - EfiTime.Size}");
        }

        var end = EfiTime.Size + (int)length;
        return new AuthenticatedVariable(EfiTime.Read(bytes), bytes[(EfiTime.Size + WinCertificateUefiGuidHeader)..end].ToArray(), bytes[end..].ToArray());
    }

    /// <summary>
    /// Whether CertData is a valid signature, by <paramref name="signer"/> and no other certificate, over this update of
    /// <paramref name="variable"/> — what firmware checks before it accepts the write.
    /// </summary>
    public bool IsSignedBy(SecureBootVariable variable, X509Certificate2 signer, uint attributes = DefaultAttributes)
    {
        var cms = new SignedCms(new ContentInfo(SignedPayload(variable, TimeStamp, Data, attributes)), detached: true);
        try
        {
            cms.Decode(WithContentInfo(CertData));
            if (cms.SignerInfos.Count != 1)
            {
                return false;
            }

            var signerInfo = cms.SignerInfos[0];
            if (signerInfo.Certificate is { } embedded && !embedded.RawData.AsSpan().SequenceEqual(signer.RawData))
            {
                return false;
            }

            signerInfo.CheckSignature(new X509Certificate2Collection(signer), verifySignatureOnly: true);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The SignedData inside a ContentInfo { contentType signedData, [0] EXPLICIT content }.</summary>
    private static byte[] SignedDataOf(byte[] contentInfo)
    {
        var reader = new AsnReader(contentInfo, AsnEncodingRules.DER).ReadSequence();
        reader.ReadObjectIdentifier();
        var content = reader.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
        return content.ReadEncodedValue().ToArray();
    }

    /// <summary>
    /// The SignedData with explicit NULL parameters in its SHA-256 and rsaEncryption AlgorithmIdentifiers (the
    /// digestAlgorithms set, the SignerInfo's digestAlgorithm and signatureAlgorithm). SignedCms leaves them absent;
    /// OpenSSL — so efitools, and EDK2 which verifies with it — writes NULL, and RFC 3370 §3.2 requires NULL for
    /// rsaEncryption. Without signed attributes the signature covers only the payload, not these fields, so the
    /// rewrite keeps it valid and makes the bytes those of sign-efi-sig-list.
    /// </summary>
    private static byte[] WithNullParameters(byte[] signedData)
    {
        var signed = new AsnReader(signedData, AsnEncodingRules.DER).ReadSequence();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(signed.ReadEncodedValue().Span); // version
            var digestAlgorithms = signed.ReadSetOf();
            using (writer.PushSetOf())
            {
                while (digestAlgorithms.HasData)
                {
                    WriteAlgorithm(writer, digestAlgorithms);
                }
            }

            while (signed.HasData)
            {
                if (!signed.PeekTag().HasSameClassAndValue(Asn1Tag.SetOf))
                {
                    writer.WriteEncodedValue(signed.ReadEncodedValue().Span); // encapContentInfo, certificates
                    continue;
                }

                var signerInfos = signed.ReadSetOf();
                using (writer.PushSetOf())
                {
                    while (signerInfos.HasData)
                    {
                        var signerInfo = signerInfos.ReadSequence();
                        using (writer.PushSequence())
                        {
                            writer.WriteEncodedValue(signerInfo.ReadEncodedValue().Span); // version
                            writer.WriteEncodedValue(signerInfo.ReadEncodedValue().Span); // sid
                            WriteAlgorithm(writer, signerInfo); // digestAlgorithm
                            if (signerInfo.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
                            {
                                writer.WriteEncodedValue(signerInfo.ReadEncodedValue().Span); // signedAttrs
                            }

                            WriteAlgorithm(writer, signerInfo); // signatureAlgorithm
                            while (signerInfo.HasData)
                            {
                                writer.WriteEncodedValue(signerInfo.ReadEncodedValue().Span); // signature, unsignedAttrs
                            }
                        }
                    }
                }
            }
        }

        return writer.Encode();
    }

    private static void WriteAlgorithm(AsnWriter writer, AsnReader reader)
    {
        var algorithm = reader.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            if (algorithm.HasData)
            {
                writer.WriteEncodedValue(algorithm.ReadEncodedValue().Span);
            }
            else if (oid is Sha256Oid or RsaEncryptionOid)
            {
                writer.WriteNull();
            }
        }
    }

    /// <summary>CertData as SignedCms decodes it: wrapped in a ContentInfo unless it already is one (§8.2.2 allows both).</summary>
    private static byte[] WithContentInfo(byte[] certData)
    {
        var first = new AsnReader(certData, AsnEncodingRules.BER).ReadSequence();
        if (first.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
        {
            return certData;
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SignedDataOid);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteEncodedValue(certData);
            }
        }

        return writer.Encode();
    }
}
