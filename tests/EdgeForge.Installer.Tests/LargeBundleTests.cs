using System.Security.Cryptography;
using EdgeForge.Build.Installer;
using EdgeForge.Configuration.Inputs;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// A 7 GB content bundle (a sparse file with markers across both 3 GB boundaries, so misordered or misplaced parts
/// cannot hash the same) is embedded as <c>_part00</c>…<c>_part02</c> and bsdtar reads back parts that concatenate to
/// the original (EDGEFORGE.md §6).
/// </summary>
public sealed class LargeBundleTests
{
    private const long BundleSize = 7_000_000_000;

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_7_GB_bundle_becomes_three_parts_that_concatenate_back_to_it()
    {
        using var work = new TestDirectory();
        var bundle = work.Combine("edge-content.zst");
        await using (var file = File.Create(bundle))
        {
            file.SetLength(BundleSize);
            var random = new Random(7);
            foreach (var offset in new[] { 0L, 2_999_998_000L, 5_999_999_000L, BundleSize - 4096 })
            {
                var marker = new byte[4096];
                random.NextBytes(marker);
                file.Position = offset;
                await file.WriteAsync(marker);
            }
        }

        var parts = new ContentBundleParts([new ContentBundleFile(bundle, "content-site/edge-content.zst", BundleSize)]);
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "COS_LIVE" });
        writer.AddFileTree(parts);
        var iso = work.Combine("bundle.iso");
        await using (var output = File.Create(iso))
        {
            await writer.WriteAsync(output);
        }

        parts.PartPaths.ShouldBe(["/opt/spectrocloud/content/edge-content.zst_part00", "/opt/spectrocloud/content/edge-content.zst_part01", "/opt/spectrocloud/content/edge-content.zst_part02"]);
        var listing = await ExternalTool.RunAsync("bsdtar", "-tvf", iso);
        listing.ShouldContain(" 3000000000 ");
        listing.ShouldContain(" 1000000000 ");

        using var joined = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var total = 0L;
        foreach (var part in parts.PartPaths)
        {
            total += await HashEntryAsync(iso, part.TrimStart('/'), joined);
        }

        total.ShouldBe(BundleSize);
        await using var original = File.OpenRead(bundle);
        Convert.ToHexString(joined.GetHashAndReset()).ShouldBe(Convert.ToHexString(await SHA256.HashDataAsync(original)));
    }

    /// <summary>Streams one file of the ISO out of bsdtar into the running hash; returns its length.</summary>
    private static async Task<long> HashEntryAsync(string iso, string path, IncrementalHash hash)
    {
        long length = 0;
        await ExternalTool.RunAsync("bsdtar", new ToolOptions
        {
            ReadOutput = async output =>
            {
                var buffer = new byte[1 << 20];
                int read;
                while ((read = await output.ReadAsync(buffer)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    length += read;
                }
            },
        }, "-xOf", iso, path);
        return length;
    }
}
