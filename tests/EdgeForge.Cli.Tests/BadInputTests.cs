namespace EdgeForge.Cli.Tests;

public sealed class BadInputTests
{
    public static TheoryData<string> Cases => new(BadInputCases.All.Keys);

    [Fact]
    public async Task The_unbroken_project_is_valid()
    {
        using var project = new ValidProject();

        var result = await CliResult.RunAsync("validate", project.Directory);

        result.ExitCode.ShouldBe(0, result.All);
        result.Output.ShouldContain("valid: 0 errors, 0 warnings");
    }

    [Fact]
    public void There_are_at_least_a_hundred_distinct_cases() => BadInputCases.All.Count.ShouldBeGreaterThanOrEqualTo(100);

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_exits_2_naming_the_key_or_line(string name)
    {
        var badInput = BadInputCases.All[name];
        using var project = new ValidProject();
        badInput.Break(project);

        var result = await CliResult.RunAsync(["validate", project.Directory, .. badInput.Arguments ?? []]);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        foreach (var expected in badInput.Expect)
        {
            result.All.ShouldContain(expected, Case.Sensitive, result.All);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Plan_refuses_the_same_input_without_printing_a_plan(string name)
    {
        var badInput = BadInputCases.All[name];
        using var project = new ValidProject();
        badInput.Break(project);

        var result = await CliResult.RunAsync(["plan", project.Directory, "--json", .. badInput.Arguments ?? []]);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Output.ShouldBeEmpty();
    }
}
