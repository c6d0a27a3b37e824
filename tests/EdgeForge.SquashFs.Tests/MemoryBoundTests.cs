using System.Text.RegularExpressions;

namespace EdgeForge.SquashFs.Tests;

/// <summary>
/// Given a tree of one million entries and more than 2 GiB of contents, when the writer runs in a process of its
/// own, then its peak resident set stays under 500 MiB and squashfs-tools read the image it wrote.
/// </summary>
public sealed partial class MemoryBoundTests : IDisposable
{
    private const long PeakLimitBytes = 500L << 20;

    private readonly string _work = Directory.CreateTempSubdirectory("ef-sqfs-memory-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    [Trait("Tier", "Heavy")]
    public void A_million_entries_and_2_GiB_build_in_under_500_MiB()
    {
        var image = Path.Combine(_work, "million.squashfs");
        var probe = Path.Combine(AppContext.BaseDirectory, "EdgeForge.SquashFs.SyntheticTree.dll");
        File.Exists(probe).ShouldBeTrue($"{probe} is built with the tests");

        // 1000 directories × 999 files = 1,000,000 entries; /usr/bin/time reports the child's peak RSS (kernel ru_maxrss).
        // The bound is for a hang: a million entries on a loaded 2-core machine take minutes, and speed is not the point here.
        var (exitCode, output, error) = ExternalTool.Run("/usr/bin/time", new ToolOptions { Timeout = TimeSpan.FromMinutes(30) }, "-v", "dotnet", probe, image, "1000", "999", "4000000");
        exitCode.ShouldBe(0, error);
        var facts = Facts().Matches(output).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
        facts["entries"].ShouldBe(1_000_000);
        facts["content_bytes"].ShouldBeGreaterThan(2L << 30);
        facts["duplicates"].ShouldBeGreaterThan(100_000);

        var peakKiB = long.Parse(PeakResidentSet().Match(error).Groups[1].Value);
        (peakKiB * 1024).ShouldBeLessThan(PeakLimitBytes, $"peak RSS {peakKiB / 1024} MiB");

        var superblock = ExternalTool.Output("unsquashfs", "-s", image);
        superblock.ShouldContain("Number of inodes 1000001");
        var listing = ExternalTool.Output("unsquashfs", "-lln", image);
        listing.Count(c => c == '\n').ShouldBe(1_000_001);
    }

    [GeneratedRegex(@"(\w+)=(\d+)(?=\s)")]
    private static partial Regex Facts();

    [GeneratedRegex(@"Maximum resident set size \(kbytes\): (\d+)")]
    private static partial Regex PeakResidentSet();
}
