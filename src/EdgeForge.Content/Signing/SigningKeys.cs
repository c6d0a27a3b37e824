using System.Security.Cryptography;
using System.Text;

namespace EdgeForge.Content.Signing;

/// <summary>An RSA key pair for content signing, and the <c>.edge-custom-config.yaml</c> that carries its public half (EDGEFORGE.md §9).</summary>
public sealed class SigningKeys
{
    public const string PrivateKeyFile = "private.pem";
    public const string PublicKeyFile = "public.pem";
    public const string EdgeCustomConfigFile = ".edge-custom-config.yaml";
    public const int DefaultBits = 4096;

    private SigningKeys(string privateKeyPem, string publicKeyPem)
    {
        PrivateKeyPem = privateKeyPem;
        PublicKeyPem = publicKeyPem;
    }

    /// <summary>PKCS#8 (<c>BEGIN PRIVATE KEY</c>), which openssl reads.</summary>
    public string PrivateKeyPem { get; }

    /// <summary>SubjectPublicKeyInfo (<c>BEGIN PUBLIC KEY</c>).</summary>
    public string PublicKeyPem { get; }

    public static SigningKeys Generate(int bits = DefaultBits)
    {
        using var rsa = RSA.Create(bits);
        return new SigningKeys(rsa.ExportPkcs8PrivateKeyPem() + "\n", rsa.ExportSubjectPublicKeyInfoPem() + "\n");
    }

    /// <summary>The config CanvOS bakes into the ISO and the provider images: the public key PEM, base64-encoded.</summary>
    public string EdgeCustomConfigYaml() => $"""
        content:
          signing:
            publicKey:
              base64EncodedValue: "{Convert.ToBase64String(Encoding.ASCII.GetBytes(PublicKeyPem))}"
              description: "This is a public key used for signing content and cluster-config"

        """;

    /// <summary>Writes the three files into <paramref name="directory"/>; the private key is readable by its owner only.</summary>
    /// <summary>
    /// Writes the three files as a set: all to temporary names first (the private key 0600 from its first byte), renamed
    /// into place only when every one is complete — a full or read-only disk leaves neither half a pair nor a temporary file.
    /// </summary>
    public void WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var files = new (string Path, string Content, UnixFileMode? Mode)[]
        {
            (Path.Combine(directory, PrivateKeyFile), PrivateKeyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite),
            (Path.Combine(directory, PublicKeyFile), PublicKeyPem, null),
            (Path.Combine(directory, EdgeCustomConfigFile), EdgeCustomConfigYaml(), null),
        };
        try
        {
            foreach (var (path, content, mode) in files)
            {
                WriteTemporary(path + ".tmp", content, mode);
            }

            foreach (var (path, _, _) in files)
            {
                File.Move(path + ".tmp", path, overwrite: true);
            }
        }
        finally
        {
            foreach (var (path, _, _) in files)
            {
                File.Delete(path + ".tmp");
            }
        }
    }

    /// <summary>Loads an RSA private key from PEM (PKCS#1 or PKCS#8), or explains why it cannot.</summary>
    public static RSA LoadPrivateKey(string path) => LoadKey(path, requirePrivate: true);

    /// <summary>Loads an RSA public key from PEM (a public key, or the public half of a private key file).</summary>
    public static RSA LoadPublicKey(string path) => LoadKey(path, requirePrivate: false);

    public static RSA PublicKeyFromPem(string pem, string source)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new SigningKeyException($"{source}: not a PEM RSA key ({e.Message.TrimEnd('.')})");
        }
    }

    private static RSA LoadKey(string path, bool requirePrivate)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such key file", path);
        }

        var pem = File.ReadAllText(path);
        if (requirePrivate && !pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new SigningKeyException($"{path}: not a PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)");
        }

        if (pem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new SigningKeyException($"{path}: the private key is encrypted; decrypt it first (openssl pkey -in KEY -out plain.pem)");
        }

        return PublicKeyFromPem(pem, path);
    }

    private static void WriteTemporary(string temporary, string content, UnixFileMode? mode)
    {
        using var stream = mode is { } m
            ? new FileStream(temporary, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = m })
            : new FileStream(temporary, FileMode.Create, FileAccess.Write);
        stream.Write(Encoding.ASCII.GetBytes(content));
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>A key file that is not a usable PEM RSA key (wrong format, encrypted): the user's to fix.</summary>
public sealed class SigningKeyException(string message) : Exception(message);
