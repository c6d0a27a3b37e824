using EdgeForge.Testing;
using EdgeForge.TrustedBoot.Authenticode;

namespace EdgeForge.TrustedBoot.Tests;

public sealed class AuthenticodeSignerTests : IDisposable
{
    private readonly TestDirectory _directory = new("edgeforge-authenticode-");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Sbverify_accepts_the_signed_boot_loader_with_the_signing_certificate()
    {
        var key = SigningKey.Create(_directory, "db");
        var signed = _directory.Combine("systemd-bootx64.signed.efi");
        using var certificate = key.LoadWithPrivateKey();

        await AuthenticodeSigner.SignAsync(SystemdBinaries.Require(SystemdBinaries.Boot), signed, certificate);

        ExternalTool.Run("sbverify", "--cert", key.CertificatePath, signed).ShouldExit();
    }
}
