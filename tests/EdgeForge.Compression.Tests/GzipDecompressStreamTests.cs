namespace EdgeForge.Compression.Tests;

/// <summary>The ISA-L gzip reader, held against what the gzip tool writes and reads.</summary>
public sealed class GzipDecompressStreamTests : IDisposable
{
    private readonly TestDirectory _scratch = new("ef-gunzip-");

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(6, 511)]
    [InlineData(9, 200_000)]
    public async Task Reads_what_gzip_writes_whatever_the_read_size(int level, int readSize)
    {
        var data = WriteData("data", 3 << 20);
        var compressed = GzipTool(level, "data");

        File.ReadAllBytes(compressed).Length.ShouldBeLessThan(data.Length);
        ReadAll(compressed, readSize).ShouldBe(data);
        (await ReadAllAsync(compressed, readSize)).ShouldBe(data);
    }

    [Fact]
    public void Members_written_back_to_back_read_as_one_stream()
    {
        var first = WriteData("first", 100_000, seed: 1);
        var second = WriteData("second", 70_000, seed: 2);
        var joined = _scratch.Combine("joined.gz");
        File.WriteAllBytes(joined, [.. File.ReadAllBytes(GzipTool(6, "first")), .. File.ReadAllBytes(GzipTool(1, "second"))]);

        ReadAll(joined, 4096).ShouldBe([.. first, .. second]);
        // What gzip -d makes of the same file.
        ExternalTool.Run("gzip", "-d", "-f", joined).ExitCode.ShouldBe(0);
        File.ReadAllBytes(_scratch.Combine("joined")).ShouldBe([.. first, .. second]);
    }

    [Fact]
    public void An_empty_member_is_an_empty_stream()
    {
        File.WriteAllBytes(_scratch.Combine("empty"), []);
        ReadAll(GzipTool(6, "empty"), 100).ShouldBeEmpty();
    }

    [Fact]
    public void Truncated_corrupt_and_trailing_input_is_refused_as_gzip_refuses_it()
    {
        WriteData("data", 1 << 20);
        var good = File.ReadAllBytes(GzipTool(6, "data"));

        var truncated = _scratch.Combine("truncated.gz");
        File.WriteAllBytes(truncated, good[..^100]);
        Should.Throw<InvalidDataException>(() => ReadAll(truncated, 65536)).Message.ShouldContain("truncated");
        ExternalTool.Run("gzip", "-t", truncated).ExitCode.ShouldNotBe(0);

        // A flipped bit in the CRC-32 of the trailer: the data decodes, the check must not pass.
        var badCrc = _scratch.Combine("bad-crc.gz");
        var flipped = good.ToArray();
        flipped[^8] ^= 0x01;
        File.WriteAllBytes(badCrc, flipped);
        Should.Throw<InvalidDataException>(() => ReadAll(badCrc, 65536)).Message.ShouldContain("CRC-32");
        ExternalTool.Run("gzip", "-t", badCrc).ExitCode.ShouldNotBe(0);

        // An empty file is no gzip member either (GZipStream, replaced by this stream, read it as empty).
        var empty = _scratch.Combine("empty-file.gz");
        File.WriteAllBytes(empty, []);
        Should.Throw<InvalidDataException>(() => ReadAll(empty, 65536)).Message.ShouldContain("truncated");
        ExternalTool.Run("gzip", "-t", empty).ExitCode.ShouldNotBe(0);

        var trailing = _scratch.Combine("trailing.gz");
        File.WriteAllBytes(trailing, [.. good, .. "not gzip"u8.ToArray()]);
        Should.Throw<InvalidDataException>(() => ReadAll(trailing, 65536)).Message.ShouldContain("not a gzip member");
    }

    [Fact]
    public void The_inflate_state_layout_is_that_of_the_installed_isa_l_header()
    {
        // The struct is allocated by the caller: its size and field offsets must be the library's (igzip_lib.h).
        var source = _scratch.Combine("layout.c");
        File.WriteAllText(source, """
            #include <isa-l/igzip_lib.h>
            #include <stddef.h>
            #include <stdio.h>
            int main(void) {
              printf("%zu %zu %zu %zu %zu %zu %zu %zu %d %d\n", sizeof(struct inflate_state),
                offsetof(struct inflate_state, next_out), offsetof(struct inflate_state, avail_out),
                offsetof(struct inflate_state, total_out), offsetof(struct inflate_state, next_in),
                offsetof(struct inflate_state, avail_in), offsetof(struct inflate_state, block_state),
                offsetof(struct inflate_state, crc_flag), ISAL_BLOCK_FINISH, ISAL_GZIP);
              return 0;
            }
            """);
        var program = _scratch.Combine("layout");
        ExternalTool.Output("gcc", "-o", program, source);
        ExternalTool.Output(program).Trim().ShouldBe(
            $"{IsalNative.InflateStateSize} 0 8 12 16 32 {IsalNative.BlockStateOffset} {IsalNative.CrcFlagOffset} " +
            $"{IsalNative.BlockFinish} {IsalNative.GzipWrapper}");
    }

    private byte[] WriteData(string name, int length, int seed = 7)
    {
        var data = SampleData.HalfCompressible(length, seed);
        File.WriteAllBytes(_scratch.Combine(name), data);
        return data;
    }

    /// <summary>Compresses a file of the work directory with the gzip tool; returns the .gz path.</summary>
    private string GzipTool(int level, string name)
    {
        ExternalTool.Output("gzip", $"-{level}", "-k", "-f", _scratch.Combine(name));
        return _scratch.Combine(name + ".gz");
    }

    private static byte[] ReadAll(string path, int readSize)
    {
        using var gunzip = new GzipDecompressStream(File.OpenRead(path));
        using var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = gunzip.Read(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }

    private static async Task<byte[]> ReadAllAsync(string path, int readSize)
    {
        await using var gunzip = new GzipDecompressStream(File.OpenRead(path));
        using var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await gunzip.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        return output.ToArray();
    }
}
