using System.CommandLine;
using EdgeForge.Content.Signing;

namespace EdgeForge.Cli.Commands;

/// <summary><c>keys generate</c>: the content-signing key pair and a ready <c>.edge-custom-config.yaml</c>.</summary>
internal static class KeysCommands
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage content-signing keys.");
        keys.Subcommands.Add(Generate());
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
}
