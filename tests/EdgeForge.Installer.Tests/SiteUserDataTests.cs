using EdgeForge.Testing;

namespace EdgeForge.Installer.Tests;

/// <summary><c>edgeforge site-user-data</c>: the non-bootable cidata ISO of §6.</summary>
public sealed class SiteUserDataTests
{
    private const string UserData = """
        #cloud-config
        stylus:
          site:
            paletteEndpoint: api.spectrocloud.com
            edgeHostToken: "site-token"
            projectName: Default
            name: site-7

        """;

    [Fact]
    public async Task The_iso_has_volume_cidata_with_user_data_and_meta_data()
    {
        using var work = new TestDirectory();
        var input = work.Combine("site.yaml");
        await File.WriteAllTextAsync(input, UserData);
        var iso = work.Combine("site-user-data.iso");
        var result = await CliResult.RunAsync("site-user-data", input, "-o", iso);
        result.ExitCode.ShouldBe(0, result.ToString());

        (await ExternalTool.RunAsync("isoinfo", "-d", "-i", iso)).ShouldContain("Volume id: cidata");
        var tree = work.Combine("tree");
        await ExternalTool.RunAsync("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", tree);
        Directory.GetFiles(tree).Select(Path.GetFileName).Order(StringComparer.Ordinal).ShouldBe(["meta-data", "user-data"]);
        (await File.ReadAllTextAsync(Path.Combine(tree, "user-data"))).ShouldBe(UserData);
        (await File.ReadAllTextAsync(Path.Combine(tree, "meta-data"))).ShouldStartWith("instance-id: site-");
    }

    [Fact]
    public async Task Invalid_user_data_is_refused_with_exit_2_and_no_iso()
    {
        using var work = new TestDirectory();
        var input = work.Combine("site.yaml");
        await File.WriteAllTextAsync(input, "#cloud-config\nstylus:\n  registryCredentials:\n    password: ####\n");
        var iso = work.Combine("out.iso");
        var result = await CliResult.RunAsync("site-user-data", input, "-o", iso);
        result.ExitCode.ShouldBe(2, result.ToString());
        result.Error.ShouldContain("password");
        File.Exists(iso).ShouldBeFalse();
    }
}
