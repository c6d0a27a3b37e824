using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Configuration.UserData;
using EdgeForge.DiskFormats.Iso9660;

namespace EdgeForge.Cli.Commands;

/// <summary>
/// <c>site-user-data FILE</c>: the second, non-bootable ISO of EDGEFORGE.md §6 — volume <c>cidata</c> with
/// <c>user-data</c> and <c>meta-data</c> at the root (the cloud-init NoCloud layout) — carrying site-specific overrides
/// to a host installed from the generic installer ISO.
/// </summary>
internal static class SiteUserDataCommand
{
    public const string VolumeId = "cidata";

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The site's user data (#cloud-config YAML); validated first." };
        var output = new Option<string>("--output", "-o") { Description = "The ISO to write.", DefaultValueFactory = _ => "site-user-data.iso" };
        var metaData = new Option<string?>("--meta-data") { Description = "A meta-data file to use instead of the generated one (instance-id derived from the user data)." };
        var command = new Command("site-user-data", "Write the site user data ISO (volume cidata, files user-data and meta-data) for site-specific installer overrides.");
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(metaData);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            var diagnostics = new DiagnosticBag();
            // Only a regular file of bounded size is read (a FIFO or /dev/zero is refused, not waited on).
            var userData = InputFileReader.ForStandaloneFile(path).ReadBytes(path, path, diagnostics);
            if (userData is null)
            {
                DiagnosticsReport.WriteText(parseResult.InvocationConfiguration.Error, diagnostics);
                throw new InvalidInputException($"{path}: cannot be read as user data: " + DiagnosticsReport.Summary(diagnostics));
            }

            UserDataValidator.Validate(Path.GetFileName(path), Encoding.UTF8.GetString(userData), diagnostics);
            DiagnosticsReport.WriteText(parseResult.InvocationConfiguration.Error, diagnostics);
            if (diagnostics.HasErrors)
            {
                throw new InvalidInputException($"{path}: the user data is invalid: " + DiagnosticsReport.Summary(diagnostics));
            }

            byte[] meta;
            if (parseResult.GetValue(metaData) is { } metaPath)
            {
                meta = InputFileReader.ForStandaloneFile(metaPath).ReadBytes(metaPath, "--meta-data " + metaPath, diagnostics)
                    ?? throw new InvalidInputException(DiagnosticsReport.Summary(diagnostics));
            }
            else
            {
                // NoCloud needs an instance-id; deriving it from the contents makes the same data give the same image.
                meta = Encoding.UTF8.GetBytes($"instance-id: site-{Convert.ToHexStringLower(SHA256.HashData(userData))[..16]}\n");
            }

            var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = VolumeId, ComputeSha256 = true });
            writer.AddFile("user-data", userData);
            writer.AddFile("meta-data", meta);
            var target = parseResult.GetValue(output)!;
            var result = await ImageFileOutput.WriteAsync(target, stream => writer.WriteAsync(stream, cancellationToken), cancellationToken);
            parseResult.InvocationConfiguration.Output.WriteLine($"wrote {target} ({result.Length:N0} bytes, volume {VolumeId}) sha256 {result.Sha256}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
