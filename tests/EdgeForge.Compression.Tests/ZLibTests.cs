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
        ZLib.Decompress(compressed.AsMemory(0, written), restored).ShouldBe(data.Length);
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
