using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EdgeForge.Build.Pipeline;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Transports;
using EdgeForge.SquashFs;

namespace EdgeForge.Cli.Commands;

/// <summary>
/// <c>edgeforge fs squashfs SOURCE -o FILE</c>: a SquashFS 4.0 image of a directory or of an image's flattened layers
/// (streamed from the layer blobs, never unpacked), thin over EdgeForge.SquashFs — what the installer ISO carries as
/// /rootfs.squashfs (spec §6).
/// </summary>
internal static class FsSquashFsCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("SOURCE")
        {
            Description = "A directory (symlinks are stored, not followed), or an image — docker://REF, oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE or a bare REF — whose flattened layers are streamed.",
        };
        var platform = new Option<string>("--platform") { Description = "Platform of an image SOURCE, OS/ARCH[/VARIANT].", DefaultValueFactory = _ => "linux/amd64" };
        var registry = new RegistryOptions();
        var output = new Option<string>("--output", "-o") { Description = "The image file to write (written to a temporary name, renamed when complete).", Required = true };
        var compressor = new Option<string>("--comp") { Description = "Compressor: zstd (default) or gzip (zlib, the kernel's oldest squashfs compressor).", DefaultValueFactory = _ => "zstd" };
        compressor.AcceptOnlyFromAmong("zstd", "gzip");
        var level = new Option<int?>("--level") { Description = "Compression level: zstd 1–22 (default 3), gzip 1–9 (default 9)." };
        var blockSize = new Option<string>("--block-size", "-b") { Description = "Data block size: a power of two from 4K to 1M, in bytes or with a K/M suffix.", DefaultValueFactory = _ => "1M" };
        var noXattrs = new Option<bool>("--no-xattrs") { Description = "Leave out extended attributes (kept by default: user.*, trusted.*, security.* such as security.capability)." };
        var noExports = new Option<bool>("--no-exports") { Description = "Leave out the NFS export table (written by default, as mksquashfs does)." };
        var processors = new Option<int?>("--processors") { Description = "Compressor threads (default: one per processor)." };
        var json = new Option<bool>("--json") { Description = "Print progress as JSON event lines and the result as JSON (as build --json does)." };
        var command = new Command("squashfs", "Write a SquashFS 4.0 image of a directory: parallel, reproducible (the image time follows SOURCE_DATE_EPOCH, else the newest mtime), mountable by the Linux kernel.")
        {
            source, output, compressor, level, blockSize, noXattrs, noExports, processors, platform, json,
        };
        registry.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var directory = parseResult.GetValue(source)!;
            var target = parseResult.GetValue(output)!;

            var targetFolder = Path.GetDirectoryName(Path.GetFullPath(target))!;
            if (!Directory.Exists(targetFolder))
            {
                throw new InvalidInputException($"{target}: the directory {targetFolder} does not exist");
            }

            var options = new SquashFsOptions
            {
                Compressor = parseResult.GetValue(compressor) == "gzip" ? SquashFsCompressor.Gzip : SquashFsCompressor.Zstd,
                CompressionLevel = parseResult.GetValue(level),
                BlockSize = ParseBlockSize(parseResult.GetValue(blockSize) ?? "1M"),
                ExtendedAttributes = !parseResult.GetValue(noXattrs),
                ExportTable = !parseResult.GetValue(noExports),
                Processors = parseResult.GetValue(processors),
                ModificationTime = SourceDateEpoch(),
            };
            options.Validate();

            IFileTreeSource tree;
            IAsyncDisposable? imageSource = null;
            // A registry client (credentials, registries.conf, HTTP handlers) only for an image: a directory needs none.
            using var client = Directory.Exists(directory) ? null : registry.CreateClient(parseResult);
            if (client is null)
            {
                tree = new DirectoryFileTreeSource(directory, readExtendedAttributes: options.ExtendedAttributes);
            }
            else
            {
                (tree, imageSource) = await ImageTreeAsync(directory, parseResult.GetValue(platform)!, client, cancellationToken);
            }

            SquashFsWriteResult result;
            var asJson = parseResult.GetValue(json);
            var writer = parseResult.InvocationConfiguration.Output;
            try
            {
                using var observer = BuildProgress.Create(writer, parseResult.InvocationConfiguration.Error, asJson);
                result = await StepScope.RunAsync(observer, "squashfs", $"{directory} → {target}",
                    scope => SquashFsWriter.WriteFileAsync(tree, target, options, progress: scope, cancellationToken),
                    written => $"{written.ImageSize:N0} bytes, {written.InodeCount:N0} inodes");
            }
            finally
            {
                if (imageSource is not null)
                {
                    await imageSource.DisposeAsync();
                }
            }

            var usedLevel = options.CompressionLevel ?? SquashFsOptions.DefaultLevel(options.Compressor);
            await writer.WriteLineAsync(asJson
                ? JsonSerializer.Serialize(new { output = target, imageSize = result.ImageSize, inodes = result.InodeCount, contentBytes = result.ContentBytes,
                    compressor = options.Compressor.ToString().ToLowerInvariant(), level = usedLevel, blockSize = options.BlockSize, duplicateFiles = result.DuplicateFiles,
                    skippedExtendedAttributes = result.SkippedExtendedAttributes }, DiagnosticsReport.Json)
                : $"Wrote {target}: {result.ImageSize} bytes, {result.InodeCount} inodes, {result.ContentBytes} bytes of file contents " +
                  $"({options.Compressor.ToString().ToLowerInvariant()} level {usedLevel}, " +
                  $"{options.BlockSize / 1024} KiB blocks), {result.DuplicateFiles} duplicate files shared" +
                  (result.SkippedExtendedAttributes > 0 ? $", {result.SkippedExtendedAttributes} xattrs outside user/trusted/security left out" : ""));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The flattened layers of an image: whiteouts applied, contents streamed from the layer blobs in layer order.</summary>
    /// <remarks>The source stays open (the caller disposes it): layer contents are read while the image is written.</remarks>
    private static async Task<(IFileTreeSource Tree, IAsyncDisposable Source)> ImageTreeAsync(string reference, string platformText, EdgeForge.Oci.Registry.RegistryClient client, CancellationToken cancellationToken)
    {
        var location = CommandLineValues.Parse("SOURCE", reference, ImageLocation.Parse, $"{reference}: neither a directory nor an image reference");
        var platform = CommandLineValues.Parse("--platform", platformText, Platform.Parse);

        var imageSource = location.OpenSource(client);
        try
        {
            var image = await SourceImage.LoadAsync(imageSource, platform, cancellationToken);
            return (await ImageFileTree.LoadAsync(image, cancellationToken), imageSource);
        }
        catch
        {
            await imageSource.DisposeAsync();
            throw;
        }
    }

    private static int ParseBlockSize(string text)
    {
        var trimmed = text.Trim();
        var multiplier = 1L;
        if (trimmed.EndsWith('K') || trimmed.EndsWith('k'))
        {
            multiplier = 1024;
            trimmed = trimmed[..^1];
        }
        else if (trimmed.EndsWith('M') || trimmed.EndsWith('m'))
        {
            multiplier = 1024 * 1024;
            trimmed = trimmed[..^1];
        }

        return long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value * multiplier <= int.MaxValue
            ? (int)(value * multiplier)
            : throw new InvalidInputException($"--block-size '{text}': expected a size such as 131072, 128K or 1M");
    }

    /// <summary>SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the image time; unset, the writer uses the newest mtime.</summary>
    private static long? SourceDateEpoch()
    {
        var value = Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? seconds
            : throw new InvalidInputException($"SOURCE_DATE_EPOCH '{value}': expected whole seconds since 1970");
    }
}
