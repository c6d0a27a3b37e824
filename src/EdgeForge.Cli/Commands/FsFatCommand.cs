using System.CommandLine;
using System.Globalization;
using EdgeForge.DiskFormats.Fat;
using EdgeForge.FileTree;

namespace EdgeForge.Cli.Commands;

/// <summary><c>edgeforge fs fat DIR -o FILE</c>: a FAT12/16/32 image of a directory (an EFI system partition, typically).</summary>
internal static class FsFatCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "The directory whose files and directories become the image root." };
        var output = new Option<string>("--output", "-o") { Description = "The image file to write.", Required = true };
        var label = new Option<string>("--label") { Description = "Volume label, at most 11 characters (e.g. EFI_LIVE).", DefaultValueFactory = _ => "NO NAME" };
        var size = new Option<string>("--size") { Description = "Image size in bytes (suffixes K, M, G allowed); default: just large enough, with a small margin." };
        var command = new Command("fat", "Write a FAT image (FAT12/16/32 by size, VFAT long names) of a directory; timestamps follow SOURCE_DATE_EPOCH.")
        {
            directory, output, label, size,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var source = parseResult.GetValue(directory)!;
            var target = parseResult.GetValue(output)!;
            if (!Directory.Exists(source))
            {
                throw new InvalidInputException($"{source}: no such directory");
            }

            long? bytes = parseResult.GetValue(size) is { } text ? ParseSize(text) : null;
            var timestamp = EdgeForge.DiskFormats.IO.SourceDateEpoch.FromEnvironment();

            var writer = new FatImageWriter(new FatImageOptions { Label = parseResult.GetValue(label) ?? "NO NAME", Size = bytes, Timestamp = timestamp });
            writer.AddFileTree(new DirectoryFileTreeSource(source, readExtendedAttributes: false));
            var result = await ImageFileOutput.WriteAsync(target, stream => writer.WriteAsync(stream, cancellationToken), cancellationToken);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync(
                $"Wrote {target}: {result.Length} bytes, {result.Geometry.Type}, {result.Geometry.Clusters} clusters of {result.Geometry.ClusterBytes} bytes, volume id {result.VolumeId:X4}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static long ParseSize(string text)
    {
        var trimmed = text.Trim();
        var multiplier = char.ToUpperInvariant(trimmed.LastOrDefault()) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L };
        var digits = multiplier == 1 ? trimmed : trimmed[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0 || value > (2L << 40) / multiplier)
        {
            throw new InvalidInputException($"--size '{text}': expected a positive number of bytes, optionally with K, M or G");
        }

        if (value * multiplier % 512 != 0)
        {
            throw new InvalidInputException($"--size '{text}': must be a multiple of 512 bytes (the FAT sector size)");
        }

        return value * multiplier;
    }
}
