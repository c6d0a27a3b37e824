using EdgeForge.FileTree;

namespace EdgeForge.SquashFs.Tests;

/// <summary>
/// Given files that share a size and a first block but not all their bytes, when EdgeForge writes the image, then
/// only byte-identical files share their data — whether the first copy's tail still sits in the fragment being
/// filled or was written out long before, its blocks were compressed or stored raw, or it has holes.
/// </summary>
public sealed class DuplicateDetectionTests : IDisposable
{
    private const int BlockSize = 4096;

    private readonly string _work = Directory.CreateTempSubdirectory("ef-sqfs-dup-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData(SquashFsCompressor.Gzip)]
    [InlineData(SquashFsCompressor.Zstd)]
    public async Task Only_byte_identical_files_share_their_data(SquashFsCompressor compressor)
    {
        var (source, contents, expectedDuplicates) = LookalikeTree();
        var image = Path.Combine(_work, "image.squashfs");
        var result = await SquashFsWriter.WriteFileAsync(source, image, new SquashFsOptions { Compressor = compressor, BlockSize = BlockSize });

        result.DuplicateFiles.ShouldBe(expectedDuplicates);
        var extracted = Path.Combine(_work, "extracted");
        ExternalTool.Output("unsquashfs", "-d", extracted, image);
        foreach (var (path, bytes) in contents)
        {
            File.ReadAllBytes(Path.Combine(extracted, path)).AsSpan().SequenceEqual(bytes).ShouldBeTrue(path);
        }
    }

    [Fact]
    public async Task An_output_that_cannot_be_read_back_gets_the_same_image()
    {
        // Such an output makes the writer SHA-256 every same-sized file as it streams by instead of hashing a
        // group's first file from the image: a different route to the same decisions, so the same bytes.
        var (source, _, _) = LookalikeTree();
        using var readable = new MemoryStream();
        await SquashFsWriter.WriteAsync(source, readable, new SquashFsOptions { BlockSize = BlockSize, Processors = 2 });
        using var writeOnly = new WriteOnlyStream();
        await SquashFsWriter.WriteAsync(source, writeOnly, new SquashFsOptions { BlockSize = BlockSize, Processors = 2 });

        writeOnly.Inner.ToArray().AsSpan().SequenceEqual(readable.ToArray()).ShouldBeTrue();
    }

    [Fact]
    public void Equal_bytes_give_equal_fingerprints_and_a_changed_byte_another()
    {
        var bytes = new byte[BlockSize + 7];
        new Random(7).NextBytes(bytes);
        var copy = bytes.ToArray();
        DataPipeline.Fingerprint(copy).ShouldBe(DataPipeline.Fingerprint(bytes));
        foreach (var position in new[] { 0, 8, 31, 32, BlockSize, BlockSize + 6 })
        {
            copy[position] ^= 1;
            DataPipeline.Fingerprint(copy).ShouldNotBe(DataPipeline.Fingerprint(bytes), $"byte {position}");
            copy[position] ^= 1;
        }
    }

    /// <summary>
    /// Files in delivery order, each lookalike family sharing a size and a first block, with how many of them are
    /// true duplicates.
    /// </summary>
    private static (IFileTreeSource Source, List<(string Path, byte[] Bytes)> Contents, int Duplicates) LookalikeTree()
    {
        var random = new Random(20261203);
        byte[] Compressible(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);
            for (var i = 0; i < length; i += 2)
            {
                bytes[i] = (byte)(i % 251);
            }

            return bytes;
        }

        byte[] Changed(byte[] original, int position)
        {
            var copy = original.ToArray();
            copy[position] ^= 0x5A;
            return copy;
        }

        var contents = new List<(string Path, byte[] Bytes)>();
        var duplicates = 0;
        void Add(string path, byte[] bytes, bool isDuplicate = false)
        {
            contents.Add((path, bytes));
            duplicates += isDuplicate ? 1 : 0;
        }

        // Blocks: compressible, raw (random), compressible, and a tail.
        var layered = Compressible(3 * BlockSize + 100);
        random.NextBytes(layered.AsSpan(BlockSize, BlockSize));
        Add("blocks/base", layered);
        Add("blocks/later-block-differs", Changed(layered, 2 * BlockSize + 5));
        Add("blocks/raw-block-differs", Changed(layered, BlockSize + 9));
        Add("blocks/tail-differs", Changed(layered, layered.Length - 1));
        Add("blocks/copy-of-later-block-differs", Changed(layered, 2 * BlockSize + 5), isDuplicate: true);
        Add("blocks/copy-of-base", layered.ToArray(), isDuplicate: true);

        // Exactly one block, so no tail: the fingerprint covers all of it.
        var oneBlock = Compressible(BlockSize);
        Add("one-block/first", oneBlock);
        Add("one-block/other", Compressible(BlockSize));
        Add("one-block/copy", oneBlock.ToArray(), isDuplicate: true);

        // Holes: all-zero blocks are not stored, so the first copy's hole must read back as zeros.
        var holey = Compressible(3 * BlockSize + 10);
        Array.Clear(holey, BlockSize, BlockSize);
        Add("holes/first", holey);
        var filled = holey.ToArray();
        filled[BlockSize + 1] = 1;
        Add("holes/hole-filled", filled);
        var moreHoles = holey.ToArray();
        Array.Clear(moreHoles, 2 * BlockSize, BlockSize);
        Add("holes/another-hole", moreHoles);
        Add("holes/copy", holey.ToArray(), isDuplicate: true);

        // Small files: the first copy's tail is still in the fragment being filled.
        var small = Compressible(300);
        Add("small/first", small);
        Add("small/last-byte-differs", Changed(small, 299));
        Add("small/copy-nearby", small.ToArray(), isDuplicate: true);
        var otherSmall = Compressible(200);
        Add("small/other", otherSmall);

        // Fillers of distinct sizes push several fragment blocks out, so the next copies' first files are read back
        // from fragments already in the image.
        for (var i = 0; i < 40; i++)
        {
            Add($"fillers/{i:D2}", Compressible(1000 + i * 17));
        }

        Add("small/copy-far-away", small.ToArray(), isDuplicate: true);
        Add("small/copy-of-last-byte-differs", Changed(small, 299), isDuplicate: true);

        // Its first copy shares a fragment with small/first's: read back from the fragment just decompressed.
        Add("small/copy-of-other", otherSmall.ToArray(), isDuplicate: true);

        // Empty files are never duplicates: they have no data to share.
        Add("empty/a", []);
        Add("empty/b", []);

        var entries = contents.Select(c => InMemoryFileTreeSource.File(c.Path, c.Bytes.Length)).ToList();
        return (new InMemoryFileTreeSource(entries, contents.ToDictionary(c => c.Path, c => c.Bytes)), contents, duplicates);
    }

    /// <summary>A seekable, writable stream that cannot be read, over a memory stream.</summary>
    private sealed class WriteOnlyStream : Stream
    {
        public MemoryStream Inner { get; } = new();

        public override bool CanRead => false;
        public override bool CanSeek => true;
        public override bool CanWrite => true;
        public override long Length => Inner.Length;
        public override long Position { get => Inner.Position; set => Inner.Position = value; }

        public override void Flush() => Inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => Inner.Seek(offset, origin);
        public override void SetLength(long value) => Inner.SetLength(value);
        public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
