namespace EdgeForge.Compression.Tests;

/// <summary>
/// Given data compressed by EdgeForge, the zstd tool restores it; given files the zstd tool made (single frames,
/// multithreaded, concatenated), EdgeForge restores them; broken input fails with a ZstdException that says why.
/// </summary>
public sealed class ZstdTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("ef-zstd-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public void The_version_is_the_system_libzstd_the_zstd_tool_also_reports()
    {
        Zstd.Version.ShouldMatch(@"^\d+\.\d+\.\d+$");
        ExternalTool.Output("zstd", "--version").ShouldContain($"v{Zstd.Version}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(19)]
    public void One_shot_output_decompresses_with_the_zstd_tool(int level)
    {
        var data = SampleData.HalfCompressible(3_000_000);
        var compressed = new byte[Zstd.CompressBound(data.Length)];
        var length = Zstd.Compress(data, compressed, level);
        length.ShouldBeLessThan(data.Length);

        var file = Path.Combine(_work, "one-shot.zst");
        File.WriteAllBytes(file, compressed[..length]);
        ExternalTool.Output("zstd", "-d", "-q", file, "-o", Path.Combine(_work, "one-shot"));
        File.ReadAllBytes(Path.Combine(_work, "one-shot")).ShouldBe(data);
    }

    [Fact]
    public void One_shot_decompression_reads_what_the_zstd_tool_wrote_and_joins_concatenated_frames()
    {
        var first = SampleData.HalfCompressible(100_000, seed: 1);
        var second = SampleData.HalfCompressible(50_000, seed: 2);
        File.WriteAllBytes(Path.Combine(_work, "a"), first);
        File.WriteAllBytes(Path.Combine(_work, "b"), second);
        ExternalTool.Output("zstd", "-q", "-19", Path.Combine(_work, "a"), "-o", Path.Combine(_work, "a.zst"));
        ExternalTool.Output("zstd", "-q", "-1", Path.Combine(_work, "b"), "-o", Path.Combine(_work, "b.zst"));
        var joined = File.ReadAllBytes(Path.Combine(_work, "a.zst")).Concat(File.ReadAllBytes(Path.Combine(_work, "b.zst"))).ToArray();

        var output = new byte[first.Length + second.Length];
        Zstd.Decompress(joined, output).ShouldBe(output.Length);
        output.ShouldBe(first.Concat(second).ToArray());
    }

    [Fact]
    public void Compress_reports_a_destination_too_small_as_a_ZstdException_and_TryCompress_as_false()
    {
        var data = SampleData.HalfCompressible(10_000);
        Should.Throw<ZstdException>(() => Zstd.Compress(data, new byte[10], 3)).Message.ShouldContain("too small");
        Zstd.TryCompress(data, new byte[10], 3, out var written).ShouldBeFalse();
        written.ShouldBe(0);
        Should.Throw<ArgumentOutOfRangeException>(() => Zstd.Compress(data, new byte[20_000], 99));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task Streaming_output_decompresses_with_the_zstd_tool(int workers)
    {
        // 24 MiB: several of libzstd's multithreading jobs at level 3.
        var data = SampleData.HalfCompressible(24 << 20);
        var file = Path.Combine(_work, "stream.zst");
        await using (var output = File.Create(file))
        await using (var compressor = new ZstdCompressStream(output, level: 3, workers: workers))
        {
            // Uneven writes, sync and async, as callers do.
            compressor.Write(data, 0, 1);
            await compressor.WriteAsync(data.AsMemory(1, 5_000_000));
            compressor.Write(data.AsSpan(5_000_001, 3));
            await compressor.FlushAsync();
            await compressor.WriteAsync(data.AsMemory(5_000_004));
        }

        ExternalTool.Output("zstd", "-t", "-q", file);
        ExternalTool.Output("zstd", "-d", "-q", file, "-o", Path.Combine(_work, "stream"));
        File.ReadAllBytes(Path.Combine(_work, "stream")).AsSpan().SequenceEqual(data).ShouldBeTrue();
    }

    [Theory]
    [InlineData("-3")]
    [InlineData("-19")]
    [InlineData("-T2 -3 --long=24")]
    public async Task Streaming_decompression_reads_what_the_zstd_tool_wrote(string options)
    {
        var data = SampleData.HalfCompressible(9 << 20);
        var plain = Path.Combine(_work, "plain");
        File.WriteAllBytes(plain, data);
        ExternalTool.Output("zstd", [.. options.Split(' '), "-q", plain, "-o", plain + ".zst"]);

        await using var input = File.OpenRead(plain + ".zst");
        await using var decompressor = new ZstdDecompressStream(input);
        using var restored = new MemoryStream();
        await decompressor.CopyToAsync(restored, 65_537);
        restored.ToArray().AsSpan().SequenceEqual(data).ShouldBeTrue();
    }

    [Fact]
    public void Streaming_decompression_joins_concatenated_frames_byte_by_byte()
    {
        File.WriteAllText(Path.Combine(_work, "a"), "first frame;");
        File.WriteAllText(Path.Combine(_work, "b"), "second frame");
        ExternalTool.Output("zstd", "-q", Path.Combine(_work, "a"), "-o", Path.Combine(_work, "a.zst"));
        ExternalTool.Output("zstd", "-q", Path.Combine(_work, "b"), "-o", Path.Combine(_work, "b.zst"));
        var joined = File.ReadAllBytes(Path.Combine(_work, "a.zst")).Concat(File.ReadAllBytes(Path.Combine(_work, "b.zst"))).ToArray();

        using var decompressor = new ZstdDecompressStream(new MemoryStream(joined));
        var text = new List<byte>();
        for (var b = decompressor.ReadByte(); b >= 0; b = decompressor.ReadByte())
        {
            text.Add((byte)b);
        }

        System.Text.Encoding.ASCII.GetString([.. text]).ShouldBe("first frame;second frame");
    }

    [Fact]
    public void Truncated_input_throws_a_ZstdException_saying_so()
    {
        var data = SampleData.HalfCompressible(1 << 20);
        var compressed = new byte[Zstd.CompressBound(data.Length)];
        var length = Zstd.Compress(data, compressed, 3);

        using var decompressor = new ZstdDecompressStream(new MemoryStream(compressed, 0, length - 10));
        var failure = Should.Throw<ZstdException>(() => decompressor.CopyTo(Stream.Null));
        failure.Message.ShouldContain("truncated");
        Should.Throw<ZstdException>(() => Zstd.Decompress(compressed.AsSpan(0, length - 10), new byte[data.Length]));
    }

    [Fact]
    public void Corrupt_input_throws_a_ZstdException_naming_the_problem()
    {
        // The zstd tool writes a content checksum (RFC 8878 §3.1.1), so a flipped byte inside the data is caught.
        File.WriteAllBytes(Path.Combine(_work, "data"), SampleData.HalfCompressible(1 << 16));
        ExternalTool.Output("zstd", "-q", Path.Combine(_work, "data"), "-o", Path.Combine(_work, "data.zst"));
        var compressed = File.ReadAllBytes(Path.Combine(_work, "data.zst"));
        compressed[compressed.Length / 2] ^= 0xFF;

        using var flipped = new ZstdDecompressStream(new MemoryStream(compressed));
        Should.Throw<ZstdException>(() => flipped.CopyTo(Stream.Null)).Message.ShouldStartWith("zstd: corrupt input:");

        using var notZstd = new ZstdDecompressStream(new MemoryStream("this is not zstd"u8.ToArray()));
        var failure = Should.Throw<ZstdException>(() => notZstd.CopyTo(Stream.Null));
        failure.ErrorName.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public void Streams_carry_a_checksum_so_corruption_of_our_own_output_is_caught()
    {
        var data = SampleData.HalfCompressible(1 << 16);
        var output = new MemoryStream();
        using (var compressor = new ZstdCompressStream(output, leaveOpen: true))
        {
            compressor.Write(data);
        }

        var compressed = output.ToArray();
        compressed[compressed.Length / 2] ^= 0xFF;
        using var flipped = new ZstdDecompressStream(new MemoryStream(compressed));
        Should.Throw<ZstdException>(() => flipped.CopyTo(Stream.Null));
    }

    [Fact]
    public void An_empty_input_is_an_empty_stream()
    {
        using var decompressor = new ZstdDecompressStream(new MemoryStream());
        decompressor.ReadByte().ShouldBe(-1);
    }

    [Fact]
    public void The_streams_leave_the_inner_stream_open_only_when_asked()
    {
        var kept = new MemoryStream();
        new ZstdCompressStream(kept, leaveOpen: true).Dispose();
        kept.CanWrite.ShouldBeTrue();
        kept.Length.ShouldBeGreaterThan(0, "an empty frame is still a frame");

        var closed = new MemoryStream();
        new ZstdCompressStream(closed).Dispose();
        closed.CanWrite.ShouldBeFalse();

        var input = new MemoryStream(kept.ToArray());
        new ZstdDecompressStream(input, leaveOpen: true).Dispose();
        input.CanRead.ShouldBeTrue();
    }
}
