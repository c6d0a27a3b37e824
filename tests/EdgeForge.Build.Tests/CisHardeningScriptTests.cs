using EdgeForge.Build.Composition;
using EdgeForge.Configuration.Planning;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>The CIS hardening command as the image's shells read it, before any image is built.</summary>
public sealed class CisHardeningScriptTests
{
    [Theory]
    [InlineData("dash")]
    [InlineData("bash")]
    public async Task The_command_parses_in_the_shells_images_have_as_bin_sh(string shell)
    {
        using var work = new TestDirectory();
        var script = work.Combine("harden.sh");
        File.WriteAllText(script, CisHardening.Command(UbuntuPlan(work).Settings));

        await ExternalTool.RunAsync(shell, "-n", script);
    }

    [Fact]
    public async Task Shellcheck_finds_nothing_wrong_in_the_command_as_POSIX_sh()
    {
        using var work = new TestDirectory();
        var script = work.Combine("harden.sh");
        File.WriteAllText(script, CisHardening.Command(UbuntuPlan(work).Settings));

        await ExternalTool.RunAsync("shellcheck", "--shell=sh", "--severity=warning", script);
    }

    [Fact]
    public void Every_control_names_a_benchmark_section_and_sections_are_unique_where_numbered()
    {
        CisHardening.Controls.ShouldAllBe(c => c.Section == "-" || System.Text.RegularExpressions.Regex.IsMatch(c.Section, @"^[1-7](\.\d+){1,4}$"));
        CisHardening.Controls.Where(c => c.Section != "-").Select(c => c.Section).ShouldBeUnique();
    }

    [Fact]
    public void The_control_list_in_the_docs_matches_the_code() =>
        RepositoryFiles.ShouldBeGenerated("docs/cis-hardening.md", CisHardening.RenderDocument(), "tests/EdgeForge.Build.Tests");

    /// <summary>An Ubuntu 22.04 project with CIS_HARDENING=true, loaded (nothing is pulled).</summary>
    private static BuildPlan UbuntuPlan(TestDirectory work)
    {
        File.WriteAllText(work.Combine(".arg"), "IMAGE_REGISTRY=registry.example/edge\nOS_DISTRIBUTION=ubuntu\nOS_VERSION=22.04\nK8S_VERSION=1.30.1\nCIS_HARDENING=true\n");
        File.WriteAllText(work.Combine("k8s_version.json"), "{\"k3s\": [\"1.30.1\"]}\n");
        var loaded = ProjectLoader.Load(work.Path, new ProjectOptions { Environment = _ => null });
        return loaded.Plan ?? throw new InvalidOperationException(string.Join("; ", loaded.Diagnostics.Errors.Select(e => e.Message)));
    }
}
