namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>
/// EFI_GUID (UEFI 2.10 Appendix A): 128 bits stored as Data1 (UINT32), Data2 (UINT16), Data3 (UINT16) little-endian,
/// then Data4 (8 bytes) as written — the "mixed-endian" order. <see cref="Guid.ToByteArray()"/> uses exactly this
/// layout, so the value wraps a <see cref="Guid"/> and only the byte conversion is spelled out here.
/// </summary>
public readonly record struct EfiGuid(Guid Value)
{
    public const int Size = 16;

    /// <summary>EFI_CERT_X509_GUID (§32.4.1): a signature list of DER X.509 certificates.</summary>
    public static readonly EfiGuid CertX509 = Parse("a5c059a1-94e4-4aa7-87b5-ab155c2bf072");

    /// <summary>EFI_CERT_SHA256_GUID (§32.4.1): a signature list of SHA-256 digests (32 bytes each).</summary>
    public static readonly EfiGuid CertSha256 = Parse("c1c41626-504c-4092-aca9-41f936934328");

    /// <summary>EFI_CERT_TYPE_PKCS7_GUID (§32.2.4): WIN_CERTIFICATE_UEFI_GUID.CertData is a PKCS#7 SignedData.</summary>
    public static readonly EfiGuid CertTypePkcs7 = Parse("4aafd29d-68df-49ee-8aa9-347d375665a7");

    /// <summary>EFI_GLOBAL_VARIABLE (§3.3): the vendor GUID of PK and KEK.</summary>
    public static readonly EfiGuid GlobalVariable = Parse("8be4df61-93ca-11d2-aa0d-00e098032b8c");

    /// <summary>EFI_IMAGE_SECURITY_DATABASE_GUID (§32.6.1): the vendor GUID of db and dbx.</summary>
    public static readonly EfiGuid ImageSecurityDatabase = Parse("d719b2cb-3d3a-4596-a3bc-dad00e67656f");

    /// <summary>The SignatureOwner Microsoft uses for its certificates in KEK and db (as in every firmware that ships them).</summary>
    public static readonly EfiGuid MicrosoftOwner = Parse("77fa9abd-0359-4d32-bd60-28f4e78f784b");

    public static EfiGuid Parse(string text) => new(Guid.Parse(text));

    public static EfiGuid NewRandom() => new(Guid.NewGuid());

    public static EfiGuid Read(ReadOnlySpan<byte> source) => new(new Guid(source[..Size]));

    public void Write(Span<byte> destination)
    {
        if (!Value.TryWriteBytes(destination[..Size]))
        {
            throw new ArgumentException("an EFI_GUID needs 16 bytes", nameof(destination));
        }
    }

    public override string ToString() => Value.ToString("D");
}
