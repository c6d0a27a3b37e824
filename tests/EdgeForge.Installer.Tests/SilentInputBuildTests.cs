using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <summary>
/// Issue 15's silent inputs that only a build can see, refused instead of built wrong: a base without the Kairos
/// agent (the ISO would boot but never install a host), and a base of another architecture than ARCH (an image
/// labelled arm64 full of amd64 binaries).
/// </summary>
public sealed class SilentInputBuildTests(InstallerIsoFixture fixture) : IClassFixture<InstallerIsoFixture>
{
    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_base_without_the_Kairos_agent_gives_no_installer()
    {
        var rootfs = fixture.Scratch("no-agent-rootfs");
        await TestOs.WriteRootfsAsync(rootfs);
        File.Delete(Path.Combine(rootfs, "usr", "bin", "kairos-agent"));
        var baseImage = fixture.BaseImage.Replace("/base/testos:1", "/base/no-agent:1", StringComparison.Ordinal);
        (await CliResult.RunAsync("image", "import", rootfs, "docker://" + baseImage)).ExitCode.ShouldBe(0);

        var result = await CliResult.RunAsync("build", "iso", fixture.Project, "--cache-dir", fixture.Scratch("no-agent-cache"), "--build-arg", "BASE_IMAGE=" + baseImage);

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Error.ShouldContain("cannot install a host");
        result.Error.ShouldContain("kairos-agent");
        result.Error.ShouldNotContain("   at ");
        Directory.GetFiles(Path.Combine(fixture.Project, "build"), "*.iso").Where(f => f.Contains("no-agent", StringComparison.Ordinal)).ShouldBeEmpty();
    }

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task An_amd64_base_for_an_arm64_build_is_refused_naming_the_image_and_the_key()
    {
        var result = await CliResult.RunAsync("build", "provider-images", fixture.Project, "--cache-dir", fixture.Scratch("arm64-cache"),
            "--build-arg", "ARCH=arm64", "--output", fixture.Scratch("arm64-layout"));

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Error.ShouldContain(fixture.BaseImage);
        result.Error.ShouldContain("linux/amd64, not linux/arm64");
        result.Error.ShouldContain("BASE_IMAGE");
        Directory.Exists(fixture.Scratch("arm64-layout")).ShouldBeFalse("nothing is written for a base of the wrong architecture");
    }
}
