using EdgeForge.Testing;

namespace EdgeForge.FileTree.Tests;

/// <summary>
/// The direct-I/O stream behaves as a <see cref="FileStream"/> does — same bytes on disk, same reads, same lengths —
/// under the writers' patterns (appends, seeks back to patch, rewinds, holes, reads of earlier ranges), checked by
/// replaying one random script on both and comparing the files with cmp(1); and it really bypasses the page cache
/// where the file system allows it (the descriptor's flags in /proc/self/fdinfo).
/// </summary>
public sealed class DirectIoFileStreamTests
{
    private const int ODirectOnX64 = 0x4000;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task A_random_script_of_writes_seeks_reads_and_truncations_gives_what_FileStream_gives(int seed)
    {
        using var work = new TestDirectory();
        var expectedPath = work.Combine("expected");
        var actualPath = work.Combine("actual");
        var random = new Random(seed);
        using (var expected = new FileStream(expectedPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        using (var actual = new DirectIoFileStream(actualPath, FileMode.Create))
        {
            for (var step = 0; step < 400; step++)
            {
                var operation = random.Next(100);
                if (operation < 50)
                {
                    // Appends of the sizes the writers use: compressed blocks (odd sizes), sectors, whole windows.
                    var data = new byte[random.Next(4) switch { 0 => random.Next(1, 300), 1 => 2048, 2 => random.Next(1, 200_000), _ => DirectIoFileStream.WindowSize + 17 }];
                    random.NextBytes(data);
                    expected.Write(data);
                    actual.Write(data);
                }
                else if (operation < 65)
                {
                    // Seek anywhere up to a little past the end (a later write leaves a hole of zeros).
                    var to = random.NextInt64(0, expected.Length + 3 * DirectIoFileStream.WindowSize / 2 + 1);
                    expected.Position = to;
                    actual.Position = to;
                }
                else if (operation < 85)
                {
                    var count = random.Next(1, 3 * DirectIoFileStream.WindowSize / 2);
                    var from = random.NextInt64(0, expected.Length + 1);
                    var want = new byte[count];
                    var got = new byte[count];
                    expected.Position = from;
                    actual.Position = from;
                    var wantRead = expected.ReadAtLeast(want, count, throwOnEndOfStream: false);
                    var gotRead = actual.ReadAtLeast(got, count, throwOnEndOfStream: false);
                    gotRead.ShouldBe(wantRead, $"step {step}: read of {count} at {from}");
                    got.AsSpan(0, gotRead).SequenceEqual(want.AsSpan(0, wantRead)).ShouldBeTrue($"step {step}: the bytes read at {from}");
                    actual.Position.ShouldBe(expected.Position);
                }
                else if (operation < 90)
                {
                    var length = random.NextInt64(0, expected.Length + DirectIoFileStream.WindowSize);
                    expected.SetLength(length);
                    actual.SetLength(length);
                }
                else if (operation < 95)
                {
                    expected.Flush();
                    actual.Flush();
                    new FileInfo(actualPath).Length.ShouldBe(expected.Length, $"step {step}: the length on disk after a flush");
                }
                else
                {
                    // Asynchronous calls, as the ISO and SquashFS writers make them.
                    var data = new byte[random.Next(1, 70_000)];
                    random.NextBytes(data);
                    await expected.WriteAsync(data);
                    await actual.WriteAsync(data);
                }

                actual.Length.ShouldBe(expected.Length, $"step {step}");
                actual.Position.ShouldBe(expected.Position, $"step {step}");
            }
        }

        new FileInfo(actualPath).Length.ShouldBe(new FileInfo(expectedPath).Length);
        await ExternalTool.RunAsync("cmp", expectedPath, actualPath);
    }

    [Fact]
    public async Task On_a_file_system_that_takes_O_DIRECT_the_descriptor_has_it_and_the_bytes_skip_the_page_cache()
    {
        using var work = new TestDirectory();
        var path = work.Combine("image");
        var fileSystem = (await ExternalTool.RunAsync("stat", "-f", "-c", "%T", work.Path)).Trim();
        using var stream = new DirectIoFileStream(path, FileMode.Create);
        var data = new byte[3 * DirectIoFileStream.WindowSize + 12345];
        new Random(7).NextBytes(data);
        stream.Write(data);
        stream.Flush(flushToDisk: true);

        var fdinfo = File.ReadAllLines($"/proc/self/fdinfo/{stream.SafeFileHandle.DangerousGetHandle()}");
        var flags = Convert.ToInt32(fdinfo.Single(l => l.StartsWith("flags:", StringComparison.Ordinal))["flags:".Length..].Trim(), 8);
        ((flags & ODirectOnX64) != 0).ShouldBe(stream.IsDirect, string.Join('\n', fdinfo));
        if (fileSystem is "ext2/ext3" or "xfs" or "btrfs")
        {
            stream.IsDirect.ShouldBeTrue($"{fileSystem} takes O_DIRECT");
            // fincore(1) (util-linux) counts the file's pages in the page cache: a direct write leaves next to none.
            var resident = (await ExternalTool.RunAsync("fincore", "--bytes", "--noheadings", "--output", "RES", path)).Trim();
            long.Parse(resident, System.Globalization.CultureInfo.InvariantCulture).ShouldBeLessThan(data.Length / 4, $"resident bytes of {data.Length}");
        }

        stream.Position = 0;
        var back = new byte[data.Length];
        stream.ReadExactly(back);
        back.AsSpan().SequenceEqual(data).ShouldBeTrue();
        new FileInfo(path).Length.ShouldBe(data.Length);
    }

    [Fact]
    public async Task Where_the_file_system_refuses_O_DIRECT_the_same_bytes_are_written_buffered()
    {
        // tmpfs refuses O_DIRECT before Linux 6.6; where it takes it the test still holds the bytes to FileStream's.
        var shm = Directory.CreateTempSubdirectory("edgeforge-test-").FullName;
        var tmpfs = Path.Combine("/dev/shm", Path.GetFileName(shm));
        Directory.Delete(shm);
        Directory.CreateDirectory(tmpfs);
        try
        {
            var path = Path.Combine(tmpfs, "image");
            var data = new byte[DirectIoFileStream.WindowSize + 5000];
            new Random(11).NextBytes(data);
            using (var stream = new DirectIoFileStream(path, FileMode.Create))
            {
                stream.Write(data);
                stream.Position = 100;
                stream.Write("patched"u8);
            }

            "patched"u8.CopyTo(data.AsSpan(100));
            (await File.ReadAllBytesAsync(path)).AsSpan().SequenceEqual(data).ShouldBeTrue();
        }
        finally
        {
            Directory.Delete(tmpfs, recursive: true);
        }
    }
}
