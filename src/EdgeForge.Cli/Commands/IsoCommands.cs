using System.CommandLine;
using System.Text.Json;
using EdgeForge.DiskFormats.Iso9660;

namespace EdgeForge.Cli.Commands;

/// <summary>The <c>iso</c> group: look into an ISO image and check its structure. Thin over EdgeForge.DiskFormats.</summary>
internal static class IsoCommands
{
    public static Command Create()
    {
        var iso = new Command("iso", "Inspect and verify ISO 9660 images (volume descriptors, El Torito, MBR/GPT, Rock Ridge listing).");
        iso.Subcommands.Add(Inspect());
        iso.Subcommands.Add(Verify());
        return iso;
    }

    private static Command Inspect()
    {
        var file = new Argument<string>("FILE") { Description = "The ISO image." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var command = new Command("inspect", "Show volume descriptors, El Torito entries, MBR and GPT partitions and the files (Rock Ridge names, modes, sizes).")
        {
            file, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            var report = Read(path, stream => IsoImageInspector.Inspect(stream));
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(ToJson(report), JsonOptions));
                return ExitCodes.Ok;
            }

            await output.WriteLineAsync($"{path}: {report.Length} bytes");
            await output.WriteLineAsync("Volume descriptors:");
            foreach (var d in report.Descriptors)
            {
                var kind = d.Type switch { 0 => "boot record", 1 => "primary", 2 => d.IsJoliet ? "supplementary (Joliet)" : "supplementary", 255 => "terminator", _ => $"type {d.Type}" };
                var detail = d.Type switch
                {
                    0 => $" {d.BootSystemId}, catalog at block {d.CatalogBlock}",
                    1 or 2 => $" volume '{d.VolumeId}', {d.VolumeSpaceBlocks} blocks, root at block {d.RootBlock}",
                    _ => "",
                };
                await output.WriteLineAsync($"  block {d.Block,-4} {kind}{detail}");
            }

            await output.WriteLineAsync($"Rock Ridge: {(report.RockRidge ? "yes" : "no")}");
            if (report.BootEntries.Count > 0)
            {
                await output.WriteLineAsync("El Torito entries:");
                var n = 1;
                foreach (var e in report.BootEntries)
                {
                    await output.WriteLineAsync($"  {n++}  {PlatformName(e.Platform),-5} {(e.Bootable ? "bootable" : "not bootable")}  {(e.MediaType == 0 ? "no emulation" : $"media 0x{e.MediaType:x2}")}  load {e.LoadSectors} sectors  at block {e.ImageBlock}");
                }
            }

            if (report.MbrPartitions.Count > 0)
            {
                await output.WriteLineAsync("MBR partitions:");
                foreach (var p in report.MbrPartitions)
                {
                    await output.WriteLineAsync($"  {p.Index}  status 0x{p.Status:x2}  type 0x{p.Type:x2}  start {p.FirstLba}  sectors {p.SectorCount}");
                }
            }

            if (report.Gpt is { } gpt)
            {
                await output.WriteLineAsync($"GPT: disk {gpt.DiskGuid}, {gpt.EntryCount} entries, usable LBAs {gpt.FirstUsableLba}..{gpt.LastUsableLba}, backup header at LBA {gpt.BackupHeaderLba}");
                foreach (var p in gpt.Partitions)
                {
                    await output.WriteLineAsync($"  {p.Index}  {p.Name,-10} type {p.TypeGuid}  LBA {p.FirstLba}..{p.LastLba} ({p.SectorCount} sectors)  attributes 0x{p.Attributes:x16}");
                }
            }
            else if (report.GptError is { } error)
            {
                await output.WriteLineAsync($"GPT: damaged: {error}");
            }

            await output.WriteLineAsync($"Files ({report.Files.Count}):");
            foreach (var f in report.Files)
            {
                var mode = f.Mode is { } m ? Convert.ToString(m, 8).PadLeft(7, '0') : (f.IsDirectory ? "dir" : "file");
                var owner = f.Uid is not null ? $"{f.Uid}:{f.Gid}" : "-";
                var suffix = f.SymlinkTarget is not null ? " -> " + f.SymlinkTarget : f.Device is { } dev ? $" (device {dev.Major},{dev.Minor})" : "";
                await output.WriteLineAsync($"  {mode,7} {owner,11} {f.Size,14}  {f.Path}{(f.IsDirectory ? "/" : "")}{suffix}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify()
    {
        var file = new Argument<string>("FILE") { Description = "The ISO image; FILE.sha256 beside it (sha256sum format) is checked too." };
        var command = new Command("verify", "Check an image's structure: descriptors, trees, El Torito catalog and boot-info table, MBR, GPT CRCs and backup, checksum file.")
        {
            file,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var path = parseResult.GetValue(file)!;
            var sha256 = File.Exists(path + ".sha256") ? path + ".sha256" : null;
            var (passed, failed) = Read(path, stream => IsoImageInspector.Verify(stream, Path.GetFileName(path), sha256));
            var output = parseResult.InvocationConfiguration.Output;
            foreach (var check in passed)
            {
                await output.WriteLineAsync($"ok    {check}");
            }

            foreach (var failure in failed)
            {
                await output.WriteLineAsync($"FAIL  {failure}");
            }

            if (failed.Count > 0)
            {
                throw new CommandFailedException($"{path}: {failed.Count} check(s) failed: {failed[0]}");
            }

            await output.WriteLineAsync($"{path}: all {passed.Count} checks passed{(sha256 is null ? " (no .sha256 file beside it)" : "")}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static T Read<T>(string path, Func<Stream, T> read)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{path}: no such file");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return read(stream);
    }

    private static string PlatformName(ElToritoPlatform platform) => platform switch
    {
        ElToritoPlatform.Bios => "BIOS",
        ElToritoPlatform.Efi => "UEFI",
        _ => $"0x{(byte)platform:x2}",
    };

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    private static object ToJson(IsoImageReport report) => new
    {
        length = report.Length,
        rockRidge = report.RockRidge,
        volumeDescriptors = report.Descriptors.Select(d => new
        {
            block = d.Block, type = d.Type, joliet = d.IsJoliet, volumeId = d.VolumeId, volumeSpaceBlocks = d.VolumeSpaceBlocks,
            rootBlock = d.RootBlock, bootSystemId = d.BootSystemId, catalogBlock = d.CatalogBlock,
        }),
        elTorito = report.BootEntries.Select(e => new { platform = PlatformName(e.Platform), bootable = e.Bootable, mediaType = e.MediaType, loadSectors = e.LoadSectors, block = e.ImageBlock }),
        mbr = report.MbrPartitions.Select(p => new { index = p.Index, status = p.Status, type = p.Type, firstLba = p.FirstLba, sectors = p.SectorCount }),
        gpt = report.Gpt is null ? null : new
        {
            diskGuid = report.Gpt.DiskGuid, entries = report.Gpt.EntryCount, firstUsableLba = report.Gpt.FirstUsableLba, lastUsableLba = report.Gpt.LastUsableLba,
            backupHeaderLba = report.Gpt.BackupHeaderLba,
            partitions = report.Gpt.Partitions.Select(p => new { index = p.Index, name = p.Name, type = p.TypeGuid, guid = p.UniqueGuid, firstLba = p.FirstLba, lastLba = p.LastLba, attributes = p.Attributes }),
        },
        gptError = report.GptError,
        files = report.Files.Select(f => new
        {
            path = f.Path, directory = f.IsDirectory, size = f.Size, mode = f.Mode, uid = f.Uid, gid = f.Gid, links = f.Links,
            symlink = f.SymlinkTarget, device = f.Device is { } d ? $"{d.Major},{d.Minor}" : null,
            extents = f.Extents.Select(e => new { block = e.Block, length = e.Length }),
        }),
    };
}
