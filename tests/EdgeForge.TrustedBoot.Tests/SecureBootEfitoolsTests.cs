using System.Formats.Asn1;
using EdgeForge.Testing;
using EdgeForge.TrustedBoot.SecureBoot;

namespace EdgeForge.TrustedBoot.Tests;

/// <summary>
/// Our .auth and .esl files held against efitools (sign-efi-sig-list, sig-list-to-certs) and openssl cms: tools
/// nobody here wrote. Same key, certificate, ESL and TimeStamp must give sign-efi-sig-list's exact bytes.
/// </summary>
public sealed class SecureBootEfitoolsTests : IClassFixture<SecureBootEfitoolsTests.KeySetFixture>
{
    private readonly KeySetFixture _set;

    public SecureBootEfitoolsTests(KeySetFixture set) => _set = set;

    /// <summary>One generated set (with Microsoft's certificates) shared by the tests: RSA key generation is the slow part.</summary>
    public sealed class KeySetFixture : IDisposable
    {
        public KeySetFixture()
        {
            Now = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
            Create(Now);
        }

        public TestDirectory Scratch { get; } = new();

        public DateTimeOffset Now { get; }

        public string Directory => Scratch.Combine("secure-boot");

        public string File(string relative) => Path.Combine(Directory, relative);

        public void Dispose() => Scratch.Dispose();

        private void Create(DateTimeOffset now) =>
            SecureBootKeySet.Create(Directory, new SecureBootKeySetOptions { Organization = "ACME Corp", Now = now }, force: false);
    }

    [Theory]
    [InlineData("PK", "PK")]
    [InlineData("KEK", "PK")]
    [InlineData("db", "KEK")]
    public void The_auth_file_is_byte_identical_to_sign_efi_sig_list(string variable, string signer)
    {
        var output = _set.Scratch.Combine($"efitools-{variable}.auth");

        ExternalTool.Output("sign-efi-sig-list",
            "-t", EfiTime.ForAuthentication(_set.Now).ToString(),
            "-c", _set.File($"public-keys/{signer}.pem"), "-k", _set.File($"private-keys/{signer}.key"),
            variable, _set.File($"enrollment/{variable}.esl"), output);

        var ours = File.ReadAllBytes(_set.File($"enrollment/{variable}.auth"));
        var theirs = File.ReadAllBytes(output);
        ours.Length.ShouldBe(theirs.Length);
        Convert.ToHexString(ours).ShouldBe(Convert.ToHexString(theirs));
    }

    [Theory]
    [InlineData("PK", "PK")]
    [InlineData("KEK", "PK")]
    [InlineData("db", "KEK")]
    public void Openssl_cms_accepts_the_signature_over_the_reconstructed_payload_and_refuses_a_changed_byte(string variable, string signer)
    {
        var auth = AuthenticatedVariable.Parse(File.ReadAllBytes(_set.File($"enrollment/{variable}.auth")), variable);
        var signature = _set.Scratch.Combine($"{variable}.p7");
        File.WriteAllBytes(signature, InContentInfo(auth.CertData));
        var definition = SecureBootVariable.KeyVariables.Single(v => v.Name == variable);
        var payload = AuthenticatedVariable.SignedPayload(definition, auth.TimeStamp, File.ReadAllBytes(_set.File($"enrollment/{variable}.esl")));
        var content = _set.Scratch.Combine($"{variable}.payload");
        File.WriteAllBytes(content, payload);

        Verify(signature, content, signer).ShouldExit(0);

        // The last byte of the ESL (inside the certificate's signature): the update must no longer verify.
        payload[^1] ^= 0x01;
        File.WriteAllBytes(content, payload);
        Verify(signature, content, signer).ExitCode.ShouldNotBe(0);
    }

    [Fact]
    public void The_payload_is_name_guid_attributes_timestamp_data_as_efitools_prints_it()
    {
        // sign-efi-sig-list -o writes exactly the bytes it would sign ("Authentication Payload").
        var output = _set.Scratch.Combine("db.payload-efitools");
        ExternalTool.Output("sign-efi-sig-list", "-o", "-t", EfiTime.ForAuthentication(_set.Now).ToString(), "db", _set.File("enrollment/db.esl"), output);

        var ours = AuthenticatedVariable.SignedPayload(SecureBootVariable.Db, EfiTime.ForAuthentication(_set.Now), File.ReadAllBytes(_set.File("enrollment/db.esl")));
        Convert.ToHexString(ours).ShouldBe(Convert.ToHexString(File.ReadAllBytes(output)));
    }

    [Fact]
    public void Sig_list_to_certs_reads_our_lists_back_to_the_same_certificates()
    {
        var prefix = _set.Scratch.Combine("db-out");
        ExternalTool.Output("sig-list-to-certs", _set.File("enrollment/db.esl"), prefix);

        File.ReadAllBytes(prefix + "-0.der").ShouldBe(File.ReadAllBytes(_set.File("enrollment/db.der")));
        File.ReadAllBytes(prefix + "-1.der").ShouldBe(MicrosoftCertificates.WindowsProductionPca2011);
        File.ReadAllBytes(prefix + "-2.der").ShouldBe(MicrosoftCertificates.UefiCa2011);
        File.Exists(prefix + "-3.der").ShouldBeFalse();

        var kek = _set.Scratch.Combine("kek-out");
        ExternalTool.Output("sig-list-to-certs", _set.File("enrollment/KEK.esl"), kek);
        File.ReadAllBytes(kek + "-0.der").ShouldBe(File.ReadAllBytes(_set.File("enrollment/KEK.der")));
        File.ReadAllBytes(kek + "-1.der").ShouldBe(MicrosoftCertificates.KekCa2011);

        var pk = _set.Scratch.Combine("pk-out");
        ExternalTool.Output("sig-list-to-certs", _set.File("enrollment/PK.esl"), pk);
        File.ReadAllBytes(pk + "-0.der").ShouldBe(File.ReadAllBytes(_set.File("enrollment/PK.der")));
        File.Exists(pk + "-1.der").ShouldBeFalse();
    }

    [Theory]
    [InlineData("PK")]
    [InlineData("KEK")]
    [InlineData("db")]
    public void Openssl_reads_the_certificate_as_genkey_makes_it(string variable)
    {
        var certificate = _set.File($"public-keys/{variable}.pem");
        var text = ExternalTool.Output("openssl", "x509", "-in", certificate, "-noout", "-subject", "-issuer", "-dates", "-text");

        text.ShouldContain($"subject=CN = ACME Corp-{variable}\n");
        text.ShouldContain($"issuer=CN = ACME Corp-{variable}\n");
        text.ShouldContain("notBefore=Mar  4 05:06:07 2026 GMT");
        // 5475 days (CanvOS's EXPIRATION_IN_DAYS) after 2026-03-04.
        text.ShouldContain("notAfter=Feb 28 05:06:07 2041 GMT");
        text.ShouldContain("Version: 3 (0x2)");
        text.ShouldContain("Public-Key: (2048 bit)");
        text.ShouldContain("Signature Algorithm: sha256WithRSAEncryption");
        text.ShouldContain("X509v3 Basic Constraints: critical\n                CA:TRUE");
        text.ShouldContain("X509v3 Key Usage: critical\n                Digital Signature, Certificate Sign, CRL Sign");
        text.ShouldContain("X509v3 Subject Key Identifier:");
        text.ShouldContain("X509v3 Authority Key Identifier:");

        ExternalTool.Output("openssl", "verify", "-CAfile", certificate, certificate).ShouldContain(": OK");
        ExternalTool.Output("openssl", "x509", "-inform", "DER", "-in", _set.File($"enrollment/{variable}.der"), "-noout", "-fingerprint", "-sha256")
            .ShouldBe(ExternalTool.Output("openssl", "x509", "-in", certificate, "-noout", "-fingerprint", "-sha256"));
    }

    [Theory]
    [InlineData("PK")]
    [InlineData("KEK")]
    [InlineData("db")]
    public void Each_private_key_is_its_certificates_key(string variable)
    {
        var key = _set.File($"private-keys/{variable}.key");
        File.ReadAllText(key).ShouldStartWith("-----BEGIN PRIVATE KEY-----\n");
        ExternalTool.Output("openssl", "pkey", "-in", key, "-pubout")
            .ShouldBe(ExternalTool.Output("openssl", "x509", "-in", _set.File($"public-keys/{variable}.pem"), "-noout", "-pubkey"));
    }

    [Fact]
    public void The_tpm_pcr_key_is_rsa_2048_and_private_keys_are_owner_only()
    {
        ExternalTool.Output("openssl", "pkey", "-in", _set.File("private-keys/tpm2-pcr-private.pem"), "-noout", "-text").ShouldContain("Private-Key: (2048 bit");
        File.GetUnixFileMode(_set.File("private-keys")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var file in Directory.GetFiles(_set.File("private-keys")))
        {
            File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite, file);
        }

        Directory.GetFiles(_set.File("private-keys")).Select(Path.GetFileName).Order().ShouldBe(["KEK.key", "PK.key", "db.key", "tpm2-pcr-private.pem"]);
        Directory.GetFiles(_set.File("public-keys")).Select(Path.GetFileName).Order().ShouldBe(["KEK.pem", "PK.pem", "db.pem"]);
        Directory.GetFiles(_set.File("enrollment")).Select(Path.GetFileName).Order()
            .ShouldBe(["KEK.auth", "KEK.der", "KEK.esl", "PK.auth", "PK.der", "PK.esl", "db.auth", "db.der", "db.esl"]);
        Directory.GetFileSystemEntries(_set.Scratch.Path).ShouldNotContain(e => Path.GetFileName(e).StartsWith('.'));
    }

    private ToolResult Verify(string signature, string content, string signer) => ExternalTool.Run("openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", signature, "-content", content, "-CAfile", _set.File($"public-keys/{signer}.pem"), "-purpose", "any", "-out", "/dev/null");

    /// <summary>ContentInfo { signedData, [0] EXPLICIT SignedData }: the form openssl cms reads (the .auth holds the bare SignedData).</summary>
    private static byte[] InContentInfo(byte[] signedData)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("1.2.840.113549.1.7.2");
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            {
                writer.WriteEncodedValue(signedData);
            }
        }

        return writer.Encode();
    }
}
