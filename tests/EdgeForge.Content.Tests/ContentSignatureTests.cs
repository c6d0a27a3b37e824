using System.Security.Cryptography;
using EdgeForge.Content.Signing;
using EdgeForge.Testing;

namespace EdgeForge.Content.Tests;

/// <summary>Signatures are checked against stock openssl in both directions, never only against our own verifier.</summary>
public sealed class ContentSignatureTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ef-sign-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Openssl_verifies_what_edgeforge_signs()
    {
        var keys = SigningKeys.Generate(2048);
        keys.WriteTo(_directory);
        var bundle = WriteBundle(3 << 20);

        using var privateKey = SigningKeys.LoadPrivateKey(Path.Combine(_directory, SigningKeys.PrivateKeyFile));
        var signature = await ContentSignature.SignFileAsync(bundle, privateKey);

        ExternalTool.Output("openssl", "dgst", "-sha256", "-verify", Path.Combine(_directory, SigningKeys.PublicKeyFile), "-signature", signature, bundle)
            .ShouldContain("Verified OK");
    }

    [Fact]
    public async Task Edgeforge_verifies_what_openssl_signs_and_rejects_a_changed_file()
    {
        var keys = SigningKeys.Generate(2048);
        keys.WriteTo(_directory);
        var bundle = WriteBundle(100_000);
        var signaturePath = bundle + ".sig";
        ExternalTool.Output("openssl", "dgst", "-sha256", "-sign", Path.Combine(_directory, SigningKeys.PrivateKeyFile), "-out", signaturePath, bundle);
        var signature = await File.ReadAllBytesAsync(signaturePath);
        using var publicKey = SigningKeys.LoadPublicKey(Path.Combine(_directory, SigningKeys.PublicKeyFile));

        await using (var intact = File.OpenRead(bundle))
        {
            (await ContentSignature.VerifyAsync(intact, publicKey, signature)).ShouldBeTrue();
        }

        var bytes = await File.ReadAllBytesAsync(bundle);
        bytes[50_000] ^= 0x01;
        (await ContentSignature.VerifyAsync(new MemoryStream(bytes), publicKey, signature)).ShouldBeFalse();
    }

    [Fact]
    public void The_edge_custom_config_carries_the_public_key_as_base64_pem()
    {
        var keys = SigningKeys.Generate(2048);
        keys.WriteTo(_directory);

        var yaml = File.ReadAllText(Path.Combine(_directory, SigningKeys.EdgeCustomConfigFile));
        var encoded = yaml.Split('"')[1];
        System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(encoded)).ShouldBe(keys.PublicKeyPem);
        File.GetUnixFileMode(Path.Combine(_directory, SigningKeys.PrivateKeyFile)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        ExternalTool.Output("openssl", "pkey", "-in", Path.Combine(_directory, SigningKeys.PrivateKeyFile), "-noout", "-check");
    }

    private string WriteBundle(int size)
    {
        var path = Path.Combine(_directory, "core.zst");
        var data = new byte[size];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(path, data);
        return path;
    }
}
