using System.Security.Cryptography;
using EdgeForge.Testing;
using EdgeForge.TrustedBoot.SecureBoot;

namespace EdgeForge.TrustedBoot.Tests;

/// <summary>EFI_GUID, EFI_TIME and EFI_SIGNATURE_LIST on disk, held against efitools' cert-to-efi-sig-list and sign-efi-sig-list.</summary>
public sealed class SecureBootSignatureListTests : IDisposable
{
    private readonly TestDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void Guids_are_stored_mixed_endian()
    {
        var bytes = new byte[16];
        EfiGuid.CertX509.Write(bytes);
        // a5c059a1-94e4-4aa7-87b5-ab155c2bf072: the first three fields little-endian, the last eight bytes as written.
        Convert.ToHexString(bytes).ShouldBe("A159C0A5E494A74A87B5AB155C2BF072");
        EfiGuid.Read(bytes).ShouldBe(EfiGuid.CertX509);
    }

    [Fact]
    public void A_timestamp_is_the_16_bytes_sign_efi_sig_list_writes()
    {
        var time = EfiTime.ForAuthentication(new DateTimeOffset(2026, 12, 2, 10, 11, 12, 345, TimeSpan.FromHours(2)));

        // Converted to UTC, milliseconds dropped, Pad1/Nanosecond/TimeZone/Daylight/Pad2 zero (§8.2.2).
        Convert.ToHexString(time.ToBytes()).ShouldBe("EA070C02080B0C000000000000000000");
        EfiTime.Read(time.ToBytes()).ShouldBe(time);
        time.ToString().ShouldBe("2026-12-02 08:11:12");
    }

    [Fact]
    public void A_list_made_by_cert_to_efi_sig_list_reads_back_and_ours_is_the_same_bytes()
    {
        var (pem, der) = Certificate("list-test");
        var owner = EfiGuid.Parse("11223344-5566-7788-99aa-bbccddeeff00");
        var theirs = _scratch.Combine("cert.esl");
        ExternalTool.Output("cert-to-efi-sig-list", "-g", owner.ToString(), pem, theirs);

        var list = EfiSignatureList.ReadFile(theirs).ShouldHaveSingleItem();
        list.SignatureType.ShouldBe(EfiGuid.CertX509);
        list.SignatureHeader.ShouldBeEmpty();
        list.Signatures.ShouldHaveSingleItem().Owner.ShouldBe(owner);
        list.Signatures[0].Data.ShouldBe(der);
        list.SignatureSize.ShouldBe(16 + der.Length);

        Convert.ToHexString(EfiSignatureList.ToBytes([EfiSignatureList.ForCertificate(owner, der)])).ShouldBe(Convert.ToHexString(File.ReadAllBytes(theirs)));
    }

    [Fact]
    public void Sha256_lists_hold_48_byte_entries_and_several_lists_concatenate()
    {
        var owner = EfiGuid.NewRandom();
        var hashes = new EfiSignatureList(EfiGuid.CertSha256, [new(owner, SHA256.HashData("a"u8)), new(owner, SHA256.HashData("b"u8))]);
        var (_, der) = Certificate("concat");
        var bytes = EfiSignatureList.ToBytes([hashes, EfiSignatureList.ForCertificate(owner, der)]);

        var lists = EfiSignatureList.ReadAll(bytes, "test");
        lists.Count.ShouldBe(2);
        lists[0].SignatureSize.ShouldBe(48);
        lists[0].ListSize.ShouldBe(28 + 2 * 48);
        lists[0].Signatures.Select(s => Convert.ToHexString(s.Data)).ShouldBe([Convert.ToHexString(SHA256.HashData("a"u8)), Convert.ToHexString(SHA256.HashData("b"u8))]);
        lists[1].Signatures[0].Data.ShouldBe(der);
        EfiSignatureList.ReadAll([], "empty").ShouldBeEmpty();
    }

    [Fact]
    public void Malformed_lists_are_refused_naming_the_source_and_the_offset()
    {
        var (_, der) = Certificate("malformed");
        var good = EfiSignatureList.ToBytes([EfiSignatureList.ForCertificate(EfiGuid.NewRandom(), der)]);

        Should.Throw<EfiSignatureListFormatException>(() => EfiSignatureList.ReadAll(good[..^1], "KEK"))
            .Message.ShouldStartWith($"KEK: not EFI signature list data: at offset 0: SignatureListSize {good.Length} is outside 28..{good.Length - 1}");

        // A second list cut inside its header: the offset is where that list starts.
        var second = Should.Throw<EfiSignatureListFormatException>(() => EfiSignatureList.ReadAll([.. good, .. good[..20]], "db"));
        second.Offset.ShouldBe(good.Length);
        second.Message.ShouldContain($"at offset {good.Length}: 20 trailing bytes");

        // An X.509 entry that is no certificate: the offset is the entry's.
        var garbage = EfiSignatureList.ToBytes([new EfiSignatureList(EfiGuid.CertX509, [new(EfiGuid.NewRandom(), new byte[64])])]);
        Should.Throw<EfiSignatureListFormatException>(() => EfiSignatureList.ReadAll(garbage, "db")).Offset.ShouldBe(28);

        var hashes = EfiSignatureList.ToBytes([new EfiSignatureList(EfiGuid.CertSha256, [new(EfiGuid.NewRandom(), new byte[20])])]);
        Should.Throw<EfiSignatureListFormatException>(() => EfiSignatureList.ReadAll(hashes, "dbx")).Message.ShouldContain("is not 48");

        // Copied from /sys/firmware/efi/efivars: 4 bytes of attributes first. The message says so.
        Should.Throw<EfiSignatureListFormatException>(() => EfiSignatureList.ReadAll([0x27, 0, 0, 0, .. good], "db"))
            .Message.ShouldContain("4 bytes of variable attributes");
    }

    private (string Pem, byte[] Der) Certificate(string name)
    {
        using var key = RSA.Create(2048);
        using var certificate = SecureBootCertificate.CreateSelfSigned(name, key, DateTimeOffset.UtcNow, 30);
        var pem = _scratch.Combine(name + ".pem");
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        return (pem, certificate.RawData);
    }
}
