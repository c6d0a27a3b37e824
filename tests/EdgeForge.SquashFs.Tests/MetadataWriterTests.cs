using System.Buffers.Binary;

namespace EdgeForge.SquashFs.Tests;

/// <summary>The metadata block framing the kernel reads (format.adoc "Packing Metadata"), checked byte by byte.</summary>
public sealed class MetadataWriterTests
{
    [Fact]
    public void Blocks_that_do_not_shrink_are_stored_raw_with_bit_15_set_and_references_track_compressed_offsets()
    {
        var compressor = BlockCompressor.Create(new SquashFsOptions { Compressor = SquashFsCompressor.Zstd });
        using var table = new MemoryStream();
        var writer = new MetadataWriter(table, compressor);
        var random = new byte[SquashFsFormat.MetadataBlockSize];
        new Random(5).NextBytes(random);

        writer.Reference.ShouldBe(0UL);
        writer.Write(random);
        writer.Reference.ShouldBe((ulong)(2 + SquashFsFormat.MetadataBlockSize) << 16, "a full block is flushed at once");
        writer.Write(new byte[100]);
        writer.Reference.ShouldBe(((ulong)(2 + SquashFsFormat.MetadataBlockSize) << 16) | 100);
        writer.Finish();

        var bytes = table.ToArray();
        BinaryPrimitives.ReadUInt16LittleEndian(bytes).ShouldBe((ushort)(0x8000 | SquashFsFormat.MetadataBlockSize));
        bytes.AsSpan(2, SquashFsFormat.MetadataBlockSize).SequenceEqual(random).ShouldBeTrue();
        var second = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 + SquashFsFormat.MetadataBlockSize));
        (second & 0x8000).ShouldBe(0, "100 zero bytes compress");
        bytes.Length.ShouldBe(2 + SquashFsFormat.MetadataBlockSize + 2 + second);
    }

    [Fact]
    public void Lookup_tables_end_with_the_absolute_position_of_each_block()
    {
        var compressor = BlockCompressor.Create(new SquashFsOptions { Compressor = SquashFsCompressor.Gzip });
        using var image = new MemoryStream();
        image.Write(new byte[1000]);
        var entries = new byte[SquashFsFormat.MetadataBlockSize * 2 + 16];
        var listStart = MetadataWriter.WriteLookupTable(image, compressor, entries);

        var bytes = image.ToArray();
        (bytes.Length - listStart).ShouldBe(3 * 8);
        var positions = Enumerable.Range(0, 3).Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)listStart + i * 8))).ToArray();
        positions[0].ShouldBe(1000);
        positions[1].ShouldBe(1000 + 2 + (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(1000)) & 0x7FFF));
        positions[2].ShouldBeGreaterThan(positions[1]);
    }
}
