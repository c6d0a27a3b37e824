using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <remarks>
/// <c>build all</c> (CanvOS <c>+build-all-images</c>): provider images, then the ISO from the same cached layers, then
/// the BYOOS manifest. In the installer class so it shares its fixture and never runs beside the QEMU boots.
/// </remarks>
public sealed partial class InstallerIsoTests
{
    [Fact]
    public async Task Build_all_writes_the_provider_images_the_iso_and_the_manifest()
    {
        var result = await CliResult.RunAsync("build", "+build-all-images", fixture.Project, "--cache-dir", fixture.Cache, "--build-arg", "ISO_NAME=all-images");
        result.ExitCode.ShouldBe(0, result.ToString());
        var build = Path.Combine(fixture.Project, "build");
        result.Output.ShouldContain("built  ");
        result.Output.ShouldContain("1 of 1 images");
        result.Output.ShouldContain("build/all-images.iso");
        result.Output.IndexOf("build/all-images.iso", StringComparison.Ordinal).ShouldBeLessThan(result.Output.IndexOf("BYOOS pack manifest", StringComparison.Ordinal));
        File.Exists(Path.Combine(build, "provider-images.json")).ShouldBeTrue();
        (await File.ReadAllTextAsync(Path.Combine(build, "byoos-manifest.yaml"))).ShouldContain("system.customTag: lab");
        File.ReadAllText(Path.Combine(build, "iso.json")).ShouldContain("all-images.iso");

        // The ISO is the same image `build iso` made: the installer layers came from the cache.
        (await File.ReadAllTextAsync(Path.Combine(build, "all-images.iso.sha256")))[..64].ShouldBe((await File.ReadAllTextAsync(fixture.IsoPath + ".sha256"))[..64]);
        var check = await ExternalTool.RunUncheckedAsync("sh", "-c", $"cd '{build}' && sha256sum -c all-images.iso.sha256");
        check.ExitCode.ShouldBe(0, check.Output + check.Error);
        File.Delete(Path.Combine(build, "all-images.iso"));
        File.Delete(Path.Combine(build, "all-images.iso.sha256"));
    }
}
