using System.Buffers.Binary;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>A catalog entry as placed: platform, load size and the image's absolute 2048-byte block.</summary>
public sealed record ElToritoPlacedEntry(ElToritoPlatform Platform, ushort LoadSectors, uint ImageBlock, bool Bootable = true, byte MediaType = 0);

/// <summary>
/// The El Torito boot catalog (El Torito 1.0 §2): a validation entry, the initial/default entry, then one section
/// (header + entries) per further platform; plus the boot-image patches BIOS loaders expect.
/// </summary>
public static class ElToritoCatalog
{
    /// <summary>El Torito §2.0: the Boot Record Volume Descriptor's system identifier; the catalog block is at offset 0x47.</summary>
    public const string BootSystemId = "EL TORITO SPECIFICATION";
    public const int BootRecordCatalogPointerOffset = BootRecordFields.BootSystemUse;

    public const byte ValidationHeaderId = 0x01;
    public const byte BootableIndicator = 0x88;
    public const byte SectionHeaderId = 0x90;
    public const byte FinalSectionHeaderId = 0x91;
    public const byte NoEmulation = 0x00;

    /// <summary>mkisofs/libisofs boot-info table: 56 bytes at offset 8 of the image (PVD LBA, image LBA, length, checksum of bytes 64..end).</summary>
    public const int BootInfoTableOffset = BootInfoTableFields.Table;
    public const int BootInfoTableLength = BootInfoTableFields.TableLength;
    public const int BootInfoChecksumStart = BootInfoTableFields.ChecksumStart;

    /// <summary>
    /// libisofs <c>Libisofs_grub2_elto_patch_poS</c> (512·5 − 12) and offset 5: GRUB's cdboot.img + core.img expects
    /// at this position the 512-byte LBA of core.img's second sector — image block × 4 + 5.
    /// </summary>
    public const int Grub2BootInfoOffset = 512 * 5 - 12;
    public const int Grub2BootInfoSectorDelta = 5;

    /// <summary>
    /// GRUB's boot_hybrid.img (boot.S built with HYBRID_BOOT) reads the 64-bit LBA of core.img at MBR offset 0x1B0;
    /// libisofs writes image block × 4 + 4: the sector right after the 2048-byte cdboot.img.
    /// </summary>
    public const int Grub2MbrPatchOffset = 0x1B0;
    public const int Grub2MbrSectorDelta = 4;

    public static byte[] Build(IReadOnlyList<ElToritoPlacedEntry> entries)
    {
        if (entries.Count == 0)
        {
            throw new ArgumentException("an El Torito catalog needs at least one entry", nameof(entries));
        }

        var catalog = new byte[Iso9660Writer.BlockSize];
        var span = catalog.AsSpan();

        // §2.1 validation entry: the 16-bit little-endian words of the 32 bytes sum to zero.
        var validation = span.Slice(ElToritoCatalogFields.ValidationEntry, ElToritoCatalogFields.EntryLength);
        validation[ElToritoValidationEntryFields.HeaderId] = ValidationHeaderId;
        validation[ElToritoValidationEntryFields.PlatformId] = (byte)entries[0].Platform;
        validation[ElToritoValidationEntryFields.KeyByte1] = ElToritoValidationEntryFields.KeyByte1Value;
        validation[ElToritoValidationEntryFields.KeyByte2] = ElToritoValidationEntryFields.KeyByte2Value;
        BinaryPrimitives.WriteUInt16LittleEndian(validation[ElToritoValidationEntryFields.Checksum..], (ushort)(-ValidationSum(validation) & 0xFFFF));

        WriteEntry(span.Slice(ElToritoCatalogFields.InitialEntry, ElToritoCatalogFields.EntryLength), entries[0]);

        // §2.3/§2.4: further entries grouped by consecutive platform, one section header each, the last one 0x91.
        var sections = new List<List<ElToritoPlacedEntry>>();
        foreach (var entry in entries.Skip(1))
        {
            if (sections.Count == 0 || sections[^1][0].Platform != entry.Platform)
            {
                sections.Add([]);
            }

            sections[^1].Add(entry);
        }

        var at = ElToritoCatalogFields.FirstSectionHeader;
        for (var s = 0; s < sections.Count; s++)
        {
            if (at + ElToritoCatalogFields.EntryLength * (1 + sections[s].Count) > catalog.Length)
            {
                throw new ArgumentException("El Torito catalog entries do not fit in one block", nameof(entries));
            }

            var header = span.Slice(at, ElToritoCatalogFields.EntryLength);
            header[ElToritoSectionHeaderFields.HeaderIndicator] = s + 1 == sections.Count ? FinalSectionHeaderId : SectionHeaderId;
            header[ElToritoSectionHeaderFields.PlatformId] = (byte)sections[s][0].Platform;
            BinaryPrimitives.WriteUInt16LittleEndian(header[ElToritoSectionHeaderFields.SectionEntryCount..], (ushort)sections[s].Count);
            at += ElToritoCatalogFields.EntryLength;
            foreach (var entry in sections[s])
            {
                WriteEntry(span.Slice(at, ElToritoCatalogFields.EntryLength), entry);
                at += ElToritoCatalogFields.EntryLength;
            }
        }

        return catalog;
    }

    /// <summary>Parses a catalog block back into its entries (validation checksum and key bytes checked).</summary>
    public static IReadOnlyList<ElToritoPlacedEntry> Parse(ReadOnlySpan<byte> catalog)
    {
        var validation = catalog.Slice(ElToritoCatalogFields.ValidationEntry, ElToritoCatalogFields.EntryLength);
        if (validation[ElToritoValidationEntryFields.HeaderId] != ValidationHeaderId
            || validation[ElToritoValidationEntryFields.KeyByte1] != ElToritoValidationEntryFields.KeyByte1Value
            || validation[ElToritoValidationEntryFields.KeyByte2] != ElToritoValidationEntryFields.KeyByte2Value)
        {
            throw new InvalidDataException("El Torito validation entry: bad header id or key bytes");
        }

        if ((ValidationSum(validation) & 0xFFFF) != 0)
        {
            throw new InvalidDataException("El Torito validation entry: checksum does not sum to zero");
        }

        var result = new List<ElToritoPlacedEntry>
        {
            ReadEntry(catalog.Slice(ElToritoCatalogFields.InitialEntry, ElToritoCatalogFields.EntryLength), (ElToritoPlatform)validation[ElToritoValidationEntryFields.PlatformId]),
        };
        var at = ElToritoCatalogFields.FirstSectionHeader;
        while (at + ElToritoCatalogFields.EntryLength <= catalog.Length && catalog[at + ElToritoSectionHeaderFields.HeaderIndicator] is SectionHeaderId or FinalSectionHeaderId)
        {
            var header = catalog.Slice(at, ElToritoCatalogFields.EntryLength);
            var final = header[ElToritoSectionHeaderFields.HeaderIndicator] == FinalSectionHeaderId;
            var platform = (ElToritoPlatform)header[ElToritoSectionHeaderFields.PlatformId];
            var count = BinaryPrimitives.ReadUInt16LittleEndian(header[ElToritoSectionHeaderFields.SectionEntryCount..]);
            at += ElToritoCatalogFields.EntryLength;
            for (var i = 0; i < count && at + ElToritoCatalogFields.EntryLength <= catalog.Length; i++, at += ElToritoCatalogFields.EntryLength)
            {
                result.Add(ReadEntry(catalog.Slice(at, ElToritoCatalogFields.EntryLength), platform));
            }

            if (final)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>Writes the boot-info table into <paramref name="image"/> (the whole boot image, already otherwise patched).</summary>
    public static void PatchBootInfoTable(Span<byte> image, uint pvdBlock, uint imageBlock)
    {
        if (image.Length < BootInfoChecksumStart)
        {
            throw new ArgumentException($"a boot image of {image.Length} bytes is too small for a boot-info table");
        }

        var checksum = ComputeBootInfoChecksum(image);
        image.Slice(BootInfoTableFields.Table, BootInfoTableFields.TableLength).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(image[BootInfoTableFields.PrimaryVolumeDescriptorBlock..], pvdBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(image[BootInfoTableFields.BootFileBlock..], imageBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(image[BootInfoTableFields.BootFileLength..], (uint)image.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(image[BootInfoTableFields.Checksum..], checksum);
    }

    /// <summary>The sum of the image's 32-bit little-endian words from byte 64 on; a short last word counts as zero-padded.</summary>
    public static uint ComputeBootInfoChecksum(ReadOnlySpan<byte> image)
    {
        var checksum = 0u;
        var offset = BootInfoChecksumStart;
        for (; offset + 4 <= image.Length; offset += 4)
        {
            checksum += BinaryPrimitives.ReadUInt32LittleEndian(image[offset..]);
        }

        if (offset < image.Length)
        {
            Span<byte> last = stackalloc byte[4];
            last.Clear();
            image[offset..].CopyTo(last);
            checksum += BinaryPrimitives.ReadUInt32LittleEndian(last);
        }

        return checksum;
    }

    public static void PatchGrub2BootInfo(Span<byte> image, uint imageBlock)
    {
        if (image.Length < Grub2BootInfoOffset + 8)
        {
            throw new ArgumentException($"a boot image of {image.Length} bytes is too small for GRUB2 boot info (needs {Grub2BootInfoOffset + 8})");
        }

        BinaryPrimitives.WriteUInt64LittleEndian(image[Grub2BootInfoOffset..], (ulong)imageBlock * 4 + Grub2BootInfoSectorDelta);
    }

    /// <summary>§2.1: the sum of the validation entry's sixteen 16-bit little-endian words.</summary>
    private static int ValidationSum(ReadOnlySpan<byte> validation)
    {
        var sum = 0;
        for (var i = 0; i < ElToritoCatalogFields.EntryLength; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(validation[i..]);
        }

        return sum;
    }

    /// <summary>§2.2/§2.4: load segment 0 (the traditional 0x7C0) and system type 0 are left zero.</summary>
    private static void WriteEntry(Span<byte> e, ElToritoPlacedEntry entry)
    {
        e[ElToritoEntryFields.BootIndicator] = entry.Bootable ? BootableIndicator : (byte)0;
        e[ElToritoEntryFields.MediaType] = entry.MediaType;
        BinaryPrimitives.WriteUInt16LittleEndian(e[ElToritoEntryFields.SectorCount..], entry.LoadSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(e[ElToritoEntryFields.LoadRba..], entry.ImageBlock);
    }

    private static ElToritoPlacedEntry ReadEntry(ReadOnlySpan<byte> e, ElToritoPlatform platform) =>
        new(platform, BinaryPrimitives.ReadUInt16LittleEndian(e[ElToritoEntryFields.SectorCount..]), BinaryPrimitives.ReadUInt32LittleEndian(e[ElToritoEntryFields.LoadRba..]),
            e[ElToritoEntryFields.BootIndicator] == BootableIndicator, e[ElToritoEntryFields.MediaType]);
}
