using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary>
/// Files named on the command line outside a project — site user data and its meta-data, a content profile, the
/// Docker config, a plan lock — are read like project inputs: a FIFO or an endless device is refused at once with the
/// file named (exit 2, or 1 for the Docker config, which is the machine's, not the input's), never waited on or read to the end.
/// </summary>
public sealed class HostileStandaloneInputTests
{
    public static TheoryData<string> Kinds() => ["fifo", "/dev/zero"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Site_user_data_that_is_not_a_regular_file_is_refused(string kind)
    {
        using var work = new TestDirectory();
        var input = Special(work, kind, "site.yaml");

        var result = await WithTimeout(CliResult.RunAsync("site-user-data", input, "-o", work.Combine("site.iso")));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain(input);
        File.Exists(work.Combine("site.iso")).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_content_profile_that_is_not_a_regular_file_is_refused(string kind)
    {
        using var work = new TestDirectory();
        var profile = Special(work, kind, "profile.yaml");

        var result = await WithTimeout(CliResult.RunAsync("content", "build", "--profile", profile, "-o", work.Combine("out")));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain(profile);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_plan_lock_that_is_not_a_regular_file_is_refused(string kind)
    {
        using var project = new ValidProject();
        Directory.CreateDirectory(Path.Combine(project.Directory, "build"));
        var lockPath = Path.Combine(project.Directory, "build", "plan.lock.json");
        MakeSpecial(lockPath, kind);

        var result = await WithTimeout(CliResult.RunAsync("build", "provider-images", project.Directory, "--locked", "--cache-dir", Path.Combine(project.Directory, "cache")));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain("plan.lock.json");
    }

    private static string Special(TestDirectory work, string kind, string name)
    {
        var path = work.Combine(name);
        MakeSpecial(path, kind);
        return path;
    }

    private static void MakeSpecial(string path, string kind) => SpecialFiles.Create(path, kind);

    /// <summary>A hang is the failure these cases guard against: it must end in a clear answer, quickly.</summary>
    private static async Task<CliResult> WithTimeout(Task<CliResult> run) => await run.WaitAsync(TimeSpan.FromSeconds(30));
}
