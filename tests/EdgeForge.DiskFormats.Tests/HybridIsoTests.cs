using System.Buffers.Binary;
using System.Text.RegularExpressions;
using EdgeForge.DiskFormats.Fat;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.DiskFormats.Partitioning;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>
/// The installer ISO's boot structure (product reference §6): built by our writer and by xorriso with AuroraBoot's
/// arguments from the same inputs, the two must agree field by field in xorriso's own report, fdisk and sfdisk.
/// </summary>
public sealed class HybridIsoTests : IDisposable
{
    private readonly TestDirectory _temp = new();

    [Fact]
    public async Task The_hybrid_layout_matches_what_xorriso_writes_for_auroraboot()
    {
        var inputs = await HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), "echo EDGEFORGE-HYBRID\n");
        var ours = _temp.Combine("ours.iso");
        await HybridIsoBuilder.WriteOursAsync(inputs, ours);
        var theirs = _temp.Combine("xorriso.iso");
        HybridIsoBuilder.WriteWithXorriso(inputs, theirs);

        var our = XorrisoReport(ours);
        var their = XorrisoReport(theirs);
        foreach (var key in new[]
        {
            "Boot record", "Volume id", "El Torito img path", "El Torito img opts", "System area options", "System area summary",
            "Partition offset", "MBR heads per cyl", "MBR secs per head", "GPT entry array", "GPT partname local", "GPT type GUID",
            "GPT partition flags", "GPT partition name",
        })
        {
            our.GetValueOrDefault(key).ShouldBe(their.GetValueOrDefault(key), key);
        }

        // Rows whose only difference may be where each tool put things: compare everything but the LBAs and sizes.
        Rows(our, "El Torito boot img").Select(r => r[..5]).ShouldBe(Rows(their, "El Torito boot img").Select(r => r[..5]));
        Rows(our, "El Torito boot img")[1][5].ShouldBe(Rows(their, "El Torito boot img")[1][5], "UEFI load size is the whole ESP");
        Rows(our, "MBR partition").Select(r => r[..3]).ShouldBe(Rows(their, "MBR partition").Select(r => r[..3]));
        var ourGpt = Rows(our, "GPT start and size");
        var theirGpt = Rows(their, "GPT start and size");
        ourGpt[0][1].ShouldBe(theirGpt[0][1], "partition 1 starts at the partition offset");
        ourGpt[0][1].ShouldBe("64");
        ourGpt[1][2].ShouldBe(theirGpt[1][2], "the ESP partition is exactly the FAT image");

        // Our own cross-checks of the same facts.
        var isoSectors = long.Parse(our["ISO image size/512"], System.Globalization.CultureInfo.InvariantCulture);
        Rows(our, "MBR partition")[0][4].ShouldBe((isoSectors - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        (long.Parse(ourGpt[0][1], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(ourGpt[0][2], System.Globalization.CultureInfo.InvariantCulture))
            .ShouldBe(long.Parse(ourGpt[1][1], System.Globalization.CultureInfo.InvariantCulture), "ISO partition ends where the ESP starts");

        var fdisk = ExternalTool.Output("fdisk", "-l", ours);
        fdisk.ShouldContain("Disklabel type: gpt");
        fdisk.ShouldMatch(@"ours\.iso1\s+64\s+\d+\s+\d+\s+\S+\s+Microsoft basic data");
        fdisk.ShouldMatch(@"ours\.iso2\s+\d+\s+\d+\s+\d+\s+\S+\s+EFI System");
        var fdiskRun = ExternalTool.Run("fdisk", ["-l", ours]);
        fdiskRun.Error.ShouldNotContain("backup GPT table is not on the end", Case.Insensitive);
        fdiskRun.Error.ShouldNotContain("corrupt", Case.Insensitive);

        var dump = ExternalTool.Output("sfdisk", "--dump", ours);
        dump.ShouldContain("label: gpt");
        dump.ShouldContain("type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
        dump.ShouldContain("name=\"ISO9660\", attrs=\"RequiredPartition GUID:60\"");
        dump.ShouldContain("type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        dump.ShouldContain("name=\"Appended2\"");
        ExternalTool.Output("sgdisk", "-v", ours).ShouldContain("No problems found");
    }

    [Fact]
    public async Task Boot_images_and_the_mbr_carry_the_patches_grub_and_el_torito_expect()
    {
        var inputs = await HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), "echo PATCHES\n");
        var ours = _temp.Combine("ours.iso");
        await HybridIsoBuilder.WriteOursAsync(inputs, ours);
        await using var stream = File.OpenRead(ours);
        var reader = new Iso9660Reader(stream);
        var entries = reader.ReadBootEntries();
        entries.Select(e => (e.Platform, e.LoadSectors)).ShouldBe([(ElToritoPlatform.Bios, (ushort)4), (ElToritoPlatform.Efi, (ushort)(new FileInfo(inputs.EspImage).Length / 512))]);
        reader.ListFiles().Select(f => f.Path).ShouldNotContain("boot/boot.catalog", "the catalog is hidden");

        var bootBlock = entries[0].ImageBlock;
        var original = await File.ReadAllBytesAsync(inputs.Assets.EltoritoImage);
        var written = new byte[original.Length];
        stream.Position = bootBlock * 2048L;
        stream.ReadExactly(written);

        // GRUB2 boot info (libisofs patch_grub2_boot_image): block·4+5 at 2548; boot-info table at 8 (mkisofs).
        BinaryPrimitives.ReadUInt64LittleEndian(written.AsSpan(ElToritoCatalog.Grub2BootInfoOffset)).ShouldBe((ulong)bootBlock * 4 + 5);
        BinaryPrimitives.ReadUInt32LittleEndian(written.AsSpan(BootInfoTableFields.PrimaryVolumeDescriptorBlock)).ShouldBe(16u);
        BinaryPrimitives.ReadUInt32LittleEndian(written.AsSpan(BootInfoTableFields.BootFileBlock)).ShouldBe(bootBlock);
        BinaryPrimitives.ReadUInt32LittleEndian(written.AsSpan(BootInfoTableFields.BootFileLength)).ShouldBe((uint)original.Length);
        BinaryPrimitives.ReadUInt32LittleEndian(written.AsSpan(BootInfoTableFields.Checksum)).ShouldBe(ElToritoCatalog.ComputeBootInfoChecksum(written));
        var unpatched = BootInfoTableFields.ChecksumStart..ElToritoCatalog.Grub2BootInfoOffset;
        written.AsSpan()[unpatched].SequenceEqual(original.AsSpan()[unpatched]).ShouldBeTrue();

        var mbr = new byte[512];
        stream.Position = 0;
        stream.ReadExactly(mbr);
        var hybrid = await File.ReadAllBytesAsync(inputs.Assets.BootHybridImage);
        mbr.AsSpan(0, ElToritoCatalog.Grub2MbrPatchOffset).SequenceEqual(hybrid.AsSpan(0, ElToritoCatalog.Grub2MbrPatchOffset)).ShouldBeTrue();
        BinaryPrimitives.ReadUInt64LittleEndian(mbr.AsSpan(ElToritoCatalog.Grub2MbrPatchOffset)).ShouldBe((ulong)bootBlock * 4 + 4);
        MasterBootRecord.Read(mbr).Select(p => (p.Status, p.Type, p.FirstLba)).ShouldBe([((byte)0, (byte)0xEE, 1u), ((byte)0x80, (byte)0, 0u)]);

        var gpt = GptPartitionTable.Read(stream)!;
        gpt.Partitions.Select(p => p.TypeGuid).ShouldBe([GptPartitionTable.BasicDataPartitionType, GptPartitionTable.EfiSystemPartitionType]);
        gpt.BackupHeaderLba.ShouldBe(stream.Length / 512 - 1);
        var esp = gpt.Partitions[1];
        entries[1].ImageBlock.ShouldBe((uint)(esp.FirstLba / 4));
        var espBytes = new byte[new FileInfo(inputs.EspImage).Length];
        stream.Position = esp.FirstLba * 512;
        stream.ReadExactly(espBytes);
        var espSource = await File.ReadAllBytesAsync(inputs.EspImage);
        espBytes.SequenceEqual(espSource).ShouldBeTrue();

        // Partition 1 is an ISO 9660 filesystem by itself: the second superblock with partition-relative addresses.
        var partition = new Iso9660Reader(stream, gpt.Partitions[0].FirstLba * 512);
        partition.Primary.VolumeId.ShouldBe("COS_LIVE");
        partition.ListFiles().Select(f => f.Path).ShouldBe(reader.ListFiles().Select(f => f.Path));
        var kernel = partition.ListFiles().Single(f => f.Path == "boot/kernel");
        System.Text.Encoding.ASCII.GetString(partition.ReadFile(kernel)).ShouldBe("not really a kernel\n");
    }

    [Fact]
    public async Task The_installer_image_is_reproducible_and_hashed_while_written()
    {
        var inputs = await HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), "echo SAME\n");
        var first = await HybridIsoBuilder.WriteOursAsync(inputs, _temp.Combine("one.iso"));
        var second = await HybridIsoBuilder.WriteOursAsync(inputs, _temp.Combine("two.iso"));
        first.Sha256.ShouldNotBeNull();
        second.Sha256.ShouldBe(first.Sha256);
        TestTrees.Sha256(_temp.Combine("two.iso")).ShouldBe(first.Sha256);
    }

    [Fact]
    public async Task A_tail_file_streamed_in_first_gives_the_same_image_as_reference_tools_read_it()
    {
        // The one-pass installer: the SquashFS is written straight into the ISO at its final offset (seeking back to
        // its header at the end, as the SquashFS writer does), boot files captured meanwhile go after it, and only
        // then is the rest of the image written around it.
        var inputs = await HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), "echo TAIL\n");
        var options = GoldenTrees.InstallerIso(inputs.EspImage);
        var writer = new Iso9660Writer(options with { ComputeSha256 = true, Partitions = options.Partitions! with { MbrBootCodePath = inputs.Assets.BootHybridImage } });
        writer.AddFileTree(new DirectoryFileTreeSource(inputs.Tree));
        var captured = _temp.Combine("captured");
        Directory.CreateDirectory(captured);
        writer.AddFileAfterTail("boot/eltorito.img", Path.Combine(captured, "eltorito.img"));
        writer.AddFileAfterTail("boot/initrd", Path.Combine(captured, "initrd"));
        var tail = writer.AddTailFile("rootfs.squashfs");
        var iso = _temp.Combine("tail.iso");
        var contents = new byte[3 << 20];
        new Random(12).NextBytes(contents);
        await using (var output = new FileStream(iso, FileMode.Create, FileAccess.ReadWrite))
        {
            var offset = writer.TailOffset;
            (offset % 2048).ShouldBe(0);
            await using (var region = new EdgeForge.DiskFormats.IO.OffsetStream(output, offset))
            {
                region.SetLength(0);
                region.Position = 4096;
                await region.WriteAsync(contents.AsMemory(4096));
                region.Position = 0;
                await region.WriteAsync(contents.AsMemory(0, 4096));
                tail.Length = region.Length;
            }

            // Made "during" the tail's pass, after its offset was fixed.
            File.Copy(inputs.Assets.EltoritoImage, Path.Combine(captured, "eltorito.img"));
            await File.WriteAllTextAsync(Path.Combine(captured, "initrd"), "not really an initrd\n");
            var result = await writer.WriteAsync(output);
            result.Length.ShouldBe(output.Length);
            result.Sha256.ShouldBe(TestTrees.Sha256(iso), "the hash is of the whole image as it lies on disk");
        }

        // Read back by tools nobody here wrote: libarchive extracts the tail and the late files byte for byte…
        var extracted = _temp.Combine("extracted");
        Directory.CreateDirectory(extracted);
        ExternalTool.Output("bsdtar", "-xf", iso, "-C", extracted);
        (await File.ReadAllBytesAsync(Path.Combine(extracted, "rootfs.squashfs"))).SequenceEqual(contents).ShouldBeTrue();
        (await File.ReadAllTextAsync(Path.Combine(extracted, "boot", "initrd"))).ShouldBe("not really an initrd\n");
        (await File.ReadAllTextAsync(Path.Combine(extracted, "boot", "kernel"))).ShouldBe("not really a kernel\n");

        // …and xorriso reports the same boot structure as for the image written front to back.
        var reference = _temp.Combine("front.iso");
        await HybridIsoBuilder.WriteOursAsync(inputs, reference);
        var our = XorrisoReport(iso);
        var front = XorrisoReport(reference);
        foreach (var key in new[] { "Boot record", "Volume id", "El Torito img path", "System area options", "System area summary", "Partition offset", "GPT type GUID" })
        {
            our.GetValueOrDefault(key).ShouldBe(front.GetValueOrDefault(key), key);
        }

        // The BIOS boot image after the tail still carries its own location, and the MBR code points at it.
        await using var stream = File.OpenRead(iso);
        var reader = new Iso9660Reader(stream);
        var bootBlock = reader.ReadBootEntries()[0].ImageBlock;
        (bootBlock * 2048L).ShouldBeGreaterThan(writer.TailOffset + contents.Length - 2048, "the captured boot image lies after the tail");
        var written = new byte[new FileInfo(inputs.Assets.EltoritoImage).Length];
        stream.Position = bootBlock * 2048L;
        stream.ReadExactly(written);
        BinaryPrimitives.ReadUInt32LittleEndian(written.AsSpan(BootInfoTableFields.BootFileBlock)).ShouldBe(bootBlock);
        var mbr = new byte[512];
        stream.Position = 0;
        stream.ReadExactly(mbr);
        BinaryPrimitives.ReadUInt64LittleEndian(mbr.AsSpan(ElToritoCatalog.Grub2MbrPatchOffset)).ShouldBe((ulong)bootBlock * 4 + 4);
        ExternalTool.Run("fdisk", ["-l", iso]).Error.ShouldNotContain("backup GPT table is not on the end", Case.Insensitive);
    }

    [Fact]
    public async Task A_tail_file_longer_than_one_extent_is_refused_before_anything_is_written()
    {
        var inputs = await HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), "echo BIG\n");
        var writer = new Iso9660Writer(GoldenTrees.InstallerIso(inputs.EspImage));
        writer.AddFileTree(new DirectoryFileTreeSource(inputs.Tree));
        writer.AddFile("boot/eltorito.img", inputs.Assets.EltoritoImage);
        writer.AddTailFile("rootfs.squashfs").Length = Iso9660Writer.MaxExtentLength + 1;
        await using var output = new FileStream(_temp.Combine("big.iso"), FileMode.Create, FileAccess.ReadWrite);
        (await Should.ThrowAsync<IOException>(() => writer.WriteAsync(output))).Message.ShouldContain("at most one extent");
        output.Length.ShouldBe(0);
    }

    [Fact]
    public async Task Several_entries_form_one_section_per_platform_that_xorriso_reads_back()
    {
        var inputs = await HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), "echo SECTIONS\n");
        var iso = _temp.Combine("sections.iso");
        var writer = new Iso9660Writer(new IsoImageOptions
        {
            VolumeId = "SECTIONS",
            ElTorito = new ElToritoOptions
            {
                CatalogPath = "boot/boot.cat",
                Entries =
                [
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Bios, ImagePath = "boot/eltorito.img", BootInfoTable = true },
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Efi, ImagePath = "boot/uefi.img" },
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Efi, AppendedPartition = 2 },
                ],
            },
            Partitions = new HybridPartitionOptions { AppendedPartitions = [new AppendedPartition(2, 0xEF, inputs.EspImage)] },
        });
        writer.AddFileTree(new DirectoryFileTreeSource(inputs.Tree));
        writer.AddFile("boot/eltorito.img", inputs.Assets.EltoritoImage);
        writer.AddFile("boot/uefi.img", inputs.EspImage);
        IsoImageResult result;
        await using (var output = File.Create(iso))
        {
            result = await writer.WriteAsync(output);
        }

        var report = XorrisoReport(iso);
        Rows(report, "El Torito boot img").Select(r => (r[1], r[2], r[3])).ShouldBe([("BIOS", "y", "none"), ("UEFI", "y", "none"), ("UEFI", "y", "none")]);
        report["El Torito img path"].ShouldContain("/boot/eltorito.img");
        report["El Torito img path"].ShouldContain("/boot/uefi.img");
        report["El Torito catalog"].Split(' ')[0].ShouldBe(result.Layout.CatalogBlock.ToString());
        report["System area summary"].ShouldBe("MBR protective-msdos-label cyl-align-off GPT", "no GRUB MBR code was given");

        await using var stream = File.OpenRead(iso);
        var reader = new Iso9660Reader(stream);
        var catalog = reader.ReadCatalog()!;
        var section = catalog.AsSpan(ElToritoCatalogFields.FirstSectionHeader);
        (section[ElToritoSectionHeaderFields.HeaderIndicator], section[ElToritoSectionHeaderFields.PlatformId], section[ElToritoSectionHeaderFields.SectionEntryCount])
            .ShouldBe(((byte)ElToritoCatalog.FinalSectionHeaderId, (byte)0xEF, (byte)2), "one final section header for both UEFI entries");
        reader.ReadBootEntries()[1].ImageBlock.ShouldBe((uint)result.Layout.AddedFileBlocks["boot/uefi.img"]);
        reader.ListFiles().Select(f => f.Path).ShouldContain("boot/boot.cat", "a catalog that is not hidden is listed");
    }

    private static Dictionary<string, string> XorrisoReport(string iso)
    {
        var output = ExternalTool.Output("xorriso", "-indev", iso, "-report_el_torito", "plain", "-report_system_area", "plain");
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0 || line.StartsWith("xorriso", StringComparison.Ordinal) || line.StartsWith("libisofs", StringComparison.Ordinal))
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = Regex.Replace(line[(colon + 1)..].Trim(), @"\s+", " ");
            result[key] = result.TryGetValue(key, out var previous) ? previous + "\n" + value : value;
        }

        return result;
    }

    private static List<string[]> Rows(Dictionary<string, string> report, string key) =>
        report[key].Split('\n').Select(r => r.Split(' ')).ToList();

    public void Dispose() => _temp.Dispose();
}

/// <summary>The §6 installer ISO in miniature: a tree, GRUB boot images and an appended FAT ESP, built by us and by xorriso.</summary>
internal static class HybridIsoBuilder
{
    public sealed record Inputs(string Tree, GrubBootAssets Assets, string EspImage);

    public static async Task<Inputs> PrepareAsync(string directory, string grubConfig)
    {
        var tree = Path.Combine(directory, "tree");
        TestTrees.Write(Path.Combine(tree, "boot", "kernel"), "not really a kernel\n");
        TestTrees.Write(Path.Combine(tree, "boot", "grub2", "grub.cfg"), grubConfig);
        TestTrees.Write(Path.Combine(tree, "boot", "grub", "grub.cfg"), GrubBootAssets.StubConfig);
        TestTrees.Write(Path.Combine(tree, "EFI", "BOOT", "grub.cfg"), GrubBootAssets.StubConfig);
        TestTrees.Write(Path.Combine(tree, "config.yaml"), "#cloud-config\nhostname: edgeforge-test\n");
        TestTrees.SetTimes(tree, 1_700_000_000);
        var assets = await GrubBootAssets.SharedAsync();
        var esp = Path.Combine(directory, "uefi.img");
        var fat = new FatImageWriter(new FatImageOptions { Label = "EFI_LIVE", Timestamp = 1_700_000_000 });
        fat.AddFile("EFI/BOOT/bootx64.efi", assets.EfiImage);
        fat.AddFile("EFI/BOOT/grubx64.efi", assets.EfiImage);
        fat.AddFile("EFI/BOOT/grub.cfg", System.Text.Encoding.ASCII.GetBytes(GrubBootAssets.StubConfig));
        await using (var output = File.Create(esp))
        {
            await fat.WriteAsync(output);
        }

        return new Inputs(tree, assets, esp);
    }

    public static async Task<IsoImageResult> WriteOursAsync(Inputs inputs, string iso)
    {
        // The installer's options, with GRUB's real hybrid MBR code.
        var options = GoldenTrees.InstallerIso(inputs.EspImage);
        var writer = new Iso9660Writer(options with
        {
            ComputeSha256 = true,
            Partitions = options.Partitions! with { MbrBootCode = await File.ReadAllBytesAsync(inputs.Assets.BootHybridImage) },
        });
        writer.AddFileTree(new DirectoryFileTreeSource(inputs.Tree));
        writer.AddFile("boot/eltorito.img", inputs.Assets.EltoritoImage);
        await using var output = File.Create(iso);
        return await writer.WriteAsync(output);
    }

    /// <summary>The xorriso arguments AuroraBoot uses (shared/reference/qemu-boot-recipe.sh), on the same inputs.</summary>
    public static void WriteWithXorriso(Inputs inputs, string iso)
    {
        var staging = Path.Combine(Path.GetDirectoryName(iso)!, "xorriso-tree");
        TestTrees.Run("cp", "-a", inputs.Tree + "/.", staging + "/");
        File.Copy(inputs.Assets.EltoritoImage, Path.Combine(staging, "boot", "eltorito.img"));
        ExternalTool.Output("xorriso", "-volid", "COS_LIVE", "-joliet", "on", "-padding", "0", "-outdev", iso, "-map", staging, "/", "-chmod", "0755", "--",
            "-boot_image", "grub", "bin_path=/boot/eltorito.img",
            "-boot_image", "grub", "grub2_mbr=" + inputs.Assets.BootHybridImage,
            "-boot_image", "grub", "grub2_boot_info=on",
            "-boot_image", "any", "partition_offset=16",
            "-boot_image", "any", "cat_path=/boot/boot.catalog",
            "-boot_image", "any", "cat_hidden=on",
            "-boot_image", "any", "boot_info_table=on",
            "-boot_image", "any", "platform_id=0x00",
            "-boot_image", "any", "emul_type=no_emulation",
            "-boot_image", "any", "load_size=2048",
            "-boot_image", "any", "next",
            "-boot_image", "any", "platform_id=0xef",
            "-boot_image", "any", "emul_type=no_emulation",
            "-append_partition", "2", "0xef", inputs.EspImage,
            "-boot_image", "any", "efi_path=--interval:appended_partition_2:all::",
            "-boot_image", "any", "appended_part_as=gpt",
            "-boot_image", "any", "mbr_force_bootable=on");
    }
}
