using System.Text.Json;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>The user's story through the launcher: write images with <c>edgeforge fs</c>, look at them with <c>edgeforge iso</c>.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TestDirectory _temp = new();

    [Fact]
    public async Task Fs_iso_writes_an_image_that_iso_inspect_and_verify_accept()
    {
        var tree = _temp.Combine("site");
        TestTrees.Write(Path.Combine(tree, "user-data"), "#cloud-config\n");
        TestTrees.Write(Path.Combine(tree, "meta-data"), "instance-id: edge\n");
        var iso = _temp.Combine("site.iso");

        var write = Edgeforge("fs", "iso", tree, "-o", iso, "--volume", "cidata");
        write.ExitCode.ShouldBe(0, write.Error);
        Directory.GetFiles(_temp.Path, "*.partial").ShouldBeEmpty();
        ExternalTool.Output("isoinfo", "-d", "-i", iso).ShouldContain("Volume id: cidata");
        ExternalTool.Output("bsdtar", "-tf", iso).ShouldContain("user-data");

        var inspect = Edgeforge("iso", "inspect", iso, "--json");
        inspect.ExitCode.ShouldBe(0, inspect.Error);
        using var json = JsonDocument.Parse(inspect.Output);
        json.RootElement.GetProperty("volumeDescriptors")[0].GetProperty("volumeId").GetString().ShouldBe("cidata");
        json.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()).ShouldBe(["meta-data", "user-data"]);

        await File.WriteAllTextAsync(iso + ".sha256", $"{TestTrees.Sha256(iso)}  site.iso\n");
        var verify = Edgeforge("iso", "verify", iso);
        verify.ExitCode.ShouldBe(0, verify.Output + verify.Error);
        verify.Output.ShouldContain("ok    checksum file site.iso.sha256");

        await File.WriteAllTextAsync(iso + ".sha256", $"{new string('0', 64)}  site.iso\n");
        var mismatch = Edgeforge("iso", "verify", iso);
        mismatch.ExitCode.ShouldBe(1);
        mismatch.Error.ShouldContain("differs from the recorded");
    }

    [Fact]
    public async Task Iso_verify_fails_on_a_damaged_gpt_of_the_hybrid_image()
    {
        var inputs = await HybridIsoBuilder.PrepareAsync(_temp.Combine("inputs"), "echo hi\n");
        var iso = _temp.Combine("hybrid.iso");
        await HybridIsoBuilder.WriteOursAsync(inputs, iso);
        Edgeforge("iso", "verify", iso).ExitCode.ShouldBe(0);
        await using (var file = new FileStream(iso, FileMode.Open, FileAccess.Write))
        {
            file.Position = 512 + 40;
            file.WriteByte(0x42);
        }

        var damaged = Edgeforge("iso", "verify", iso);
        damaged.ExitCode.ShouldBe(1);
        damaged.Output.ShouldContain("FAIL  GPT headers");
        damaged.Error.ShouldContain("GPT primary header CRC32 mismatch");
    }

    [Fact]
    public void Fs_fat_writes_a_clean_labelled_image_and_bad_input_exits_2()
    {
        var tree = _temp.Combine("esp");
        TestTrees.Write(Path.Combine(tree, "EFI", "BOOT", "grub.cfg"), GrubBootAssets.StubConfig);
        var image = _temp.Combine("uefi.img");
        var write = Edgeforge("fs", "fat", tree, "-o", image, "--label", "EFI_LIVE", "--size", "2M");
        write.ExitCode.ShouldBe(0, write.Error);
        new FileInfo(image).Length.ShouldBe(2L << 20);
        ExternalTool.Run("fsck.fat", ["-n", image]).ExitCode.ShouldBe(0);
        ExternalTool.Output("mtype", "-i", image, "::/EFI/BOOT/grub.cfg").ShouldBe(GrubBootAssets.StubConfig);

        Edgeforge("fs", "fat", tree, "-o", image, "--label", "MUCH_TOO_LONG_LABEL").ExitCode.ShouldBe(2);
        Edgeforge("fs", "iso", _temp.Combine("missing"), "-o", _temp.Combine("x.iso")).ExitCode.ShouldBe(2);
        Edgeforge("iso", "verify", _temp.Combine("missing.iso")).ExitCode.ShouldBe(2);
    }

    [Fact]
    public void Fs_iso_without_extensions_writes_plain_iso9660_dated_by_source_date_epoch()
    {
        var tree = _temp.Combine("plain");
        TestTrees.Write(Path.Combine(tree, "Some Name.txt"), "x\n");
        var iso = _temp.Combine("plain.iso");
        Edgeforge("fs", "iso", tree, "-o", iso, "--no-rock-ridge", "--no-joliet").ExitCode.ShouldBe(0);
        var description = ExternalTool.Output("isoinfo", "-d", "-i", iso);
        description.ShouldContain("NO Joliet present");
        description.ShouldContain("NO Rock Ridge present");
        ExternalTool.Output("isoinfo", "-l", "-i", iso).ShouldContain("SOME_NAME.TXT;1");
        ExternalTool.Output("xorriso", "-indev", iso, "-pvd_info").ShouldContain("Creation Time: 2023111422132000");
    }

    // The launcher builds the CLI first when its sources changed: minutes on a loaded machine.
    private static ToolResult Edgeforge(params string[] arguments) =>
        ExternalTool.Run(EdgeforgeCli.LauncherPath, new ToolOptions
        {
            Timeout = TimeSpan.FromMinutes(10),
            Environment = new Dictionary<string, string> { ["SOURCE_DATE_EPOCH"] = "1700000000" },
        }, arguments);

    public void Dispose() => _temp.Dispose();
}
