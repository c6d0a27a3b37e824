namespace EdgeForge.Installer.Tests;

/// <remarks>
/// <c>--boot-assets IMAGE</c>: an image holding GRUB where Debian's packages put it (the paths searched inside images)
/// gives the very ISO the BOOT_ASSETS directory gave.
/// </remarks>
public sealed partial class InstallerIsoTests
{
    [Fact]
    public async Task Boot_assets_found_at_distribution_paths_inside_an_image_give_the_same_iso()
    {
        fixture.Build.ExitCode.ShouldBe(0, fixture.Build.ToString());
        var assets = Path.Combine(fixture.Project, "boot-assets");
        var tree = fixture.Scratch("assets-image");
        Directory.CreateDirectory(Path.Combine(tree, "usr/lib/grub/i386-pc"));
        Directory.CreateDirectory(Path.Combine(tree, "usr/lib/grub/x86_64-efi/monolithic"));
        File.Copy(Path.Combine(assets, "eltorito.img"), Path.Combine(tree, "usr/lib/grub/i386-pc/eltorito.img"));
        File.Copy(Path.Combine(assets, "boot_hybrid.img"), Path.Combine(tree, "usr/lib/grub/i386-pc/boot_hybrid.img"));
        File.Copy(Path.Combine(assets, "EFI/BOOT/bootx64.efi"), Path.Combine(tree, "usr/lib/grub/x86_64-efi/monolithic/grubx64.efi"));
        var reference = fixture.BaseImage.Replace("base/testos:1", "boot/assets:1", StringComparison.Ordinal);
        var import = await CliResult.RunAsync("image", "import", tree, "docker://" + reference);
        import.ExitCode.ShouldBe(0, import.ToString());

        var result = await CliResult.RunAsync("build", "iso", fixture.Project, "--cache-dir", fixture.Cache, "--boot-assets", reference, "--build-arg", "ISO_NAME=assets-image");
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Output.ShouldContain("boot assets from " + reference);
        var build = Path.Combine(fixture.Project, "build");
        (await File.ReadAllTextAsync(Path.Combine(build, "assets-image.iso.sha256")))[..64].ShouldBe((await File.ReadAllTextAsync(fixture.IsoPath + ".sha256"))[..64]);
        File.Delete(Path.Combine(build, "assets-image.iso"));
        File.Delete(Path.Combine(build, "assets-image.iso.sha256"));
    }
}
