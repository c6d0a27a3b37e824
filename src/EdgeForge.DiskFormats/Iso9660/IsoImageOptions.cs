using EdgeForge.DiskFormats.IO;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>What an ISO 9660 image carries besides its files: identifiers, extensions, boot structures.</summary>
public sealed record IsoImageOptions
{
    /// <summary>Volume identifier (ECMA-119 §8.4.6, d-characters, at most 32); also the Joliet volume id. Kairos finds its medium by <c>COS_LIVE</c>.</summary>
    public string VolumeId { get; init; } = "CDROM";

    public string SystemId { get; init; } = "LINUX";

    public string PublisherId { get; init; } = "";

    public string ApplicationId { get; init; } = "EDGEFORGE";

    /// <summary>Rock Ridge (IEEE P1282 RRIP 1.12 over P1281 SUSP): POSIX names, modes, owners, links, devices, times.</summary>
    public bool RockRidge { get; init; } = true;

    /// <summary>Joliet: a second directory tree with UCS-2 names of up to 64 characters, sharing the file extents.</summary>
    public bool Joliet { get; init; } = true;

    /// <summary>Seconds since the Unix epoch for every timestamp the tree does not supply (volume descriptors, added files, the root).</summary>
    public long Timestamp { get; init; } = SourceDateEpoch.FromEnvironment();

    public ElToritoOptions? ElTorito { get; init; }

    /// <summary>A hybrid system area: MBR boot code, protective MBR and GPT with the ISO and appended partitions.</summary>
    public HybridPartitionOptions? Partitions { get; init; }

    /// <summary>Hash the image with SHA-256 while it is written (see <see cref="IsoImageResult.Sha256"/>).</summary>
    public bool ComputeSha256 { get; init; }
}

/// <summary>El Torito platform ids (El Torito 1.0 §2.1; 0xEF was added by UEFI 2.x §13.3.2.1).</summary>
public enum ElToritoPlatform : byte
{
    Bios = 0x00,
    PowerPc = 0x01,
    Mac = 0x02,
    Efi = 0xEF,
}

/// <summary>One no-emulation boot entry of the El Torito catalog.</summary>
public sealed record ElToritoBootEntry
{
    public required ElToritoPlatform Platform { get; init; }

    /// <summary>ISO path of the boot image, a file added with <see cref="Iso9660Writer.AddFile(string, byte[], int)"/> or its path overload.</summary>
    public string? ImagePath { get; init; }

    /// <summary>Instead of <see cref="ImagePath"/>: the number of an appended partition whose whole contents are the image (UEFI ESP).</summary>
    public int? AppendedPartition { get; init; }

    /// <summary>Virtual 512-byte sectors the BIOS loads; default 4 for BIOS entries and the whole image (at most 0xFFFF) otherwise.</summary>
    public ushort? LoadSectors { get; init; }

    /// <summary>Patch the 56-byte boot-info table at offset 8 of the image (mkisofs <c>-boot-info-table</c>).</summary>
    public bool BootInfoTable { get; init; }

    /// <summary>Patch GRUB2's core.img location at offset 2548 of the image (libisofs <c>grub2_boot_info</c>).</summary>
    public bool Grub2BootInfo { get; init; }
}

public sealed record ElToritoOptions
{
    /// <summary>ISO path of the boot catalog (one 2048-byte block).</summary>
    public string CatalogPath { get; init; } = "boot/boot.catalog";

    /// <summary>Keep the catalog out of every directory (xorriso <c>cat_hidden=on</c>).</summary>
    public bool HideCatalog { get; init; }

    /// <summary>The first entry becomes the default entry; the others form one section per platform, in order.</summary>
    public required IReadOnlyList<ElToritoBootEntry> Entries { get; init; }
}

/// <summary>
/// The system area as xorriso writes it for <c>-boot_image grub grub2_mbr=… partition_offset=16 -append_partition …
/// appended_part_as=gpt mbr_force_bootable=on</c>: GRUB hybrid MBR boot code, protective MBR, GPT whose partition 1 is
/// the ISO from the partition offset on and whose further partitions are the appended images.
/// </summary>
public sealed record HybridPartitionOptions
{
    /// <summary>MBR boot code (GRUB's <c>boot_hybrid.img</c>); bytes 0..439 are used. Null leaves the boot code zero.</summary>
    public byte[]? MbrBootCode { get; init; }

    /// <summary>
    /// Instead of <see cref="MbrBootCode"/>: a local file holding it, read when the system area is written — so it may be
    /// a boot file captured while the image's tail file was (<see cref="Iso9660Writer.AddTailFile"/>).
    /// </summary>
    public string? MbrBootCodePath { get; init; }

    /// <summary>Start of GPT partition 1 in 2048-byte blocks; at least 16. A second superblock set makes the partition mountable by itself.</summary>
    public int PartitionOffset { get; init; } = 16;

    /// <summary>Add a bootable dummy MBR entry, as some BIOSes boot only a disk with an active partition (xorriso <c>mbr_force_bootable</c>).</summary>
    public bool ForceBootable { get; init; } = true;

    public IReadOnlyList<AppendedPartition> AppendedPartitions { get; init; } = [];
}

/// <summary>A local file appended after the ISO data as GPT partition <paramref name="Number"/> (2..8).</summary>
/// <param name="MbrType">The MBR type byte as xorriso takes it; 0xEF becomes the EFI System type, anything else Basic Data.</param>
public sealed record AppendedPartition(int Number, byte MbrType, string LocalPath);

/// <summary>What writing produced.</summary>
public sealed record IsoImageResult(long Length, string? Sha256, IsoImageLayout Layout);

/// <summary>Where the writer placed the structures that boot code and checks care about (2048-byte block addresses).</summary>
public sealed record IsoImageLayout(
    long TotalBlocks,
    long IsoBlocks,
    long? CatalogBlock,
    IReadOnlyDictionary<string, long> AddedFileBlocks,
    IReadOnlyDictionary<int, (long StartBlock, long Length)> AppendedPartitions);
