using EdgeForge.Cli;
using EdgeForge.Content.Bundles;
using EdgeForge.Testing;

namespace EdgeForge.Content.Tests;

/// <summary>Given a profile file with mistakes, when I build, then every mistake is reported with its file and line and the exit code is 2.</summary>
public sealed class ContentInputsTests : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Two_infra_profiles_a_misspelt_key_and_a_missing_chart_are_each_reported_at_their_line()
    {
        var profile = _directory.Combine("profile.yaml");
        File.WriteAllText(profile, """
            profiles:
              - name: one
                type: infra
                packs:
                  - name: k3s
                    image:
                      - alpine:3.19
              - name: two
                type: infra
                packs:
                  - name: app
                    charts:
                      - charts/missing-1.0.0.tgz
                    images:
                      - "Not Valid"
              - name: three
                type: sometimes
                packs: []
            """);

        var error = Should.Throw<ContentInputException>(() => ContentInputs.Load(null, [profile]));

        var messages = error.Errors.Select(e => e.ToString()).ToList();
        messages.ShouldContain(m => m.StartsWith($"{profile}:6:", StringComparison.Ordinal) && m.Contains("unknown key \"image\"") && m.Contains("did you mean images?"));
        messages.ShouldContain(m => m.StartsWith($"{profile}:13:", StringComparison.Ordinal) && m.Contains("charts/missing-1.0.0.tgz"));
        messages.ShouldContain(m => m.StartsWith($"{profile}:15:", StringComparison.Ordinal) && m.Contains("invalid image reference"));
        messages.ShouldContain(m => m.StartsWith($"{profile}:17:", StringComparison.Ordinal) && m.Contains("unknown profile type \"sometimes\""));
        messages.ShouldContain(m => m.StartsWith($"{profile}:8:", StringComparison.Ordinal) && m.Contains("second infra profile"));
    }

    [Fact]
    public void The_image_list_skips_comments_and_blank_lines_and_reports_a_bad_reference_by_line()
    {
        var list = _directory.Combine("images.txt");
        File.WriteAllText(list, "# base\nalpine:3.19  # pinned\n\nquay.io/x/y@sha256:" + new string('a', 64) + "\nBAD REF\n");

        var error = Should.Throw<ContentInputException>(() => ContentInputs.Load(list, []));
        error.Errors.Single().ToString().ShouldStartWith($"{list}:5:");

        File.WriteAllText(list, "# base\nalpine:3.19  # pinned\n\nquay.io/x/y@sha256:" + new string('a', 64) + "\n");
        var inputs = ContentInputs.Load(list, []);
        inputs.Images.Select(i => i.Reference.ToString()).ShouldBe(["docker.io/library/alpine:3.19", "quay.io/x/y@sha256:" + new string('a', 64)]);
    }

    [Fact]
    public async Task The_cli_exits_2_with_file_and_line_for_an_invalid_profile()
    {
        var profile = _directory.Combine("bad.yaml");
        await File.WriteAllTextAsync(profile, "profiles:\n  - name: a\n    type: infra\n    packs: []\n  - name: b\n    type: infra\n    packs: []\n");
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await CommandRunner.RunAsync(["content", "build", "--profile", profile, "-o", _directory.Combine("out")], output, error);

        code.ShouldBe(2, error.ToString());
        error.ToString().ShouldContain($"{profile}:5:");
        error.ToString().ShouldContain("second infra profile");
        Directory.Exists(_directory.Combine("out")).ShouldBeFalse();
    }
}
