namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>
/// CanvOS's <c>secure-boot/</c> directory, which its <c>+uki-genkey</c>, <c>+uki-byok</c> and <c>+secure-boot-dirs</c>
/// targets and the UKI build (enki <c>build-uki -k</c>) read: a CanvOS checkout works with a set written here unchanged.
/// </summary>
public static class SecureBootLayout
{
    /// <summary>{PK,KEK,db}.{esl,auth,der} (and dbx.{esl,auth}): what is enrolled.</summary>
    public const string Enrollment = "enrollment";

    /// <summary>{PK,KEK,db}.key and tpm2-pcr-private.pem: PKCS#8 PEM, mode 0600, in a 0700 directory.</summary>
    public const string PrivateKeys = "private-keys";

    /// <summary>{PK,KEK,db}.pem: the certificates.</summary>
    public const string PublicKeys = "public-keys";

    /// <summary>Input only: ESL files KEK, db, dbx exported from a device (efi-readvar -v NAME -o FILE).</summary>
    public const string ExportedKeys = "exported-keys";

    /// <summary>The RSA key that signs the UKI's PCR policy (systemd-measure / ukify --pcr-private-key).</summary>
    public const string TpmPcrPrivateKey = "tpm2-pcr-private.pem";

    /// <summary>The directories a set consists of; each is replaced as a whole.</summary>
    public static IReadOnlyList<string> SetDirectories { get; } = [Enrollment, PrivateKeys, PublicKeys];

    public static string KeyFile(SecureBootVariable variable) => Path.Combine(PrivateKeys, variable.Name + ".key");

    public static string CertificateFile(SecureBootVariable variable) => Path.Combine(PublicKeys, variable.Name + ".pem");

    public static string EnrollmentFile(SecureBootVariable variable, string extension) => Path.Combine(Enrollment, $"{variable.Name}.{extension}");

    public static string TpmPcrPrivateKeyFile => Path.Combine(PrivateKeys, TpmPcrPrivateKey);
}
