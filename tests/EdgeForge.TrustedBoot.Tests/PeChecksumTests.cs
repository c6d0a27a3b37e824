using System.Globalization;
using System.Text.RegularExpressions;
using EdgeForge.Testing;
using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Tests;

public sealed class PeChecksumTests : IDisposable
{
    private readonly TestDirectory _directory = new("edgeforge-checksum-");

    public void Dispose() => _directory.Dispose();

    public static TheoryData<string> LinkedImages => new()
    {
        SystemdBinaries.Stub,
        SystemdBinaries.Boot,
        HostKernel.ImagePath,
    };

    [Theory]
    [MemberData(nameof(LinkedImages))]
    public async Task Equals_the_checksum_the_linker_wrote(string image)
    {
        (await ComputeAsync(image)).ShouldBe(Objdump.Field(image, "CheckSum"));
    }

    [Fact]
    public async Task Equals_the_checksum_sbsign_writes_into_its_signed_output()
    {
        var key = SigningKey.Create(_directory, "db");
        var signed = _directory.Combine("sbsigned.efi");
        ExternalTool.Output("sbsign", "--key", key.KeyPath, "--cert", key.CertificatePath, "--output", signed, SystemdBinaries.Require(SystemdBinaries.Boot));

        var written = Objdump.Field(signed, "CheckSum");
        written.ShouldNotBe(Objdump.Field(SystemdBinaries.Boot, "CheckSum"), "signing changes the file, so the checksum");
        (await ComputeAsync(signed)).ShouldBe(written);
    }

    [Fact]
    public async Task Changes_with_any_word_but_the_checksum_field()
    {
        var copy = _directory.Combine("boot.efi");
        File.Copy(SystemdBinaries.Boot, copy);
        var original = await ComputeAsync(copy);
        var headers = await PeImageHeaders.ReadFileAsync(copy, CancellationToken.None);

        UkiImageTests.FlipByte(copy, headers.CheckSumOffset + 1);
        (await ComputeAsync(copy)).ShouldBe(original);
        UkiImageTests.FlipByte(copy, headers.Sections[0].PointerToRawData + 17);
        (await ComputeAsync(copy)).ShouldNotBe(original);
    }

    /// <summary>
    /// The checksum osslsigncode computes for <paramref name="image"/> (it verifies against <paramref name="key"/>
    /// when the image is signed). osslsigncode 2.9 is off by one for odd-length files, which PE images we write never are.
    /// </summary>
    internal static long OsslsigncodeChecksum(string image, SigningKey key)
    {
        var result = ExternalTool.Run("osslsigncode", "verify", "-CAfile", key.CertificatePath, image);
        var text = result.Output + result.Error;
        text.ShouldNotContain("invalid PE checksum", customMessage: text);
        var match = Regex.Match(text, @"^(?:Calculated PE checksum|PE checksum)\s*:\s*([0-9A-Fa-f]+)", RegexOptions.Multiline);
        match.Success.ShouldBeTrue(text);
        return long.Parse(match.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    private static async Task<long> ComputeAsync(string image)
    {
        await using var stream = File.OpenRead(image);
        var headers = await PeImageHeaders.ReadAsync(stream, image, CancellationToken.None);
        return await PeChecksum.ComputeAsync(stream, headers.CheckSumOffset, CancellationToken.None);
    }
}
