namespace EdgeForge.Compression.Tests;

/// <summary>zlib one-shot helpers (the SquashFS "gzip" format) and gzip streams, held against the gzip tool.</summary>
public sealed class ZLibTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("ef-zlib-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    public void TryCompress_round_trips_and_writes_a_zlib_header(int level)
    {
        var data = SampleData.HalfCompressible(200_000);
        var compressed = new byte[data.Length];
        ZLib.TryCompress(data, compressed, level, out var written).ShouldBeTrue();
        written.ShouldBeLessThan(data.Length);

        // RFC 1950 §2.2: CMF 0x78 (deflate, 32 KiB window) and a header whose 16-bit value is a multiple of 31.
        compressed[0].ShouldBe((byte)0x78);
        ((compressed[0] << 8 | compressed[1]) % 31).ShouldBe(0);

        var restored = new byte[data.Length];
        ZLib.Decompress(compressed.AsSpan(0, written), restored).ShouldBe(data.Length);
        restored.ShouldBe(data);
    }

    [Fact]
    public void TryCompress_says_so_when_the_result_does_not_fit()
    {
        var random = new byte[4096];
        new Random(3).NextBytes(random);
        ZLib.TryCompress(random, new byte[4095], 9, out var written).ShouldBeFalse();
        written.ShouldBe(0);
    }

    [Fact]
    public void Blocks_interoperate_with_the_classic_zlib_of_python()
    {
        // Python's zlib module is the reference zlib (libz.so.1), not libdeflate: it must read what we write at every
        // level, and we must read what it writes.
        var data = SampleData.HalfCompressible(300_000);
        File.WriteAllBytes(Path.Combine(_work, "data"), data);
        for (var level = ZLib.MinLevel; level <= ZLib.MaxLevel; level++)
        {
            var compressed = new byte[data.Length + 1024];
            ZLib.TryCompress(data, compressed, level, out var written).ShouldBeTrue();
            File.WriteAllBytes(Path.Combine(_work, $"ours-{level}.z"), compressed.AsSpan(0, written).ToArray());
        }

        const string script = """
            import sys, zlib
            work = sys.argv[1]
            data = open(work + "/data", "rb").read()
            for level in range(10):
                assert zlib.decompress(open(f"{work}/ours-{level}.z", "rb").read()) == data, level
                open(f"{work}/theirs-{level}.z", "wb").write(zlib.compress(data, level))
            """;
        ExternalTool.Output("python3", "-c", script, _work);
        for (var level = ZLib.MinLevel; level <= ZLib.MaxLevel; level++)
        {
            var restored = new byte[data.Length];
            ZLib.Decompress(File.ReadAllBytes(Path.Combine(_work, $"theirs-{level}.z")), restored).ShouldBe(data.Length, $"level {level}");
            restored.ShouldBe(data);
        }
    }

    [Fact]
    public void Decompress_refuses_truncated_corrupt_and_oversized_input()
    {
        var data = SampleData.HalfCompressible(100_000);
        var compressed = new byte[data.Length];
        ZLib.TryCompress(data, compressed, 6, out var written).ShouldBeTrue();
        var output = new byte[data.Length];

        Should.Throw<InvalidDataException>(() => ZLib.Decompress(compressed.AsSpan(0, written - 4), output))
            .Message.ShouldContain("not a complete zlib stream");
        var corrupt = compressed.AsSpan(0, written).ToArray();
        corrupt[^1] ^= 0xFF;  // the Adler-32 trailer
        Should.Throw<InvalidDataException>(() => ZLib.Decompress(corrupt, output));
        Should.Throw<InvalidDataException>(() => ZLib.Decompress(compressed.AsSpan(0, written), new byte[data.Length - 1]))
            .Message.ShouldContain("does not fit");
    }

    [Fact]
    public void Levels_outside_zlibs_range_are_refused()
    {
        Should.Throw<ArgumentOutOfRangeException>(() => ZLib.TryCompress([1, 2, 3], new byte[64], 10, out _));
        Should.Throw<ArgumentOutOfRangeException>(() => ZLib.TryCompress([1, 2, 3], new byte[64], -1, out _));
    }

    [Fact]
    public async Task Gzip_streams_interoperate_with_the_gzip_tool()
    {
        var data = SampleData.HalfCompressible(1 << 20);
        var file = Path.Combine(_work, "data.gz");
        await using (var output = File.Create(file))
        await using (var gzip = Gzip.CreateCompressStream(output, level: 9))
        {
            await gzip.WriteAsync(data);
        }

        var (exitCode, _, error) = ExternalTool.Run("gzip", "-d", "-k", file);
        exitCode.ShouldBe(0, error);
        File.ReadAllBytes(Path.Combine(_work, "data")).ShouldBe(data);

        ExternalTool.Run("gzip", "-f", "-k", "-1", Path.Combine(_work, "data")).ExitCode.ShouldBe(0);
        await using var input = File.OpenRead(file);
        await using var gunzip = Gzip.CreateDecompressStream(input);
        using var restored = new MemoryStream();
        await gunzip.CopyToAsync(restored);
        restored.ToArray().ShouldBe(data);
    }
}
