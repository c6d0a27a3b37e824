using EdgeForge.FileTree;
using EdgeForge.Oci.Layers;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

public class DeterministicTarWriterTests : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Binary_and_text_extended_attributes_reach_gnu_tar_byte_for_byte()
    {
        var tarPath = _directory.Combine("attrs.tar");
        byte[] binary = [0x00, 0xff, 0x01, 0x80, 0x0a, 0x3d];
        await using (var file = File.Create(tarPath))
        {
            await using var writer = new DeterministicTarWriter(file, 0);
            var content = "payload"u8.ToArray();
            await writer.WriteEntryAsync(new FileTreeEntry
            {
                Path = "file-with-attributes",
                Kind = FileTreeEntryKind.RegularFile,
                Mode = 0x1A4,
                Size = content.Length,
                ExtendedAttributes = new Dictionary<string, byte[]> { ["user.binary"] = binary, ["user.text"] = "héllo"u8.ToArray() },
            }, new MemoryStream(content));
            await writer.WriteEntryAsync(new FileTreeEntry { Path = "dev/null", Kind = FileTreeEntryKind.CharacterDevice, Mode = 0x1B6, DeviceMajor = 1, DeviceMinor = 3 }, null);
            await writer.WriteEntryAsync(new FileTreeEntry { Path = "dev/fifo", Kind = FileTreeEntryKind.Fifo, Mode = 0x1A4 }, null);
        }

        var listing = await ExternalTool.RunAsync("tar", "-tvf", tarPath);
        listing.ShouldContain("1,3");
        listing.ShouldContain("dev/fifo");
        var output = _directory.Combine("out");
        Directory.CreateDirectory(output);
        await ExternalTool.RunAsync("tar", "--xattrs", "--xattrs-include=user.*", "-xf", tarPath, "-C", output, "file-with-attributes");
        File.ReadAllText(Path.Combine(output, "file-with-attributes")).ShouldBe("payload");
        var hex = await ExternalTool.RunAsync("getfattr", "-e", "hex", "-n", "user.binary", Path.Combine(output, "file-with-attributes"));
        hex.ShouldContain("user.binary=0x" + Convert.ToHexStringLower(binary));
        var text = await ExternalTool.RunAsync("getfattr", "--only-values", "-n", "user.text", Path.Combine(output, "file-with-attributes"));
        text.ShouldBe("héllo");

        // And our own reader (the flattened view) gets the very same bytes back.
        var tree = await ImageFileTree.LoadAsync([_ => Task.FromResult<Stream>(File.OpenRead(tarPath))]);
        var entry = tree.Entries.Single(e => e.Path == "file-with-attributes");
        entry.ExtendedAttributes["user.binary"].ShouldBe(binary);
        entry.ExtendedAttributes["user.text"].ShouldBe("héllo"u8.ToArray());
    }

    [Fact]
    public async Task Binary_attributes_stored_raw_by_gnu_tar_are_read_exactly_and_rewritten_reproducibly()
    {
        var source = _directory.Combine("src");
        Directory.CreateDirectory(source);
        var file = Path.Combine(source, "ping");
        await File.WriteAllTextAsync(file, "binary");
        await ExternalTool.RunAsync("setfattr", "-n", "user.cap", "-v", "0x0100000200200000ff00", file);
        var tarPath = _directory.Combine("gnu.tar");
        await ExternalTool.RunAsync("tar", "--xattrs", "--xattrs-include=user.*", "--format=posix", "-cf", tarPath, "-C", source, "ping");

        var tree = await ImageFileTree.LoadAsync([_ => Task.FromResult<Stream>(File.OpenRead(tarPath))]);
        byte[] expected = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0xff, 0x00];
        tree.Entries.Single(e => e.Path == "ping").ExtendedAttributes["user.cap"].ShouldBe(expected);

        var root = _directory.Combine("extracted");
        await using (var tar = File.OpenRead(tarPath))
        {
            await SafeExtractor.ExtractLayerAsync(tar, root);
        }

        (await ExternalTool.RunAsync("getfattr", "-e", "hex", "-n", "user.cap", Path.Combine(root, "ping"))).ShouldContain("user.cap=0x0100000200200000ff00");
    }
}
