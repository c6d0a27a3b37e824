using System.Diagnostics;
using System.Text;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.UserData;
using EdgeForge.Configuration.Yaml;

namespace EdgeForge.Configuration.Tests;

/// <summary>
/// YAML written to hurt the validator: anchors that expand a millionfold, nesting that would overflow the stack, aliases
/// that contain themselves, characters the edge host's decoder refuses. Each is refused quickly, with a position, and
/// with a bounded number of messages.
/// </summary>
public sealed class HostileYamlTests
{
    /// <summary>Billion-laughs shapes, each a few KB that expands to far more than <see cref="YamlLimits.MaxExpandedNodes"/> nodes.</summary>
    public static TheoryData<string, string> AliasBombs()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, body) in AliasBombBodies())
        {
            data.Add(name, body);
        }

        return data;
    }

    internal static IEnumerable<(string Name, string Body)> AliasBombBodies()
    {
        string Levels(int width, int depth, Func<int, string> level)
        {
            var text = new StringBuilder();
            for (var i = 1; i <= depth; i++)
            {
                text.Append(level(i)).Append('\n');
            }

            return text.ToString();
        }

        string List(int i, int width) => $"l{i}: &l{i} [" + string.Join(", ", Enumerable.Repeat($"*l{i - 1}", width)) + "]";
        string Map(int i, int width) => $"m{i}: &m{i} {{" + string.Join(", ", Enumerable.Range(0, width).Select(k => $"k{k}: *m{i - 1}")) + "}";

        yield return ("lists 10^9", "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + Levels(10, 9, i => List(i, 10)));
        yield return ("lists 2^40", "l0: &l0 [a, b]\n" + Levels(2, 40, i => List(i, 2)));
        yield return ("mappings 10^7", "m0: &m0 {a: 1, b: 2}\n" + Levels(10, 7, i => Map(i, 10)));
        yield return ("block sequences", "a: &a\n  - x\n  - x\n  - x\n  - x\n" + Levels(4, 12, i => $"b{i}: &b{i}\n" + string.Join("", Enumerable.Repeat($"  - *{(i == 1 ? "a" : $"b{i - 1}")}\n", 4))));
        yield return ("wide single anchor", "big: &big [" + string.Join(",", Enumerable.Repeat("x", 2000)) + "]\nuse: [" + string.Join(",", Enumerable.Repeat("*big", 100)) + "]\n");
        // Aimed at the schema: steps of files of files, so every expanded node is also checked and reported on.
        yield return ("stages of files",
            "f: &f {path: relative, permissions: rw}\nfs: &fs [" + string.Join(",", Enumerable.Repeat("*f", 60)) + "]\nstep: &s {files: *fs}\nsteps: &ss [" + string.Join(",", Enumerable.Repeat("*s", 60)) +
            "]\nstages:\n" + string.Join("", UserDataSchema.StageNames.Take(40).Select(n => $"  {n}: *ss\n")));
        yield return ("users of groups", "g: &g [" + string.Join(",", Enumerable.Repeat("admin", 300)) + "]\nu: &u {name: Bad-Name, groups: *g}\nusers: [" + string.Join(",", Enumerable.Repeat("*u", 400)) + "]\n");
        yield return ("tags of tags", "t: &t {" + string.Join(", ", Enumerable.Range(0, 400).Select(k => $"k{k}: v")) + "}\nstylus:\n  site:\n    tags: {" + string.Join(", ", Enumerable.Range(0, 300).Select(k => $"x{k}: *t")) + "}\n");
        yield return ("merge keys", "m0: &m0 {a: 1, b: 2, c: 3}\n" + Levels(3, 14, i => $"m{i}: &m{i} {{x: *m{i - 1}, y: *m{i - 1}, z: *m{i - 1}}}"));
        yield return ("scalars only", "s: &s lol\nl: &l [" + string.Join(",", Enumerable.Repeat("*s", 1000)) + "]\nll: [" + string.Join(",", Enumerable.Repeat("*l", 200)) + "]\n");
    }

    [Theory]
    [MemberData(nameof(AliasBombs))]
    public void An_alias_bomb_in_user_data_is_refused_at_once_with_few_messages(string shape, string body)
    {
        var text = "#cloud-config\n" + body;
        text.Length.ShouldBeLessThan(24 << 10, shape);
        var clock = Stopwatch.StartNew();

        var diagnostics = Validate(text);

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), shape);
        var error = diagnostics.Errors.ShouldHaveSingleItem(string.Join("\n", diagnostics.Items.Take(5)));
        error.Message.ShouldBe($"aliases and nodes expand to more than {YamlLimits.MaxExpandedNodes:N0} nodes here; refused");
        error.Line.ShouldNotBeNull();
        diagnostics.Items.Count.ShouldBeLessThanOrEqualTo(DiagnosticBag.MaxPerFile + 1);
    }

    [Theory]
    [MemberData(nameof(AliasBombs))]
    public void An_alias_bomb_in_any_yaml_input_is_refused_by_the_loader(string shape, string body)
    {
        var diagnostics = new DiagnosticBag();

        YamlLoader.Load("profile.yaml", body, diagnostics, "hint").ShouldBeNull(shape);

        diagnostics.Errors.ShouldHaveSingleItem().Message.ShouldContain("expand to more than");
    }

    [Fact]
    public void Anchors_used_within_the_limit_still_validate()
    {
        var diagnostics = Validate("#cloud-config\ngroups: &g [admin, sudo]\nusers:\n  - {name: kairos, groups: *g}\n  - {name: ops, groups: *g}\ninstall:\n  poweroff: true\n");

        diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
    }

    [Theory]
    [InlineData("&a [*a]")]
    [InlineData("&a {x: [1, *a]}")]
    [InlineData("&a\n  - b: *a")]
    public void An_alias_inside_the_node_it_names_is_refused(string value)
    {
        var diagnostics = Validate("#cloud-config\nloop: " + value + "\n");

        diagnostics.Errors.ShouldHaveSingleItem().Message.ShouldBe("an alias refers to the node that contains it (a cycle); refused");
    }

    public static TheoryData<string, int> DeepNesting()
    {
        var data = new TheoryData<string, int>();
        foreach (var shape in new[] { "flow sequence", "flow mapping", "mixed flow", "block sequence", "block mapping", "flow in block" })
        {
            foreach (var depth in new[] { YamlLimits.MaxDepth + 1, 1_000, 50_000 })
            {
                if (shape.StartsWith("block", StringComparison.Ordinal) && depth > 1_000)
                {
                    continue; // indentation of 50,000 levels is gigabytes, far past the file size limit
                }

                data.Add(shape, depth);
            }
        }

        data.Add("flow sequence", 1_000_000);
        data.Add("flow mapping", 500_000);
        return data;
    }

    internal static string Nested(string shape, int depth) => shape switch
    {
        "flow sequence" => new string('[', depth) + new string(']', depth),
        "flow mapping" => string.Concat(Enumerable.Repeat("{a: ", depth)) + "1" + new string('}', depth),
        "mixed flow" => string.Concat(Enumerable.Range(0, depth).Select(i => i % 2 == 0 ? "[" : "{a: ")) + "x" +
                        string.Concat(Enumerable.Range(0, depth).Reverse().Select(i => i % 2 == 0 ? "]" : "}")),
        "block sequence" => "\n" + string.Concat(Enumerable.Range(0, depth).Select(i => new string(' ', i * 2 + 2) + "-\n")) + new string(' ', depth * 2 + 2) + "x",
        "block mapping" => "\n" + string.Concat(Enumerable.Range(0, depth).Select(i => new string(' ', i + 2) + "k:\n")) + new string(' ', depth + 2) + "v: 1",
        "flow in block" => "\n  inner: " + new string('[', depth) + new string(']', depth),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    [Theory]
    [MemberData(nameof(DeepNesting))]
    public void Deep_nesting_is_refused_before_the_stack_overflows(string shape, int depth)
    {
        var clock = Stopwatch.StartNew();

        var diagnostics = Validate("#cloud-config\nstages: " + Nested(shape, depth) + "\n");

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(10));
        var error = diagnostics.Errors.ShouldHaveSingleItem(string.Join("\n", diagnostics.Items.Take(5)));
        error.Message.ShouldBe($"collections are nested more than {YamlLimits.MaxDepth} levels deep here; refused");
        error.Line.ShouldNotBeNull();
    }

    [Fact]
    public void Nesting_at_the_limit_is_read()
    {
        var diagnostics = new DiagnosticBag();

        YamlLoader.Load("x.yaml", "a: " + Nested("flow sequence", YamlLimits.MaxDepth - 1), diagnostics, "hint").ShouldNotBeNull(string.Join("\n", diagnostics.Items));
    }

    /// <summary>YAML 1.2 §5.1: C0 controls other than tab, LF and CR, DEL, and C1 controls other than NEL are not allowed.</summary>
    public static TheoryData<int> ControlCharacters()
    {
        var data = new TheoryData<int>();
        foreach (var c in Enumerable.Range(0x01, 0x1F).Concat([0x7F]).Concat(Enumerable.Range(0x80, 0x20)))
        {
            if (c is not (0x09 or 0x0A or 0x0D or 0x85))
            {
                data.Add(c);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ControlCharacters))]
    public void A_control_character_in_a_value_is_an_error_with_its_line_and_column(int character)
    {
        var text = $"#cloud-config\nstylus:\n  site:\n    projectName: \"ab{(char)character}cd\"\n";

        var diagnostics = Validate(text);

        var error = diagnostics.Errors.ShouldHaveSingleItem(string.Join("\n", diagnostics.Items));
        (error.Line, error.Column).ShouldBe((4, 21));
        error.Message.ShouldContain($"U+{character:X4}");
        error.Message.ShouldContain("YAML does not allow");
    }

    [Fact]
    public void Tab_and_nel_and_non_ascii_letters_are_fine()
    {
        var diagnostics = Validate("#cloud-config\nstylus:\n  site:\n    projectName: \"Zürich\tÅ 東京 \U0001F680\"\n    edgeHostToken: t\n    paletteEndpoint: api.spectrocloud.com\n");

        diagnostics.HasErrors.ShouldBeFalse(string.Join("\n", diagnostics.Items));
    }

    [Fact]
    public void A_replacement_character_left_by_a_lenient_decoder_is_refused()
    {
        var lossy = Encoding.UTF8.GetString([.. "#cloud-config\nhostname: ab"u8, 0xC3, 0x28, .. "\n"u8]);

        var diagnostics = Validate(lossy);

        diagnostics.Errors.ShouldHaveSingleItem().Message.ShouldContain("not valid UTF-8");
    }

    [Fact]
    public void Many_bad_characters_are_summed_up_after_ten()
    {
        var diagnostics = Validate("#cloud-config\nhostname: \"" + new string('\u0001', 5000) + "\"\n");

        diagnostics.Errors.Count().ShouldBe(11);
        diagnostics.Errors.Last().Message.ShouldContain("4990 more characters");
    }

    [Fact]
    public void Repeated_problems_are_capped_per_file_and_the_rest_counted()
    {
        var users = string.Concat(Enumerable.Range(0, 600).Select(i => $"  - name: Bad-{i}\n"));

        var diagnostics = Validate("#cloud-config\nusers:\n" + users);

        diagnostics.Items.Count.ShouldBe(DiagnosticBag.MaxPerFile + 1);
        var summary = diagnostics.Items[^1];
        summary.Severity.ShouldBe(Severity.Error);
        summary.Message.ShouldBe("500 more problems in this file are not listed (500 errors, 0 warnings or notes)");
        diagnostics.HasErrors.ShouldBeTrue();
    }

    [Fact]
    public void The_same_problem_reached_through_aliases_is_reported_once()
    {
        var diagnostics = Validate("#cloud-config\nu: &u {name: Bad-Name}\nusers: [*u, *u, *u, *u]\n");

        diagnostics.Errors.Count(e => e.Message.Contains("not valid")).ShouldBe(1);
    }

    private static DiagnosticBag Validate(string text)
    {
        var diagnostics = new DiagnosticBag();
        UserDataValidator.Validate("user-data", text, diagnostics);
        return diagnostics;
    }
}
