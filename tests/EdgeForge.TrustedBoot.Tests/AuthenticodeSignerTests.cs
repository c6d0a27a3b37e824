using EdgeForge.Testing;
using EdgeForge.TrustedBoot.Authenticode;
using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Tests;

public sealed class AuthenticodeSignerTests : IDisposable
{
    private readonly TestDirectory _directory = new("edgeforge-authenticode-");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Sbverify_accepts_the_signed_boot_loader_with_the_signing_certificate_only()
    {
        var key = SigningKey.Create(_directory, "db");
        var other = SigningKey.Create(_directory, "other");
        var signed = await SignAsync(SystemdBinaries.Require(SystemdBinaries.Boot), key);

        ExternalTool.Run("sbverify", "--cert", key.CertificatePath, signed).ShouldExit();
        ExternalTool.Run("sbverify", "--cert", other.CertificatePath, signed).ExitCode.ShouldNotBe(0);
        var list = ExternalTool.Output("sbverify", "--list", signed);
        list.ShouldContain("signature 1");
        list.ShouldNotContain("signature 2");
        PeChecksumTests.OsslsigncodeChecksum(signed, key).ShouldBe(Objdump.Field(signed, "CheckSum"));
    }

    [Fact]
    public async Task Sbverify_rejects_a_changed_byte_in_a_section_or_a_hashed_header_field_but_not_in_the_checksum()
    {
        var key = SigningKey.Create(_directory, "db");
        var signed = await SignAsync(SystemdBinaries.Require(SystemdBinaries.Boot), key);
        var headers = await PeImageHeaders.ReadFileAsync(signed, CancellationToken.None);
        var text = Objdump.Sections(signed).Single(s => s.Name == ".text");

        var cases = new Dictionary<string, (long Offset, bool StillValid)>
        {
            ["in .text"] = (text.FileOffset + 0x100, false),
            ["TimeDateStamp"] = (headers.FileHeaderOffset + CoffFileHeader.TimeDateStampOffset, false),
            ["SizeOfImage"] = (headers.OptionalHeaderOffset + OptionalHeader.SizeOfImageOffset + 3, false),
            ["CheckSum (not hashed)"] = (headers.CheckSumOffset + 2, true),
        };
        foreach (var (name, (offset, stillValid)) in cases)
        {
            var copy = _directory.Combine($"flipped-{cases.Keys.ToList().IndexOf(name)}.efi");
            File.Copy(signed, copy);
            UkiImageTests.FlipByte(copy, offset);
            var result = ExternalTool.Run("sbverify", "--cert", key.CertificatePath, copy);
            (result.ExitCode == 0).ShouldBe(stillValid, $"{name}: {result}");
        }
    }

    [Fact]
    public async Task Signing_a_signed_image_replaces_its_signature()
    {
        var first = SigningKey.Create(_directory, "first");
        var second = SigningKey.Create(_directory, "second");
        var once = await SignAsync(SystemdBinaries.Require(SystemdBinaries.Boot), first);
        var twice = await SignAsync(once, second);

        ExternalTool.Run("sbverify", "--cert", second.CertificatePath, twice).ShouldExit();
        ExternalTool.Run("sbverify", "--cert", first.CertificatePath, twice).ExitCode.ShouldNotBe(0);
        ExternalTool.Output("sbverify", "--list", twice).ShouldNotContain("signature 2");
        new FileInfo(twice).Length.ShouldBe(new FileInfo(once).Length, "same unsigned data and a signature of the same shape");

        // Debian's kernel arrives signed by Debian: signed again, it carries only our signature.
        var kernel = await SignAsync(HostKernel.ImagePath, second);
        ExternalTool.Run("sbverify", "--cert", second.CertificatePath, kernel).ShouldExit();
        ExternalTool.Output("sbverify", "--list", kernel).ShouldNotContain("signature 2");
    }

    [Fact]
    public async Task A_file_that_is_not_pe_is_refused_and_no_output_is_left()
    {
        var key = SigningKey.Create(_directory, "db");
        var input = _directory.Combine("notes.txt");
        await File.WriteAllTextAsync(input, "not an image");
        using var certificate = key.LoadWithPrivateKey();

        var error = await Should.ThrowAsync<PeFormatException>(() => AuthenticodeSigner.SignAsync(input, _directory.Combine("out.efi"), certificate));
        error.Message.ShouldStartWith(input);
        Directory.GetFiles(_directory.Path).ShouldNotContain(f => f.Contains("out.efi", StringComparison.Ordinal));
    }

    private async Task<string> SignAsync(string input, SigningKey key)
    {
        var output = _directory.Combine($"{Path.GetFileNameWithoutExtension(input)}.{Path.GetFileNameWithoutExtension(key.KeyPath)}.efi");
        using var certificate = key.LoadWithPrivateKey();
        await AuthenticodeSigner.SignAsync(input, output, certificate);
        return output;
    }
}
