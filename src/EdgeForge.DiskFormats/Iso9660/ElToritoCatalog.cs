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
    public const int BootRecordCatalogPointerOffset = 0x47;

    public const byte ValidationHeaderId = 0x01;
    public const byte BootableIndicator = 0x88;
    public const byte SectionHeaderId = 0x90;
    public const byte FinalSectionHeaderId = 0x91;
    public const byte NoEmulation = 0x00;

    /// <summary>mkisofs/libisofs boot-info table: 56 bytes at offset 8 of the image (PVD LBA, image LBA, length, checksum of bytes 64..end).</summary>
    public const int BootInfoTableOffset = 8;
    public const int BootInfoTableLength = 56;
    public const int BootInfoChecksumStart = 64;

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

        var catalog = new byte[2048];
        var span = catalog.AsSpan();

        // §2.1 validation entry: the 16-bit little-endian words of the 32 bytes sum to zero.
        span[0] = ValidationHeaderId;
        span[1] = (byte)entries[0].Platform;
        span[30] = 0x55;
        span[31] = 0xAA;
        var sum = 0;
        for (var i = 0; i < 32; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(span[i..]);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], (ushort)(-sum & 0xFFFF));

        WriteEntry(span.Slice(32, 32), entries[0]);

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

        var at = 64;
        for (var s = 0; s < sections.Count; s++)
        {
            if (at + 32 * (1 + sections[s].Count) > catalog.Length)
            {
                throw new ArgumentException("El Torito catalog entries do not fit in one block", nameof(entries));
            }

            span[at] = s + 1 == sections.Count ? FinalSectionHeaderId : SectionHeaderId;
            span[at + 1] = (byte)sections[s][0].Platform;
            BinaryPrimitives.WriteUInt16LittleEndian(span[(at + 2)..], (ushort)sections[s].Count);
            at += 32;
            foreach (var entry in sections[s])
            {
                WriteEntry(span.Slice(at, 32), entry);
                at += 32;
            }
        }

        return catalog;
    }

    /// <summary>Parses a catalog block back into its entries (validation checksum and key bytes checked).</summary>
    public static IReadOnlyList<ElToritoPlacedEntry> Parse(ReadOnlySpan<byte> catalog)
    {
        if (catalog[0] != ValidationHeaderId || catalog[30] != 0x55 || catalog[31] != 0xAA)
        {
            throw new InvalidDataException("El Torito validation entry: bad header id or key bytes");
        }

        var sum = 0;
        for (var i = 0; i < 32; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16LittleEndian(catalog[i..]);
        }

        if ((sum & 0xFFFF) != 0)
        {
            throw new InvalidDataException("El Torito validation entry: checksum does not sum to zero");
        }

        var result = new List<ElToritoPlacedEntry> { ReadEntry(catalog.Slice(32, 32), (ElToritoPlatform)catalog[1]) };
        var at = 64;
        while (at + 32 <= catalog.Length && catalog[at] is SectionHeaderId or FinalSectionHeaderId)
        {
            var final = catalog[at] == FinalSectionHeaderId;
            var platform = (ElToritoPlatform)catalog[at + 1];
            var count = BinaryPrimitives.ReadUInt16LittleEndian(catalog[(at + 2)..]);
            at += 32;
            for (var i = 0; i < count && at + 32 <= catalog.Length; i++, at += 32)
            {
                result.Add(ReadEntry(catalog.Slice(at, 32), platform));
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
        var table = image.Slice(BootInfoTableOffset, BootInfoTableLength);
        table.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(table, pvdBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(table[4..], imageBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(table[8..], (uint)image.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(table[12..], checksum);
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

    private static void WriteEntry(Span<byte> e, ElToritoPlacedEntry entry)
    {
        // §2.2: boot indicator, media type, load segment (0 = 0x7C0), system type, unused, sector count, load RBA.
        e[0] = entry.Bootable ? BootableIndicator : (byte)0;
        e[1] = entry.MediaType;
        BinaryPrimitives.WriteUInt16LittleEndian(e[6..], entry.LoadSectors);
        BinaryPrimitives.WriteUInt32LittleEndian(e[8..], entry.ImageBlock);
    }

    private static ElToritoPlacedEntry ReadEntry(ReadOnlySpan<byte> e, ElToritoPlatform platform) =>
        new(platform, BinaryPrimitives.ReadUInt16LittleEndian(e[6..]), BinaryPrimitives.ReadUInt32LittleEndian(e[8..]), e[0] == BootableIndicator, e[1]);
}
