using System.CommandLine;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.Cli.Commands;

/// <summary><c>edgeforge fs iso DIR -o FILE</c>: an ISO 9660 image of a directory, thin over EdgeForge.DiskFormats.</summary>
internal static class FsIsoCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "The directory whose contents become the image root (symlinks are stored, not followed)." };
        var output = new Option<string>("--output", "-o") { Description = "The image file to write.", Required = true };
        var volume = new Option<string>("--volume") { Description = "Volume identifier, at most 32 printable ASCII characters (e.g. COS_LIVE, cidata).", DefaultValueFactory = _ => "CDROM" };
        var noRockRidge = new Option<bool>("--no-rock-ridge") { Description = "Leave out Rock Ridge (POSIX names, modes, owners, links, devices)." };
        var noJoliet = new Option<bool>("--no-joliet") { Description = "Leave out the Joliet tree (UCS-2 names for Windows)." };
        var command = new Command("iso", "Write an ISO 9660 image (level 3, Rock Ridge and Joliet by default) of a directory; timestamps follow SOURCE_DATE_EPOCH.")
        {
            directory, output, volume, noRockRidge, noJoliet,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var source = parseResult.GetValue(directory)!;
            var target = parseResult.GetValue(output)!;
            var volumeId = parseResult.GetValue(volume) ?? "CDROM";
            if (!Directory.Exists(source))
            {
                throw new InvalidInputException($"{source}: no such directory");
            }

            if (volumeId.Length is 0 or > 32 || volumeId.Any(c => c is < ' ' or > '~'))
            {
                throw new InvalidInputException($"--volume '{volumeId}': 1 to 32 printable ASCII characters");
            }

            var timestamp = EdgeForge.DiskFormats.IO.SourceDateEpoch.FromEnvironment();

            var writer = new Iso9660Writer(new IsoImageOptions
            {
                VolumeId = volumeId,
                RockRidge = !parseResult.GetValue(noRockRidge),
                Joliet = !parseResult.GetValue(noJoliet),
                Timestamp = timestamp,
            });
            // Extended attributes are not part of ISO 9660 or Rock Ridge as written here: skip reading them.
            var tree = new DirectoryFileTreeSource(source, readExtendedAttributes: false);
            writer.AddFileTree(tree);
            var result = await ImageFileOutput.WriteAsync(target, stream => writer.WriteAsync(stream, cancellationToken), cancellationToken);
            await parseResult.InvocationConfiguration.Output.WriteLineAsync(
                $"Wrote {target}: {result.Length} bytes, {tree.Entries.Count} entries, volume '{volumeId}'");
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>Writes an image to a temporary name beside the target and renames it only when complete.</summary>
internal static class ImageFileOutput
{
    public static async Task<T> WriteAsync<T>(string target, Func<Stream, Task<T>> write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var full = Path.GetFullPath(target);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            throw new InvalidInputException($"{target}: the directory {folder} does not exist");
        }

        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.partial");
        try
        {
            T result;
            await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                result = await write(stream);
            }

            File.Move(temporary, full, overwrite: true);
            return result;
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
