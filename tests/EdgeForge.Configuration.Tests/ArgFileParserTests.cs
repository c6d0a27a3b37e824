using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Tests;

public sealed class ArgFileParserTests
{
    private static (Dictionary<string, string> Values, DiagnosticBag Diagnostics) Parse(string text, Dictionary<string, string>? environment = null, Dictionary<string, string>? forced = null)
    {
        var diagnostics = new DiagnosticBag();
        var assignments = ArgFileParser.Parse(".arg", text, k => forced?.GetValueOrDefault(k), k => environment?.GetValueOrDefault(k), diagnostics);
        return (assignments.GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Last().Value), diagnostics);
    }

    [Fact]
    public void Reads_comments_blank_lines_crlf_export_and_inline_comments()
    {
        var (values, diagnostics) = Parse("# header\r\n\r\nCUSTOM_TAG=demo\r\n  export ARCH=amd64\nISO_NAME=edge # the ISO\nEMPTY=\n");

        values.ShouldBe(new Dictionary<string, string> { ["CUSTOM_TAG"] = "demo", ["ARCH"] = "amd64", ["ISO_NAME"] = "edge", ["EMPTY"] = "" });
        diagnostics.Items.ShouldBeEmpty();
    }

    [Fact]
    public void Quotes_group_values_and_single_quotes_are_literal()
    {
        var (values, _) = Parse("A=\"two words # not a comment\"\nB='$A stays'\nC=\"x\\\"y\"\nD=\"$A!\"");

        values["A"].ShouldBe("two words # not a comment");
        values["B"].ShouldBe("$A stays");
        values["C"].ShouldBe("x\"y");
        values["D"].ShouldBe("two words # not a comment!");
    }

    [Fact]
    public void Variables_expand_from_forced_values_then_earlier_keys_then_the_environment()
    {
        var (values, _) = Parse(
            "OS_DISTRIBUTION=ubuntu\nIMAGE_REPO=$OS_DISTRIBUTION\nTAG=${CUSTOM}-x\nREGISTRY=$HOME_REGISTRY/edge\nFALLBACK=${NOPE:-dflt}\nLITERAL=$$5 and \\$6",
            environment: new() { ["HOME_REGISTRY"] = "reg.local", ["OS_DISTRIBUTION"] = "from-env" },
            forced: new() { ["CUSTOM"] = "forced" });

        values["IMAGE_REPO"].ShouldBe("ubuntu");
        values["TAG"].ShouldBe("forced-x");
        values["REGISTRY"].ShouldBe("reg.local/edge");
        values["FALLBACK"].ShouldBe("dflt");
        values["LITERAL"].ShouldBe("$5 and $6");
    }

    [Fact]
    public void A_forced_value_wins_over_the_earlier_line_in_expansion()
    {
        var (values, _) = Parse("OS_DISTRIBUTION=ubuntu\nIMAGE_REPO=$OS_DISTRIBUTION", forced: new() { ["OS_DISTRIBUTION"] = "opensuse-leap" });

        values["IMAGE_REPO"].ShouldBe("opensuse-leap");
    }

    [Fact]
    public void Duplicate_keys_warn_and_the_last_wins()
    {
        var (values, diagnostics) = Parse("ARCH=amd64\nARCH=arm64");

        values["ARCH"].ShouldBe("arm64");
        var warning = diagnostics.Warnings.ShouldHaveSingleItem();
        warning.Line.ShouldBe(2);
        warning.Message.ShouldContain("line 1");
    }

    [Fact]
    public void An_unset_variable_expands_to_nothing_with_a_warning()
    {
        var (values, diagnostics) = Parse("TAG=$UNSET_THING");

        values["TAG"].ShouldBe("");
        diagnostics.Warnings.ShouldHaveSingleItem().Message.ShouldContain("$UNSET_THING");
    }

    [Theory]
    [InlineData("JUSTTEXT", 1, "expected KEY=VALUE")]
    [InlineData("OK=1\n1BAD=x", 2, "not a valid key name")]
    [InlineData("A=\"open", 1, "unterminated double quote")]
    [InlineData("A='open", 1, "unterminated single quote")]
    [InlineData("A=\"x\" y", 1, "after the closing quote")]
    [InlineData("A=${B", 1, "unterminated ${")]
    [InlineData("A=${B C}", 1, "not a variable reference")]
    public void Malformed_lines_are_errors_with_their_line(string text, int line, string message)
    {
        var (_, diagnostics) = Parse(text);

        var error = diagnostics.Errors.ShouldHaveSingleItem();
        error.Line.ShouldBe(line);
        error.Message.ShouldContain(message);
    }
}
