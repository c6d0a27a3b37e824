using System.Security.Cryptography;

namespace EdgeForge.Content.Signing;

/// <summary>
/// Detached signatures over whole files (content bundles, cluster definitions): RSA PKCS#1 v1.5 over the SHA-256 of
/// the file (RFC 8017 §8.2), exactly what <c>openssl dgst -sha256 -sign KEY</c> writes and
/// <c>openssl dgst -sha256 -verify PUB -signature SIG FILE</c> checks. The file is hashed as a stream, never loaded.
/// </summary>
public static class ContentSignature
{
    public const string Extension = ".sig";

    public static async Task<byte[]> SignAsync(Stream content, RSA privateKey, CancellationToken cancellationToken = default)
    {
        var digest = await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false);
        return privateKey.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    public static async Task<bool> VerifyAsync(Stream content, RSA publicKey, byte[] signature, CancellationToken cancellationToken = default)
    {
        var digest = await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false);
        return publicKey.VerifyHash(digest, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    /// <summary>Signs <paramref name="path"/> into <c>path.sig</c>, written to a temporary name and renamed.</summary>
    public static async Task<string> SignFileAsync(string path, RSA privateKey, CancellationToken cancellationToken = default)
    {
        byte[] signature;
        await using (var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
        {
            signature = await SignAsync(content, privateKey, cancellationToken).ConfigureAwait(false);
        }

        var signaturePath = path + Extension;
        var temporary = signaturePath + ".tmp";
        await File.WriteAllBytesAsync(temporary, signature, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, signaturePath, overwrite: true);
        return signaturePath;
    }
}
