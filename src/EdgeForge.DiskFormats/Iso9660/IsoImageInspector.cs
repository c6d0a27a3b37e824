using System.Buffers.Binary;
using System.Security.Cryptography;
using EdgeForge.DiskFormats.Partitioning;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>Everything <c>edgeforge iso inspect</c> shows: descriptors, El Torito, MBR, GPT and the file listing.</summary>
public sealed record IsoImageReport(
    long Length,
    IReadOnlyList<IsoVolumeDescriptor> Descriptors,
    IReadOnlyList<ElToritoPlacedEntry> BootEntries,
    IReadOnlyList<MbrPartition> MbrPartitions,
    GptPartitionTable? Gpt,
    string? GptError,
    bool RockRidge,
    IReadOnlyList<IsoFileRecord> Files);

/// <summary>Reads an image's structures for reports, and checks them for <c>edgeforge iso verify</c>.</summary>
public static class IsoImageInspector
{
    public static IsoImageReport Inspect(Stream image, bool listFiles = true)
    {
        var reader = new Iso9660Reader(image);
        var boot = reader.ReadBootEntries();
        var mbr = ReadMbr(image);
        GptPartitionTable? gpt = null;
        string? gptError = null;
        try
        {
            gpt = GptPartitionTable.Read(image);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            gptError = e.Message;
        }

        var files = listFiles ? reader.ListFiles(reader.HasRockRidge ? IsoTreeKind.RockRidge : IsoTreeKind.Plain).ToList() : [];
        return new IsoImageReport(image.Length, reader.Descriptors, boot, mbr, gpt, gptError, reader.HasRockRidge, files);
    }

    /// <summary>
    /// Structure checks: descriptors and both trees readable with every extent inside the file, the El Torito catalog
    /// and its images, boot-info tables, MBR and GPT (CRCs, backup, partitions inside the file), and — when
    /// <paramref name="sha256File"/> is given — the sha256sum-format checksum. Returns what passed and what failed.
    /// </summary>
    public static (IReadOnlyList<string> Passed, IReadOnlyList<string> Failed) Verify(Stream image, string imageName, string? sha256File)
    {
        var passed = new List<string>();
        var failed = new List<string>();
        void Check(string what, Action check)
        {
            try
            {
                check();
                passed.Add(what);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or ArgumentException)
            {
                failed.Add($"{what}: {e.Message}");
            }
        }

        var length = image.Length;
        Iso9660Reader? reader = null;
        Check("volume descriptors (ECMA-119 §8)", () =>
        {
            reader = new Iso9660Reader(image);
            if (reader.Primary.VolumeSpaceBlocks * Iso9660Writer.BlockSize > length)
            {
                throw new InvalidDataException($"the primary volume descriptor claims {reader.Primary.VolumeSpaceBlocks} blocks but the file holds {length / Iso9660Writer.BlockSize}");
            }
        });
        if (reader is null)
        {
            return (passed, failed);
        }

        foreach (var kind in reader.Joliet is null ? new[] { IsoTreeKind.Plain } : [IsoTreeKind.Plain, IsoTreeKind.Joliet])
        {
            Check($"{(kind == IsoTreeKind.Joliet ? "Joliet" : reader.HasRockRidge ? "ISO 9660 + Rock Ridge" : "ISO 9660")} directory tree", () =>
            {
                var count = 0;
                foreach (var file in reader.ListFiles(kind == IsoTreeKind.Plain && reader.HasRockRidge ? IsoTreeKind.RockRidge : kind))
                {
                    count++;
                    foreach (var (block, extentLength) in file.Extents)
                    {
                        if (extentLength > 0 && block * Iso9660Writer.BlockSize + extentLength > length)
                        {
                            throw new InvalidDataException($"{file.Path}: extent at block {block} ({extentLength} bytes) ends beyond the file");
                        }
                    }
                }

                if (count == 0 && kind == IsoTreeKind.Joliet)
                {
                    throw new InvalidDataException("the Joliet tree is empty");
                }
            });
        }

        if (reader.CatalogBlock is not null)
        {
            Check("El Torito boot catalog", () =>
            {
                var entries = reader.ReadBootEntries();
                foreach (var entry in entries)
                {
                    if ((entry.ImageBlock + 1L) * Iso9660Writer.BlockSize > length)
                    {
                        throw new InvalidDataException($"{entry.Platform} boot image at block {entry.ImageBlock} lies beyond the file");
                    }
                }
            });
            foreach (var entry in reader.ReadBootEntries().Where(e => e.Platform == ElToritoPlatform.Bios))
            {
                var head = reader.ReadBlocks(entry.ImageBlock, 1);
                var tableBlock = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(BootInfoTableFields.BootFileBlock));
                if (tableBlock != entry.ImageBlock)
                {
                    continue;
                }

                Check($"boot-info table of the BIOS image at block {entry.ImageBlock}", () =>
                {
                    var imageLength = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(BootInfoTableFields.BootFileLength));
                    if (entry.ImageBlock * (long)Iso9660Writer.BlockSize + imageLength > length || imageLength < BootInfoTableFields.ChecksumStart)
                    {
                        throw new InvalidDataException($"boot-info length {imageLength} is invalid");
                    }

                    var bytes = reader.ReadBlocks(entry.ImageBlock, (int)((imageLength + Iso9660Writer.BlockSize - 1) / Iso9660Writer.BlockSize)).AsSpan(0, (int)imageLength);
                    var checksum = ElToritoCatalog.ComputeBootInfoChecksum(bytes);
                    var recorded = BinaryPrimitives.ReadUInt32LittleEndian(head.AsSpan(BootInfoTableFields.Checksum));
                    if (checksum != recorded)
                    {
                        throw new InvalidDataException($"checksum 0x{recorded:x8} does not match the image's 0x{checksum:x8}");
                    }
                });
            }
        }

        var mbr = ReadMbr(image);
        if (mbr.Count > 0)
        {
            Check("MBR partitions inside the file", () =>
            {
                foreach (var p in mbr.Where(p => p.Type != MasterBootRecord.ProtectiveGptType && p.Type != 0))
                {
                    if ((p.FirstLba + (long)p.SectorCount) * GptPartitionTable.SectorSize > length)
                    {
                        throw new InvalidDataException($"MBR partition {p.Index} ends beyond the file");
                    }
                }
            });
        }

        if (mbr.Any(p => p.Type == MasterBootRecord.ProtectiveGptType))
        {
            Check("GPT headers, entry arrays, CRC32s and backup (UEFI §5.3)", () =>
            {
                var gpt = GptPartitionTable.Read(image) ?? throw new InvalidDataException("a protective MBR but no GPT header at LBA 1");
                foreach (var p in gpt.Partitions)
                {
                    if ((p.LastLba + 1) * GptPartitionTable.SectorSize > length)
                    {
                        throw new InvalidDataException($"GPT partition {p.Index} ends at LBA {p.LastLba}, beyond the file");
                    }
                }

                var iso = gpt.Partitions.FirstOrDefault(p => p.Name == IsoHybridSystemArea.IsoPartitionName);
                if (iso is not null && iso.FirstLba > 0)
                {
                    var inner = new Iso9660Reader(image, iso.FirstLba * GptPartitionTable.SectorSize);
                    if (inner.Primary.VolumeId != reader.Primary.VolumeId)
                    {
                        throw new InvalidDataException("the ISO partition's own superblock names a different volume");
                    }
                }
            });
        }

        if (sha256File is not null)
        {
            Check($"checksum file {Path.GetFileName(sha256File)}", () =>
            {
                var lines = File.ReadAllLines(sha256File).Where(l => l.Length > 66).ToList();
                var line = lines.FirstOrDefault(l => l[66..].TrimStart('*') == imageName) ?? (lines.Count == 1 ? lines[0] : null)
                    ?? throw new InvalidDataException($"no line for {imageName} (expected sha256sum format '<64 hex>  {imageName}')");
                var expected = line[..64].ToLowerInvariant();
                if (line[64] != ' ' || !expected.All(Uri.IsHexDigit))
                {
                    throw new InvalidDataException($"not in sha256sum format: {line}");
                }

                image.Position = 0;
                var actual = Convert.ToHexStringLower(SHA256.HashData(image));
                if (actual != expected)
                {
                    throw new InvalidDataException($"SHA-256 {actual} differs from the recorded {expected}");
                }
            });
        }

        return (passed, failed);
    }

    private static IReadOnlyList<MbrPartition> ReadMbr(Stream image)
    {
        var sector = new byte[GptPartitionTable.SectorSize];
        image.Position = 0;
        image.ReadExactly(sector);
        return MasterBootRecord.Read(sector);
    }
}
