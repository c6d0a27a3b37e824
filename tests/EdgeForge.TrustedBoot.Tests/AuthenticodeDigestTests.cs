using System.Text.RegularExpressions;
using EdgeForge.Testing;
using EdgeForge.TrustedBoot.Authenticode;

namespace EdgeForge.TrustedBoot.Tests;

public sealed class AuthenticodeDigestTests : IDisposable
{
    private readonly TestDirectory _directory = new("edgeforge-digest-");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Equals_the_digest_in_sbsigns_signature_and_osslsigncodes_calculation()
    {
        var key = SigningKey.Create(_directory, "db");
        var signed = _directory.Combine("sbsigned.efi");
        ExternalTool.Output("sbsign", "--key", key.KeyPath, "--cert", key.CertificatePath, "--output", signed, SystemdBinaries.Require(SystemdBinaries.Boot));

        var ours = Convert.ToHexString(await DigestAsync(signed));
        var verify = ExternalTool.Run("osslsigncode", "verify", "-CAfile", key.CertificatePath, signed);
        var text = verify.Output + verify.Error;
        Regex.Match(text, @"Current message digest\s*:\s*([0-9A-F]+)").Groups[1].Value.ShouldBe(ours, text);
        Regex.Match(text, @"Calculated message digest\s*:\s*([0-9A-F]+)").Groups[1].Value.ShouldBe(ours, text);
    }

    [Fact]
    public async Task Equals_osslsigncodes_calculation_for_debians_signed_kernel()
    {
        var verify = ExternalTool.Run("osslsigncode", "verify", HostKernel.ImagePath);
        var text = verify.Output + verify.Error;
        var calculated = Regex.Match(text, @"Calculated message digest\s*:\s*([0-9A-F]+)").Groups[1].Value;
        calculated.Length.ShouldBe(64, text);

        Convert.ToHexString(await DigestAsync(HostKernel.ImagePath)).ShouldBe(calculated);
    }

    private static async Task<byte[]> DigestAsync(string image)
    {
        await using var stream = File.OpenRead(image);
        return await AuthenticodeDigest.ComputeAsync(stream);
    }
}
