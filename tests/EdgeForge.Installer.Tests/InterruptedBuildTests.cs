using System.Diagnostics;
using System.Security.Cryptography;
using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <remarks>
/// Issue 6: killing <c>edgeforge build iso</c> (SIGKILL, no chance to clean up) at random moments never leaves a
/// <c>build/*.iso</c> or <c>.sha256</c> that is incomplete, and the next run succeeds and clears the leftovers. Part of the
/// same class so it never runs beside the QEMU boots.
/// </remarks>
public sealed partial class InstallerIsoTests
{
    [Fact]
    public async Task A_killed_build_never_leaves_an_incomplete_iso_or_checksum_and_the_next_run_succeeds()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var reference = (await File.ReadAllTextAsync(fixture.IsoPath + ".sha256"))[..64];
        var build = Path.GetDirectoryName(fixture.IsoPath)!;
        var iso = Path.Combine(build, "killed.iso");
        var checksum = iso + ".sha256";
        // Kill moments spread over the length of one whole build, timed here, so they land in every stage.
        var timing = System.Diagnostics.Stopwatch.StartNew();
        using (var whole = Start("build", "iso", fixture.Project, "--cache-dir", fixture.Cache, "--build-arg", "ISO_NAME=killed"))
        {
            whole.WaitForExit(300_000).ShouldBeTrue();
            whole.ExitCode.ShouldBe(0);
        }

        var length = (int)timing.ElapsedMilliseconds;
        File.Delete(iso);
        File.Delete(checksum);
        var random = new Random(20261122);
        var killed = 0;
        for (var trial = 0; trial < 10; trial++)
        {
            using var process = Start("build", "iso", fixture.Project, "--cache-dir", fixture.Cache, "--build-arg", "ISO_NAME=killed");
            if (!process.WaitForExit(random.Next(length / 20, length)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                killed++;
            }

            // Builds are reproducible (SOURCE_DATE_EPOCH), so a complete ISO has exactly the reference hash.
            if (File.Exists(iso))
            {
                await using var image = File.OpenRead(iso);
                Convert.ToHexStringLower(await SHA256.HashDataAsync(image)).ShouldBe(reference, $"trial {trial}: build/killed.iso is incomplete");
            }

            if (File.Exists(checksum))
            {
                (await File.ReadAllTextAsync(checksum)).ShouldBe($"{reference}  killed.iso\n", $"trial {trial}");
                File.Exists(iso).ShouldBeTrue($"trial {trial}: a checksum without its image");
            }
        }

        killed.ShouldBeGreaterThan(0, "no trial was interrupted");
        using (var final = Start("build", "iso", fixture.Project, "--cache-dir", fixture.Cache, "--build-arg", "ISO_NAME=killed"))
        {
            var stderr = final.StandardError.ReadToEndAsync();
            final.WaitForExit(300_000).ShouldBeTrue();
            final.ExitCode.ShouldBe(0, await stderr);
        }

        var check = await ExternalTool.RunUncheckedAsync("sh", "-c", $"cd '{build}' && sha256sum -c killed.iso.sha256");
        check.ExitCode.ShouldBe(0, check.Output + check.Error);
        Directory.GetFileSystemEntries(build).Select(Path.GetFileName).Where(n => n!.StartsWith('.')).ShouldBeEmpty();
        File.Delete(iso);
        File.Delete(checksum);
    }

    private static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "edgeforge"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        return process;
    }
}
