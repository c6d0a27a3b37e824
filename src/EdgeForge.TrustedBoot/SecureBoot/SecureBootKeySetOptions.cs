namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>What <see cref="SecureBootKeySet.Create"/> makes: CanvOS's <c>+uki-genkey</c> (or, with <see cref="BringYourOwnDirectory"/>, <c>+uki-byok</c>) arguments.</summary>
public sealed record SecureBootKeySetOptions
{
    /// <summary>CanvOS's EXPIRATION_IN_DAYS default: 15 years.</summary>
    public const int DefaultExpiryDays = 5475;

    /// <summary>What <c>openssl req</c> (AuroraBoot genkey) gives without -newkey.</summary>
    public const int DefaultBits = 2048;

    /// <summary>RFC 5280's ub-common-name is 64 characters; the CN is "ORG-KEK" at the longest.</summary>
    public const int MaxOrganizationLength = 64 - 4;

    /// <summary>MY_ORG: the certificates' subjects are CN=ORG-PK, CN=ORG-KEK, CN=ORG-db. Not needed with <see cref="BringYourOwnDirectory"/>.</summary>
    public string? Organization { get; init; }

    public int ExpiryDays { get; init; } = DefaultExpiryDays;

    public int Bits { get; init; } = DefaultBits;

    /// <summary>INCLUDE_MS_SECUREBOOT_KEYS: Microsoft's KEK CA in KEK and its two CAs in db.</summary>
    public bool IncludeMicrosoftKeys { get; init; } = true;

    /// <summary>CanvOS's <c>secure-boot/exported-keys</c>: ESL files KEK, db, dbx exported from a device, any of them absent.</summary>
    public string? ExportedKeysDirectory { get; init; }

    /// <summary>A directory with <c>private-keys/{PK,KEK,db}.key</c> and <c>public-keys/{PK,KEK,db}.pem</c> to enrol instead of new keys.</summary>
    public string? BringYourOwnDirectory { get; init; }

    /// <summary>The time of the certificates' notBefore and of the .auth TimeStamps; the clock when null.</summary>
    public DateTimeOffset? Now { get; init; }

    /// <summary>Every option problem at once, each naming the option and the accepted values.</summary>
    internal void Validate()
    {
        if (BringYourOwnDirectory is null)
        {
            if (string.IsNullOrWhiteSpace(Organization))
            {
                throw new SecureBootKeyException("--org: give the organisation name the certificates are issued to (CN=ORG-PK, ORG-KEK, ORG-db), e.g. --org \"ACME Corp\"");
            }

            if (Organization.Length > MaxOrganizationLength || Organization.Any(c => char.IsControl(c) || char.IsSurrogate(c)))
            {
                // The name is not echoed as it is: a control character would reach the terminal.
                var shown = new string([.. Organization.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? '?' : c)]);
                throw new SecureBootKeyException($"--org \"{shown}\": use at most {MaxOrganizationLength} printable characters (it becomes the certificates' common name)");
            }

            if (Organization != Organization.Trim())
            {
                throw new SecureBootKeyException($"--org \"{Organization}\": leading or trailing spaces would end up in the certificates' common name; remove them");
            }
        }

        if (Bits is not (2048 or 3072 or 4096))
        {
            throw new SecureBootKeyException($"--bits {Bits}: use 2048, 3072 or 4096 (firmware is only required to support RSA-2048, UEFI §32.4.1)");
        }

        if (ExpiryDays is < 1 or > 36500)
        {
            throw new SecureBootKeyException($"--expiry-days {ExpiryDays}: use 1 to 36500 (CanvOS uses {DefaultExpiryDays}, 15 years)");
        }
    }
}
