namespace EdgeForge.DiskFormats.Tests;

/// <summary>
/// GRUB boot assets built from the Debian packages grub-pc-bin and grub-efi-amd64-bin, the way §6 of the product
/// reference describes them: eltorito.img = cdboot.img + i386-pc core.img, boot_hybrid.img for the MBR, and an
/// x86_64-efi GRUB with an embedded stub config that finds the medium by /boot/kernel.
/// </summary>
internal sealed class GrubBootAssets
{
    public const string StubConfig = "search --no-floppy --file --set=root /boot/kernel\nset prefix=($root)/boot/grub2\nconfigfile $prefix/grub.cfg\n";
    private const string GrubPc = "/usr/lib/grub/i386-pc";

    public GrubBootAssets(string directory)
    {
        Directory.CreateDirectory(directory);
        EltoritoImage = Path.Combine(directory, "eltorito.img");
        BootHybridImage = Path.Combine(directory, "boot_hybrid.img");
        EfiImage = Path.Combine(directory, "BOOTX64.EFI");
        var core = Path.Combine(directory, "core.img");
        if (!File.Exists(Path.Combine(GrubPc, "cdboot.img")) || !File.Exists(Path.Combine(GrubPc, "boot_hybrid.img")))
        {
            throw new FileNotFoundException($"{GrubPc}/cdboot.img and boot_hybrid.img are missing; install grub-pc-bin (scripts/test-packages.txt)");
        }

        ExternalTool.Output("grub-mkimage", "-O", "i386-pc", "-p", "/boot/grub2", "-o", core,
            "biosdisk", "iso9660", "part_msdos", "part_gpt", "normal", "search", "search_fs_file", "configfile", "echo", "test", "serial", "terminal", "halt", "cat");
        using (var output = File.Create(EltoritoImage))
        {
            foreach (var part in new[] { Path.Combine(GrubPc, "cdboot.img"), core })
            {
                using var input = File.OpenRead(part);
                input.CopyTo(output);
            }
        }

        File.Copy(Path.Combine(GrubPc, "boot_hybrid.img"), BootHybridImage, overwrite: true);
        var stub = Path.Combine(directory, "stub.cfg");
        File.WriteAllText(stub, StubConfig);
        ExternalTool.Output("grub-mkimage", "-O", "x86_64-efi", "-p", "/EFI/BOOT", "-c", stub, "-o", EfiImage,
            "iso9660", "part_gpt", "part_msdos", "fat", "normal", "search", "search_fs_file", "configfile", "echo", "test",
            "serial", "terminal", "halt", "cat", "efi_gop", "all_video");
    }

    public string EltoritoImage { get; }
    public string BootHybridImage { get; }
    public string EfiImage { get; }
}
