namespace EdgeForge.Testing;

/// <summary>
/// GRUB boot assets in the BOOT_ASSETS layout, built from the Debian packages grub-pc-bin and grub-efi-amd64-bin as
/// §6 of the product reference describes them: eltorito.img = cdboot.img + an i386-pc core.img with prefix
/// /boot/grub2, boot_hybrid.img for the MBR, and an x86_64-efi GRUB as EFI/BOOT/bootx64.efi with the stub config
/// embedded (no shim, so no grubx64.efi). Built once into the <see cref="BuildCache"/>.
/// </summary>
public sealed class GrubBootAssets
{
    /// <summary>The stub the EFI GRUB embeds and the ISO carries: find the medium by /boot/kernel, then read its menu.</summary>
    public const string StubConfig = EdgeForge.Build.Installer.GrubMenu.StubConfig;

    private const string GrubPc = "/usr/lib/grub/i386-pc";
    private const string GrubEfi = "/usr/lib/grub/x86_64-efi";

    // One module set for every test menu: the installer's (linux, video, fonts, gzip'd kernels) and the disk-format
    // tests' (cat, halt, serial).
    private static readonly string[] CommonModules =
        ["iso9660", "part_msdos", "part_gpt", "normal", "search", "search_fs_file", "configfile", "linux", "echo", "test", "serial", "terminal", "all_video", "font", "gzio", "cat", "halt"];

    private static readonly Lazy<Task<GrubBootAssets>> Cached = new(async () => new GrubBootAssets(await BuildCache.GetOrBuildAsync("grub-boot-assets",
        [string.Join(' ', CommonModules), BuildCache.Fingerprint(Path.Combine(GrubPc, "cdboot.img")), BuildCache.Fingerprint(Path.Combine(GrubPc, "kernel.img")),
         BuildCache.Fingerprint(Path.Combine(GrubEfi, "kernel.img"))], WriteAsync)));

    private GrubBootAssets(string directory) => Directory = directory;

    /// <summary>The BOOT_ASSETS directory (read-only: copy it with <see cref="CopyToAsync"/> to change it).</summary>
    public string Directory { get; }

    public string EltoritoImage => Path.Combine(Directory, "eltorito.img");

    public string BootHybridImage => Path.Combine(Directory, "boot_hybrid.img");

    public string EfiImage => Path.Combine(Directory, "EFI", "BOOT", "bootx64.efi");

    public static Task<GrubBootAssets> SharedAsync() => Cached.Value;

    /// <summary>Copies the BOOT_ASSETS layout into <paramref name="directory"/> (a project's boot-assets/).</summary>
    public static async Task CopyToAsync(string directory)
    {
        var assets = await SharedAsync();
        System.IO.Directory.CreateDirectory(directory);
        await ExternalTool.RunAsync("cp", "-a", assets.Directory + "/.", directory);
    }

    private static async Task WriteAsync(string directory)
    {
        File.Exists(Path.Combine(GrubPc, "cdboot.img")).ShouldBeTrue("grub-pc-bin is needed (scripts/test-packages.txt)");
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "EFI", "BOOT"));
        using var scratch = new TestDirectory("edgeforge-grub-");
        var core = scratch.Combine("core.img");
        await ExternalTool.RunAsync("grub-mkimage", ["-O", "i386-pc", "-p", "/boot/grub2", "-o", core, "biosdisk", .. CommonModules]);
        await using (var output = File.Create(Path.Combine(directory, "eltorito.img")))
        {
            foreach (var part in new[] { Path.Combine(GrubPc, "cdboot.img"), core })
            {
                await using var input = File.OpenRead(part);
                await input.CopyToAsync(output);
            }
        }

        File.Copy(Path.Combine(GrubPc, "boot_hybrid.img"), Path.Combine(directory, "boot_hybrid.img"));
        var stub = scratch.Combine("stub.cfg");
        await File.WriteAllTextAsync(stub, StubConfig);
        await ExternalTool.RunAsync("grub-mkimage",
            ["-O", "x86_64-efi", "-p", "/EFI/BOOT", "-c", stub, "-o", Path.Combine(directory, "EFI", "BOOT", "bootx64.efi"), "fat", "efi_gop", .. CommonModules]);
    }
}
