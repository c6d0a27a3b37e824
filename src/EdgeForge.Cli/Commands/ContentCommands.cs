using System.CommandLine;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Content.Signing;

namespace EdgeForge.Cli.Commands;

/// <summary>The <c>content</c> group: signing and verifying content bundles and cluster definitions.</summary>
internal static class ContentCommands
{
    public static Command Create()
    {
        var content = new Command("content", "Content bundles for air-gapped sites: sign and verify.");
        content.Subcommands.Add(Sign());
        content.Subcommands.Add(Verify());
        return content;
    }

    private static Command Sign()
    {
        var file = new Argument<string>("FILE") { Description = "The bundle (or cluster definition) to sign." };
        var privateKey = new Option<string>("--private-key") { Description = "RSA private key (PEM).", Required = true };
        var command = new Command("sign", "Write a detached signature FILE.sig (RSA PKCS#1 v1.5, SHA-256), verifiable with: openssl dgst -sha256 -verify public.pem -signature FILE.sig FILE");
        command.Arguments.Add(file);
        command.Options.Add(privateKey);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            RequireFile(path);
            using var key = LoadKey(() => SigningKeys.LoadPrivateKey(parseResult.GetValue(privateKey)!));
            var signature = await ContentSignature.SignFileAsync(path, key, cancellationToken);
            parseResult.InvocationConfiguration.Output.WriteLine($"wrote {signature}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify()
    {
        var file = new Argument<string>("BUNDLE") { Description = "The signed file." };
        var publicKey = new Option<string?>("--public-key") { Description = "RSA public key (PEM)." };
        var edgeCustomConfig = new Option<string?>("--edge-custom-config") { Description = "A .edge-custom-config.yaml holding the public key." };
        var signatureOption = new Option<string?>("--signature") { Description = "The detached signature (default: BUNDLE.sig)." };
        var command = new Command("verify", "Check a bundle's detached signature against a public key; exit 1 when it does not verify.");
        command.Arguments.Add(file);
        command.Options.Add(publicKey);
        command.Options.Add(edgeCustomConfig);
        command.Options.Add(signatureOption);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            var signaturePath = parseResult.GetValue(signatureOption) ?? path + ContentSignature.Extension;
            RequireFile(path);
            if (!File.Exists(signaturePath))
            {
                throw new InvalidInputException($"{signaturePath}: no signature file (sign with: edgeforge content sign {path} --private-key KEY)");
            }

            using var key = PublicKey(parseResult.GetValue(publicKey), parseResult.GetValue(edgeCustomConfig));
            var signature = await File.ReadAllBytesAsync(signaturePath, cancellationToken);
            if (signature.Length != key.KeySize / 8)
            {
                throw new CommandFailedException($"{path}: signature rejected: {signaturePath} is {signature.Length} bytes, not a signature of this {key.KeySize}-bit key");
            }

            await using var content = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            if (!await ContentSignature.VerifyAsync(content, key, signature, cancellationToken))
            {
                throw new CommandFailedException($"{path}: signature rejected: the file was modified or truncated after signing, or it was signed with another key");
            }

            parseResult.InvocationConfiguration.Output.WriteLine($"{path}: signature verified ({key.KeySize}-bit RSA, SHA-256)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static System.Security.Cryptography.RSA PublicKey(string? publicKeyPath, string? edgeCustomConfigPath)
    {
        if ((publicKeyPath is null) == (edgeCustomConfigPath is null))
        {
            throw new InvalidInputException("give exactly one of --public-key PEM and --edge-custom-config FILE");
        }

        if (publicKeyPath is not null)
        {
            return LoadKey(() => SigningKeys.LoadPublicKey(publicKeyPath));
        }

        var diagnostics = new DiagnosticBag();
        var full = Path.GetFullPath(edgeCustomConfigPath!);
        var config = ProjectInputs.EdgeCustomConfig(Path.GetDirectoryName(full)!, Path.GetFileName(full), isDefaultPath: false, (edgeCustomConfigPath!, null), diagnostics);
        if (diagnostics.HasErrors || config is null)
        {
            throw new InvalidInputException(string.Join("\n", diagnostics.Errors));
        }

        if (config.PublicKeyPem is null)
        {
            throw new InvalidInputException($"{edgeCustomConfigPath}: content.signing.publicKey.base64EncodedValue is empty: no key to verify with");
        }

        return SigningKeys.PublicKeyFromPem(config.PublicKeyPem, edgeCustomConfigPath!);
    }

    private static System.Security.Cryptography.RSA LoadKey(Func<System.Security.Cryptography.RSA> load)
    {
        try
        {
            return load();
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
        {
            throw new InvalidInputException(e.Message);
        }
    }

    private static void RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{path}: no such file");
        }
    }
}
