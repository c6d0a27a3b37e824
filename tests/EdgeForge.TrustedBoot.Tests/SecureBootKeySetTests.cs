using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeForge.Testing;
using EdgeForge.TrustedBoot.SecureBoot;

namespace EdgeForge.TrustedBoot.Tests;

/// <summary>Key sets as a whole: written as a set, refused without --force, brought by the user, with exported keys, loaded and validated.</summary>
public sealed class SecureBootKeySetTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TestDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private string Set => _scratch.Combine("secure-boot");

    private static SecureBootKeySetOptions Options => new() { Organization = "Test Org", Now = Now };

    [Fact]
    public void A_fresh_set_validates_and_loads_with_the_db_key()
    {
        SecureBootKeySet.Create(Set, Options, force: false);

        SecureBootKeySet.Validate(Set, Now).ShouldBeEmpty();
        using var set = SecureBootKeySet.Load(Set, Now);
        set.DbCertificate.HasPrivateKey.ShouldBeTrue();
        set.DbCertificate.Subject.ShouldBe("CN=Test Org-db");
        set.PkAuth.ShouldBe(File.ReadAllBytes(set.PkAuthPath));
        set.KekAuth.ShouldBe(File.ReadAllBytes(set.KekAuthPath));
        set.DbAuth.ShouldBe(File.ReadAllBytes(set.DbAuthPath));
        set.DbxAuthPath.ShouldBeNull();
        File.Exists(set.TpmPcrPrivateKeyPath).ShouldBeTrue();
        using var signer = set.DbCertificate.GetRSAPrivateKey()!;
        signer.VerifyData("x"u8, signer.SignData("x"u8, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).ShouldBeTrue();
    }

    [Fact]
    public void Validate_names_every_problem_and_its_file()
    {
        SecureBootKeySet.Create(Set, Options, force: false);
        File.Copy(Path.Combine(Set, "private-keys/KEK.key"), Path.Combine(Set, "private-keys/db.key"), overwrite: true);
        var esl = File.ReadAllBytes(Path.Combine(Set, "enrollment/PK.esl"));
        esl[^1] ^= 1;
        File.WriteAllBytes(Path.Combine(Set, "enrollment/PK.esl"), esl);
        File.Delete(Path.Combine(Set, "enrollment/KEK.der"));
        File.WriteAllBytes(Path.Combine(Set, "enrollment/KEK.esl"), [1, 2, 3]);

        var problems = SecureBootKeySet.Validate(Set, Now);

        problems.ShouldContain(p => p.StartsWith(Path.Combine(Set, "private-keys/db.key") + ": not the private key of"));
        problems.ShouldContain(p => p.StartsWith(Path.Combine(Set, "enrollment/KEK.der") + ": missing"));
        problems.ShouldContain(p => p.StartsWith(Path.Combine(Set, "enrollment/KEK.esl") + ": not EFI signature list data: at offset 0"));
        problems.ShouldContain(p => p.StartsWith(Path.Combine(Set, "enrollment/PK.auth") + ": its data is not"));
        problems.Count.ShouldBe(6, string.Join("\n", problems)); // PK.esl also lacks its certificate, KEK.auth's data is not KEK.esl
        Should.Throw<SecureBootKeyException>(() => SecureBootKeySet.Load(Set, Now)).Message.ShouldContain("db.key: not the private key of");
    }

    [Fact]
    public void Validate_finds_expired_certificates_and_updates_signed_by_the_wrong_key()
    {
        SecureBootKeySet.Create(Set, Options with { ExpiryDays = 30 }, force: false);
        // db.auth re-signed with the PK (db updates are signed by the KEK).
        var esl = File.ReadAllBytes(Path.Combine(Set, "enrollment/db.esl"));
        using (var pk = SecureBootCertificate.LoadCertificate(Path.Combine(Set, "public-keys/PK.pem")))
        using (var pkKey = SecureBootCertificate.LoadPrivateKey(Path.Combine(Set, "private-keys/PK.key")))
        {
            File.WriteAllBytes(Path.Combine(Set, "enrollment/db.auth"), AuthenticatedVariable.Sign(SecureBootVariable.Db, esl, EfiTime.ForAuthentication(Now), pk, pkKey).ToBytes());
        }

        var problems = SecureBootKeySet.Validate(Set, Now.AddDays(31));

        problems.Where(p => p.Contains("the certificate expired on 2026-07-01 12:00:00 UTC")).Count().ShouldBe(3, string.Join("\n", problems));
        problems.ShouldContain($"{Path.Combine(Set, "enrollment/db.auth")}: not signed by public-keys/KEK.pem (the KEK key signs db updates); sign it again");
        SecureBootKeySet.Validate(Set, Now).Count.ShouldBe(1);
    }

    [Fact]
    public void An_existing_set_is_replaced_only_with_force_and_nothing_is_written_on_refusal()
    {
        SecureBootKeySet.Create(Set, Options, force: false);
        var before = Snapshot(Set);

        Should.Throw<SecureBootKeyException>(() => SecureBootKeySet.Create(Set, Options, force: false))
            .Message.ShouldBe($"{Set}: enrollment/, private-keys/, public-keys/ already hold a key set; nothing was written (use --force to replace it)");
        Snapshot(Set).ShouldBe(before);

        SecureBootKeySet.Create(Set, Options, force: true);
        var after = Snapshot(Set);
        after.Keys.ShouldBe(before.Keys);
        after["private-keys/PK.key"].ShouldNotBe(before["private-keys/PK.key"]);
        SecureBootKeySet.Validate(Set, Now).ShouldBeEmpty();
        Directory.GetFileSystemEntries(_scratch.Path).Select(Path.GetFileName).ShouldBe(["secure-boot"]);
    }

    [Fact]
    public void Canvos_empty_directories_and_exported_keys_are_kept()
    {
        foreach (var sub in new[] { "enrollment", "private-keys", "public-keys", "exported-keys" })
        {
            Directory.CreateDirectory(Path.Combine(Set, sub));
        }

        var exported = ExportedKeys(Path.Combine(Set, "exported-keys"), withDbx: true);
        var kekBefore = File.ReadAllBytes(Path.Combine(exported, "KEK"));

        var summary = SecureBootKeySet.Create(Set, Options with { ExportedKeysDirectory = exported, IncludeMicrosoftKeys = false }, force: false);

        File.ReadAllBytes(Path.Combine(exported, "KEK")).ShouldBe(kekBefore);
        summary.SignatureLists.ShouldBe(new Dictionary<string, int> { ["PK"] = 1, ["KEK"] = 2, ["db"] = 2, ["dbx"] = 1 });
        // Appended as CanvOS does (cat exported/KEK >> KEK.esl): the exported bytes end the list unchanged.
        File.ReadAllBytes(Path.Combine(Set, "enrollment/KEK.esl")).AsSpan().EndsWith(kekBefore).ShouldBeTrue();
        File.ReadAllBytes(Path.Combine(Set, "enrollment/dbx.esl")).ShouldBe(File.ReadAllBytes(Path.Combine(exported, "dbx")));
        SecureBootKeySet.Validate(Set, Now).ShouldBeEmpty();
        using var set = SecureBootKeySet.Load(Set, Now);
        set.DbxAuthPath.ShouldNotBeNull();

        // dbx.auth as sign-efi-sig-list -c KEK.pem -k KEK.key dbx dbx.esl (CanvOS uki-byok) makes it.
        var theirs = _scratch.Combine("dbx.auth");
        ExternalTool.Output("sign-efi-sig-list", "-t", EfiTime.ForAuthentication(Now).ToString(), "-c", Path.Combine(Set, "public-keys/KEK.pem"), "-k", Path.Combine(Set, "private-keys/KEK.key"), "dbx", Path.Combine(Set, "enrollment/dbx.esl"), theirs);
        File.ReadAllBytes(Path.Combine(Set, "enrollment/dbx.auth")).ShouldBe(File.ReadAllBytes(theirs));
    }

    [Fact]
    public void An_empty_exported_keys_directory_adds_nothing_as_in_canvos()
    {
        var exported = Directory.CreateDirectory(_scratch.Combine("exported-keys")).FullName;

        var summary = SecureBootKeySet.Create(Set, Options with { ExportedKeysDirectory = exported }, force: false);

        summary.SignatureLists.ShouldBe(new Dictionary<string, int> { ["PK"] = 1, ["KEK"] = 2, ["db"] = 3 });
        File.Exists(Path.Combine(Set, "enrollment/dbx.esl")).ShouldBeFalse();
    }

    [Fact]
    public void A_malformed_exported_list_names_the_file_and_nothing_is_written()
    {
        var exported = ExportedKeys(_scratch.Combine("exported"), withDbx: false);
        var db = Path.Combine(exported, "db");
        File.WriteAllBytes(db, File.ReadAllBytes(db)[..^3]);

        Should.Throw<EfiSignatureListFormatException>(() => SecureBootKeySet.Create(Set, Options with { ExportedKeysDirectory = exported }, force: false))
            .Message.ShouldStartWith($"{db}: not EFI signature list data: at offset 0:");
        Directory.Exists(Set).ShouldBeFalse();
        Directory.GetFileSystemEntries(_scratch.Path).Select(Path.GetFileName).ShouldBe(["exported"]);
    }

    [Fact]
    public void Own_keys_are_enrolled_as_they_are_in_place_or_from_elsewhere()
    {
        var own = _scratch.Combine("own");
        SecureBootKeySet.Create(own, Options, force: false);
        File.Delete(Path.Combine(own, "private-keys/tpm2-pcr-private.pem"));
        Directory.Delete(Path.Combine(own, "enrollment"), recursive: true);
        var pk = File.ReadAllBytes(Path.Combine(own, "private-keys/PK.key"));

        var summary = SecureBootKeySet.Create(Set, new SecureBootKeySetOptions { BringYourOwnDirectory = own, Now = Now }, force: false);
        summary.BroughtOwnKeys.ShouldBeTrue();
        File.ReadAllBytes(Path.Combine(Set, "private-keys/PK.key")).ShouldBe(pk);
        SecureBootKeySet.Validate(Set, Now).ShouldBeEmpty();

        // In place (CanvOS: keys in secure-boot/private-keys and public-keys, enrollment made beside them).
        SecureBootKeySet.Create(own, new SecureBootKeySetOptions { BringYourOwnDirectory = own, Now = Now }, force: false);
        File.ReadAllBytes(Path.Combine(own, "private-keys/PK.key")).ShouldBe(pk);
        SecureBootKeySet.Validate(own, Now).ShouldBeEmpty();
    }

    [Fact]
    public void Own_keys_that_do_not_match_or_have_expired_are_refused_naming_the_file()
    {
        var own = _scratch.Combine("own");
        SecureBootKeySet.Create(own, Options with { ExpiryDays = 10 }, force: false);
        File.Copy(Path.Combine(own, "private-keys/PK.key"), Path.Combine(own, "private-keys/KEK.key"), overwrite: true);
        var byo = new SecureBootKeySetOptions { BringYourOwnDirectory = own, Now = Now };

        Should.Throw<SecureBootKeyException>(() => SecureBootKeySet.Create(Set, byo, force: false))
            .Message.ShouldBe($"{Path.Combine(own, "private-keys/KEK.key")}: not the private key of {Path.Combine(own, "public-keys/KEK.pem")} (the public keys differ); put the matching pair in place");

        SecureBootKeySet.Create(own, Options with { ExpiryDays = 10 }, force: true);
        Should.Throw<SecureBootKeyException>(() => SecureBootKeySet.Create(Set, byo with { Now = Now.AddDays(11) }, force: false))
            .Message.ShouldStartWith($"{Path.Combine(own, "public-keys/PK.pem")}: the certificate expired on");

        File.Delete(Path.Combine(own, "public-keys/db.pem"));
        Should.Throw<SecureBootKeyException>(() => SecureBootKeySet.Create(Set, byo, force: false)).Message.ShouldContain("db.pem: no such file");
        Directory.Exists(Set).ShouldBeFalse();
    }

    [Theory]
    [InlineData("", 2048, 5475, "--org")]
    [InlineData("   ", 2048, 5475, "--org")]
    [InlineData("Bad\u0007Org", 2048, 5475, "--org \"Bad?Org\": use at most 60 printable")]
    [InlineData("ACME", 1024, 5475, "--bits 1024")]
    [InlineData("ACME", 2048, 0, "--expiry-days 0")]
    public void Bad_options_are_refused_before_anything_is_made(string organization, int bits, int days, string expected)
    {
        Should.Throw<SecureBootKeyException>(() => SecureBootKeySet.Create(Set, new SecureBootKeySetOptions { Organization = organization, Bits = bits, ExpiryDays = days }, force: false))
            .Message.ShouldContain(expected);
        Directory.Exists(Set).ShouldBeFalse();
    }

    /// <summary>KEK and db as a device exports them (one foreign certificate each), and a dbx of two SHA-256 hashes.</summary>
    private string ExportedKeys(string directory, bool withDbx)
    {
        Directory.CreateDirectory(directory);
        var owner = EfiGuid.NewRandom();
        foreach (var name in new[] { "KEK", "db" })
        {
            using var key = RSA.Create(2048);
            using var certificate = SecureBootCertificate.CreateSelfSigned($"Vendor {name}", key, Now, 365);
            File.WriteAllBytes(Path.Combine(directory, name), EfiSignatureList.ToBytes([EfiSignatureList.ForCertificate(owner, certificate.RawData)]));
        }

        if (withDbx)
        {
            File.WriteAllBytes(Path.Combine(directory, "dbx"), EfiSignatureList.ToBytes([new EfiSignatureList(EfiGuid.CertSha256, [new(owner, SHA256.HashData("revoked-1"u8)), new(owner, SHA256.HashData("revoked-2"u8))])]));
        }

        return directory;
    }

    private static Dictionary<string, string> Snapshot(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}
