using System.CommandLine;
using EdgeForge.Content.Signing;
using EdgeForge.TrustedBoot.SecureBoot;

namespace EdgeForge.Cli.Commands;

/// <summary>
/// <c>keys generate</c>: the content-signing key pair and a ready <c>.edge-custom-config.yaml</c>.
/// <c>keys secureboot</c>: a UEFI Secure Boot key set for Trusted Boot (CanvOS <c>+uki-genkey</c> / <c>+uki-byok</c>).
/// </summary>
internal static class KeysCommands
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage content-signing and Secure Boot keys.");
        keys.Subcommands.Add(Generate());
        keys.Subcommands.Add(SecureBoot());
        return keys;
    }

    private static Command Generate()
    {
        var output = new Option<string>("--output", "-o") { Description = "Directory to write private.pem, public.pem and .edge-custom-config.yaml into.", Required = true };
        var bits = new Option<int>("--bits") { Description = "RSA key size.", DefaultValueFactory = _ => SigningKeys.DefaultBits };
        var force = new Option<bool>("--force") { Description = "Overwrite existing key files." };
        var command = new Command("generate", "Generate an RSA key pair for signing content bundles and cluster definitions, and the .edge-custom-config.yaml holding the public key.");
        command.Options.Add(output);
        command.Options.Add(bits);
        command.Options.Add(force);
        command.SetAction(parseResult =>
        {
            var directory = parseResult.GetValue(output)!;
            var size = parseResult.GetValue(bits);
            if (size is < 2048 or > 16384 || size % 8 != 0)
            {
                throw new InvalidInputException($"--bits {size}: use a multiple of 8 from 2048 to 16384 (4096 recommended)");
            }

            var existing = new[] { SigningKeys.PrivateKeyFile, SigningKeys.PublicKeyFile, SigningKeys.EdgeCustomConfigFile }
                .Where(f => File.Exists(Path.Combine(directory, f))).ToList();
            if (existing.Count > 0 && !parseResult.GetValue(force))
            {
                throw new InvalidInputException($"{directory}: {string.Join(", ", existing)} already exist; nothing was written (use --force to replace the keys)");
            }

            SigningKeys.Generate(size).WriteTo(directory);
            var writer = parseResult.InvocationConfiguration.Output;
            writer.WriteLine($"wrote {Path.Combine(directory, SigningKeys.PrivateKeyFile)} (keep it secret: it signs content)");
            writer.WriteLine($"wrote {Path.Combine(directory, SigningKeys.PublicKeyFile)}");
            writer.WriteLine($"wrote {Path.Combine(directory, SigningKeys.EdgeCustomConfigFile)} (copy it into the project directory; it is baked into the ISO and the images)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command SecureBoot()
    {
        var output = new Option<string>("--output", "-o") { Description = "The secure-boot directory to write enrollment/, private-keys/ and public-keys/ into (CanvOS's secure-boot/).", Required = true };
        var organization = new Option<string?>("--org") { Description = "Organisation the certificates are issued to: CN=ORG-PK, ORG-KEK, ORG-db (CanvOS MY_ORG). Required unless --bring-your-own." };
        var expiry = new Option<int>("--expiry-days") { Description = "Validity of the certificates in days (CanvOS EXPIRATION_IN_DAYS).", DefaultValueFactory = _ => SecureBootKeySetOptions.DefaultExpiryDays };
        var bits = new Option<int>("--bits") { Description = "RSA key size: 2048, 3072 or 4096.", DefaultValueFactory = _ => SecureBootKeySetOptions.DefaultBits };
        var includeMicrosoft = new Option<bool>("--include-ms-keys") { Description = "Enrol Microsoft's KEK CA 2011 in KEK and its Windows PCA 2011 and UEFI CA 2011 in db (the default; CanvOS INCLUDE_MS_SECUREBOOT_KEYS=true)." };
        var noMicrosoft = new Option<bool>("--no-ms-keys") { Description = "Leave Microsoft's certificates out. Hardware whose option ROMs (GPU, NIC) are signed by Microsoft's UEFI CA may then not boot." };
        var exported = new Option<string?>("--exported-keys") { Description = "Directory with ESL files KEK, db, dbx exported from the device (CanvOS secure-boot/exported-keys), appended to the lists." };
        var own = new Option<string?>("--bring-your-own") { Description = "Directory with private-keys/{PK,KEK,db}.key and public-keys/{PK,KEK,db}.pem to enrol instead of new keys (CanvOS UKI_BRING_YOUR_OWN_KEYS)." };
        var force = new Option<bool>("--force") { Description = "Replace an existing key set." };
        var command = new Command("secureboot", "Generate a UEFI Secure Boot key set (PK, KEK, db) with signature lists and signed .auth updates for systemd-boot's auto-enrolment, in CanvOS's secure-boot/ layout.");
        foreach (var option in new Option[] { output, organization, expiry, bits, includeMicrosoft, noMicrosoft, exported, own, force })
        {
            command.Options.Add(option);
        }

        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(includeMicrosoft) && parseResult.GetValue(noMicrosoft))
            {
                throw new InvalidInputException("--include-ms-keys and --no-ms-keys contradict each other; give one");
            }

            var bringYourOwn = parseResult.GetValue(own);
            if (bringYourOwn is not null && parseResult.GetResult(organization) is not null)
            {
                throw new InvalidInputException("--org names new certificates; with --bring-your-own the certificates are yours: leave --org out");
            }

            var summary = SecureBootKeySet.Create(parseResult.GetValue(output)!, new SecureBootKeySetOptions
            {
                Organization = parseResult.GetValue(organization),
                ExpiryDays = parseResult.GetValue(expiry),
                Bits = parseResult.GetValue(bits),
                IncludeMicrosoftKeys = !parseResult.GetValue(noMicrosoft),
                ExportedKeysDirectory = parseResult.GetValue(exported),
                BringYourOwnDirectory = bringYourOwn,
            }, parseResult.GetValue(force));

            var writer = parseResult.InvocationConfiguration.Output;
            writer.WriteLine($"{(summary.BroughtOwnKeys ? "enrolled your keys" : "made a Secure Boot key set")} in {summary.Directory}:");
            foreach (var file in summary.Files.Order(StringComparer.Ordinal))
            {
                writer.WriteLine($"  {file}{(file.StartsWith(SecureBootLayout.PrivateKeys, StringComparison.Ordinal) ? " (secret, 0600)" : "")}");
            }

            writer.WriteLine($"signature lists: {string.Join(", ", summary.SignatureLists.Select(l => $"{l.Key} {l.Value}"))}; Microsoft 2011 certificates {(summary.MicrosoftKeysIncluded ? "included" : "not included")}");
            writer.WriteLine("keep private-keys/ secret: whoever holds db.key can sign images these machines boot.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
