using System.Security.Cryptography;
using System.Text;
using EdgeForge.DiskFormats.Fat;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>
/// Given the same inputs, the writers give the same bytes as the day these hashes were recorded: every image is built
/// from generated trees and boot images (nothing read from the host but what the test itself writes), with fixed
/// timestamps, and hashed as it streams out. A refactoring of a writer must leave every hash here unchanged; a
/// deliberate format change updates them in the same commit and says why.
/// </summary>
public sealed class GoldenImageTests : IDisposable
{
    private const long Epoch = GoldenTrees.Epoch;
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("edgeforge-golden-");

    [Fact]
    public async Task A_plain_iso_9660_image_without_extensions()
    {
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "PLAIN", Timestamp = Epoch, RockRidge = false, Joliet = false });
        writer.AddFileTree(GoldenTrees.Rich());
        (await HashAsync(writer)).ShouldBe("328ed8156600ab05664dc81af4582a5eccc0abc6e00aa93497085efe42f24059");
    }

    [Fact]
    public async Task A_rock_ridge_and_joliet_image_with_added_files()
    {
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "RICH_TREE", Timestamp = Epoch, PublisherId = "EDGEFORGE TESTS" });
        writer.AddFileTree(GoldenTrees.Rich());
        writer.AddFileTree(GoldenTrees.Many(300));
        writer.AddFile("generated/config.yaml", Encoding.ASCII.GetBytes("#cloud-config\nhostname: golden\n"));
        writer.AddFile("generated/payload.bin", Local("payload.bin", GoldenTrees.Bytes("payload", 100_000)), mode: 0x180);
        (await HashAsync(writer)).ShouldBe("81a82b7e6a3f63cb8356f696ed594e0076d5c5f2e6caf5fa54964ed613ca87af");
    }

    [Fact]
    public async Task The_installer_layout_bios_and_uefi_el_torito_on_a_hybrid_mbr_gpt_with_an_appended_esp()
    {
        var writer = new Iso9660Writer(GoldenTrees.InstallerIso(await EspAsync()));
        writer.AddFileTree(GoldenTrees.Rich());
        writer.AddFile("boot/eltorito.img", Local("eltorito.img", GoldenTrees.Bytes("eltorito.img", 30_001)));
        writer.AddFile("boot/kernel", GoldenTrees.Bytes("kernel", 5_000_000));
        (await HashAsync(writer)).ShouldBe("2346da7522d523a2aed7d1d3c4e97d5d73715619ec6e1eb86216dff7c9faca6c");
    }

    [Fact]
    public async Task Several_el_torito_sections_a_visible_catalog_and_two_appended_partitions_after_a_larger_offset()
    {
        var writer = new Iso9660Writer(new IsoImageOptions
        {
            VolumeId = "SECTIONS",
            Timestamp = Epoch,
            ElTorito = new ElToritoOptions
            {
                CatalogPath = "boot/boot.cat",
                Entries =
                [
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Bios, ImagePath = "boot/eltorito.img", BootInfoTable = true },
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Efi, ImagePath = "boot/uefi.img" },
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Efi, AppendedPartition = 2, LoadSectors = 8 },
                ],
            },
            Partitions = new HybridPartitionOptions
            {
                PartitionOffset = 32,
                ForceBootable = false,
                AppendedPartitions =
                [
                    new AppendedPartition(3, 0x83, Local("data.img", GoldenTrees.Bytes("data.img", 700_000))),
                    new AppendedPartition(2, 0xEF, await EspAsync()),
                ],
            },
        });
        writer.AddFileTree(GoldenTrees.Many(40));
        writer.AddFile("boot/eltorito.img", GoldenTrees.Bytes("eltorito.img", 2048 * 3 + 17));
        writer.AddFile("boot/uefi.img", GoldenTrees.Bytes("uefi.img", 80_000));
        (await HashAsync(writer)).ShouldBe("1819a8988a491aa7bccd3199a65a110f5b7ad7c84502d178b7749b8a25b29e69");
    }

    [Fact]
    public async Task A_file_beyond_4_gib_recorded_as_two_extents()
    {
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "BIG", Timestamp = Epoch });
        writer.AddFileTree(new GoldenTree(
        [
            GoldenTrees.File("big.bin", (4L << 30) + (3 << 20) + 123, Epoch),
            GoldenTrees.File("small.txt", 18, Epoch),
        ]));
        (await HashAsync(writer)).ShouldBe("019a1fed94b2db7f6d7748f3a606fb6eb601f3fdefa082be8e318b1d6d30e090");
    }

    [Theory]
    [InlineData(null, "5225f7d3f515a678d988be6e94d0bfa7dcee35ac89f0e570d0d334c5f5f5d58a")]
    [InlineData(64L << 20, "9d75b183a2b5c54e67f953448de8a94737d11c602ea2403d4d1a4c9d4fe41ab7")]
    [InlineData(600L << 20, "0e7301cf430b66a52c2c9065dd39daeefb6c34f89452a4c7168f51b7cd7d86e6")]
    public async Task Fat_images_of_each_type(long? size, string sha256)
    {
        var writer = new FatImageWriter(new FatImageOptions { Label = "GOLDEN", Size = size, Timestamp = Epoch });
        writer.AddFileTree(GoldenTrees.Many(120));
        writer.AddFile("EFI/BOOT/bootx64.efi", GoldenTrees.Bytes("bootx64.efi", 300_000));
        writer.AddDirectory("empty/directory");
        using var sha = SHA256.Create();
        await using (var sink = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write))
        {
            await writer.WriteAsync(sink);
        }

        Convert.ToHexStringLower(sha.Hash!).ShouldBe(sha256);
    }

    /// <summary>The ESP as the installer builds it, from generated loaders.</summary>
    private async Task<string> EspAsync()
    {
        var path = Path.Combine(_scratch.FullName, "uefi.img");
        if (!File.Exists(path))
        {
            var fat = new FatImageWriter(new FatImageOptions { Label = "EFI_LIVE", Timestamp = Epoch });
            fat.AddFile("EFI/BOOT/bootx64.efi", GoldenTrees.Bytes("bootx64.efi", 300_000));
            fat.AddFile("EFI/BOOT/grubx64.efi", GoldenTrees.Bytes("grubx64.efi", 200_001));
            fat.AddFile("EFI/BOOT/grub.cfg", Encoding.ASCII.GetBytes(GrubBootAssets.StubConfig));
            await using var output = File.Create(path);
            await fat.WriteAsync(output);
        }

        return path;
    }

    private string Local(string name, byte[] contents)
    {
        var path = Path.Combine(_scratch.FullName, name);
        File.WriteAllBytes(path, contents);
        return path;
    }

    /// <summary>Writes to a forward-only hashing sink (a pipe, to the writer).</summary>
    private static async Task<string> HashAsync(Iso9660Writer writer)
    {
        using var sha = SHA256.Create();
        await using (var sink = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write))
        {
            await writer.WriteAsync(sink);
        }

        return Convert.ToHexStringLower(sha.Hash!);
    }

    public void Dispose() => _scratch.Delete(recursive: true);
}

/// <summary>Generated trees: every kind of entry, long and non-ASCII names, deep paths, contents from a fixed generator.</summary>
internal static class GoldenTrees
{
    public const long Epoch = 1_700_000_000;

    /// <summary>The installer ISO's options (InstallerIsoBuilder): BIOS and UEFI El Torito, partition offset 16, the ESP appended as partition 2.</summary>
    public static IsoImageOptions InstallerIso(string espPath) => new()
    {
        VolumeId = "COS_LIVE",
        Timestamp = Epoch,
        ElTorito = new ElToritoOptions
        {
            CatalogPath = "boot/boot.catalog",
            HideCatalog = true,
            Entries =
            [
                new ElToritoBootEntry { Platform = ElToritoPlatform.Bios, ImagePath = "boot/eltorito.img", BootInfoTable = true, Grub2BootInfo = true },
                new ElToritoBootEntry { Platform = ElToritoPlatform.Efi, AppendedPartition = 2 },
            ],
        },
        Partitions = new HybridPartitionOptions
        {
            MbrBootCode = Bytes("boot_hybrid.img", 512),
            PartitionOffset = 16,
            ForceBootable = true,
            AppendedPartitions = [new AppendedPartition(2, 0xEF, espPath)],
        },
    };

    public static GoldenTree Rich()
    {
        var entries = new List<FileTreeEntry>();
        var deep = "deep";
        entries.Add(Directory(deep, Epoch));
        for (var level = 2; level <= 12; level++)
        {
            deep += $"/l{level}";
            entries.Add(Directory(deep, Epoch + level));
        }

        entries.Add(File(deep + "/bottom.txt", 42, Epoch));
        entries.Add(File(TestTrees.LongName, 19, Epoch + 1));
        entries.Add(File(TestTrees.NonAsciiName, 15, Epoch + 2));
        entries.Add(File(TestTrees.EmojiName, 16, Epoch + 3));
        entries.Add(Directory("dir", Epoch));
        entries.Add(Directory("dir/sub", Epoch));
        entries.Add(File("dir/file.txt", 11, Epoch));
        entries.Add(File("dir/FILE.TXT", 33, Epoch));
        entries.Add(File("dir/sub/a.b.c.d", 5, Epoch));
        entries.Add(Directory("sizes", Epoch));
        foreach (var size in new[] { 1, 2047, 2048, 2049, 65537, 1 << 20 })
        {
            entries.Add(File($"sizes/size-{size}.bin", size, Epoch - size));
        }

        entries.Add(File("empty-1", 0, Epoch));
        entries.Add(File("dir/empty-2", 0, Epoch));
        entries.Add(Symlink("link-relative", "dir/file.txt") with { Uid = 42, Gid = 43 });
        entries.Add(Symlink("link-absolute", "/etc/hostname"));
        entries.Add(Symlink("dir/sub/link-parent", "../../dir/./file.txt"));
        entries.Add(Symlink("link-long", TestTrees.LongSymlinkTarget));
        entries.Add(Symlink("link-dangling", "nowhere"));
        entries.Add(Symlink("link-huge-component", "../" + new string('h', 300) + "/end"));
        entries.Add(File("hard-a", 20, Epoch));
        entries.Add(new FileTreeEntry { Path = "dir/hard-b", Kind = FileTreeEntryKind.Hardlink, Mode = 0x1A4, LinkTarget = "hard-a", ModificationTime = Epoch });
        entries.Add(new FileTreeEntry { Path = "dev-null", Kind = FileTreeEntryKind.CharacterDevice, Mode = 0x1B6, DeviceMajor = 1, DeviceMinor = 3, ModificationTime = Epoch });
        entries.Add(new FileTreeEntry { Path = "dev-loop7", Kind = FileTreeEntryKind.BlockDevice, Mode = 0x1B0, DeviceMajor = 7, DeviceMinor = 7, ModificationTime = Epoch, Gid = 6 });
        entries.Add(new FileTreeEntry { Path = "dev-large", Kind = FileTreeEntryKind.CharacterDevice, Mode = 0x180, DeviceMajor = 4095 + 7, DeviceMinor = 300_000, ModificationTime = Epoch });
        entries.Add(new FileTreeEntry { Path = "fifo", Kind = FileTreeEntryKind.Fifo, Mode = 0x1A4, ModificationTime = Epoch });
        entries.Add(new FileTreeEntry { Path = "socket", Kind = FileTreeEntryKind.Socket, Mode = 0x1ED, ModificationTime = Epoch });
        entries.Add(File("secret", 31, Epoch) with { Mode = 0x180, Uid = 1234, Gid = 5678 });
        entries.Add(File("setuid-tool", 10, Epoch) with { Mode = 0x9ED });
        entries.Add(Directory("sticky", Epoch) with { Mode = 0x3FF });
        return new GoldenTree(entries);
    }

    /// <summary>Many small files over a few directories, so directories span several blocks.</summary>
    public static GoldenTree Many(int files)
    {
        var entries = new List<FileTreeEntry>();
        for (var i = 0; i < files; i++)
        {
            entries.Add(File($"group-{i % 10:D2}/entry-{i:D4}-with-a-fairly-long-name.txt", 17 + i * 37 % 3000, Epoch - i));
        }

        return new GoldenTree(entries);
    }

    public static FileTreeEntry File(string path, long size, long time) =>
        new() { Path = path, Kind = FileTreeEntryKind.RegularFile, Mode = 0x1A4, Size = size, ModificationTime = time };

    private static FileTreeEntry Directory(string path, long time) =>
        new() { Path = path, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED, ModificationTime = time };

    private static FileTreeEntry Symlink(string path, string target) =>
        new() { Path = path, Kind = FileTreeEntryKind.Symlink, Mode = 0x1FF, LinkTarget = target, ModificationTime = Epoch };

    /// <summary>Contents of a file: xorshift bytes seeded by the name (FNV-1a), not System.Random, so no runtime change moves them.</summary>
    public static byte[] Bytes(string name, int length)
    {
        var bytes = new byte[length];
        new GeneratedContents(name, length).ReadExactly(bytes);
        return bytes;
    }
}

/// <summary>A tree of given entries whose regular files deliver generated contents, in entry order.</summary>
internal sealed class GoldenTree(IReadOnlyList<FileTreeEntry> entries) : IFileTreeSource
{
    public IReadOnlyList<FileTreeEntry> Entries => entries;

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        foreach (var entry in entries.Where(e => e.Kind == FileTreeEntryKind.RegularFile))
        {
            await using var stream = new GeneratedContents(entry.Path, entry.Size);
            await consumer(entry, stream, cancellationToken);
        }
    }
}

/// <summary>
/// Generated file contents: files up to 16 MiB are xorshift bytes; a larger one is zeros with the generator's bytes in
/// its first and last 64 KiB and around every 4 GiB boundary, so a multi-extent file costs no memory and little time.
/// </summary>
internal sealed class GeneratedContents : Stream
{
    private const long Dense = 16 << 20;
    private const long Window = 64 << 10;
    private readonly long _length;
    private readonly ulong _seed;
    private long _position;

    public GeneratedContents(string name, long length)
    {
        _length = length;
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        _seed = hash | 1;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, _length - _position);
        var at = 0;
        while (at < count)
        {
            var offset = _position + at;
            var denseEnd = DenseEnd(offset);
            var run = (int)Math.Min(count - at, Math.Abs(denseEnd - offset));
            if (denseEnd > offset)
            {
                for (var i = 0; i < run; i++)
                {
                    buffer[at + i] = Generated(offset + i);
                }
            }
            else
            {
                buffer.Slice(at, run).Clear();
            }

            at += run;
        }

        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    /// <summary>Where the generated run containing <paramref name="offset"/> ends (positive), or minus where the zero run ends.</summary>
    private long DenseEnd(long offset)
    {
        if (_length <= Dense || offset >= _length - Window)
        {
            return _length;
        }

        const long boundary = 4L << 30;
        var next = (offset / boundary + 1) * boundary;
        var previous = next - boundary;
        if (offset < previous + Window)
        {
            return previous + Window;
        }

        var zerosEnd = Math.Min(next - Window, _length - Window);
        return offset >= zerosEnd ? Math.Min(next + Window, _length) : -zerosEnd;
    }

    private byte Generated(long offset)
    {
        var x = _seed + (ulong)offset * 0x9E3779B97F4A7C15UL;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return (byte)(x >> 24);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
