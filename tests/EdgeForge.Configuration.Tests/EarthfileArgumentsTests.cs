using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Tests;

/// <summary>A CanvOS checkout's Earthfile gives the defaults; the reader takes global ARGs only and executes nothing.</summary>
public sealed class EarthfileArgumentsTests
{
    private static (IReadOnlyList<EarthfileArgument> Arguments, DiagnosticBag Diagnostics) Parse(string text)
    {
        var diagnostics = new DiagnosticBag();
        return (EarthfileArguments.Parse("Earthfile", text, diagnostics), diagnostics);
    }

    [Fact]
    public void Only_top_level_args_before_the_first_target_are_defaults()
    {
        var (arguments, diagnostics) = Parse("""
            VERSION --arg-scope-and-set 0.6
            ARG TOP=1
            FROM alpine
            IF [ "$X" = "y" ]
                ARG IN_IF=2
                IF [ "$Z" = "1" ]
                    ARG NESTED=3
                ELSE
                    ARG IN_ELSE=4
                END
                LET TOP=5
            ELSE IF [ "$X" = "z" ]
                ARG IN_ELSE_IF=6
            ELSE
                ARG BASE_IMAGE
            END
            RUN echo "ARG NOT_AN_ARG=7" && \
                ARG CONTINUED=8
            # ARG COMMENTED=9
            ARG --global AFTER=10
            ARG BARE
            target:
                ARG IN_TARGET=11
            ARG =never-read
            """);

        diagnostics.Items.ShouldBeEmpty();
        arguments.ShouldBe([new("TOP", "1", 2), new("AFTER", "10", 20), new("BARE", null, 21)]);
    }

    [Theory]
    [InlineData("ARG DRBD_VERSION=\"9.2.13\"", "9.2.13")]
    [InlineData("ARG AMDGPU_ARTIFACT_PATH=\"\"", "")]
    [InlineData("ARG BRANDING=\"Palette eXtended Kubernetes Edge\"", "Palette eXtended Kubernetes Edge")]
    [InlineData("ARG SINGLE='a $b'", "a $b")]
    [InlineData("ARG IMAGE=$SPECTRO_PUB_REPO/edge/x-${ARCH}:$PE_VERSION", "$SPECTRO_PUB_REPO/edge/x-${ARCH}:$PE_VERSION")]
    public void Quotes_are_removed_and_references_kept_for_later(string line, string value)
    {
        var (arguments, diagnostics) = Parse(line);

        diagnostics.Items.ShouldBeEmpty();
        arguments.ShouldHaveSingleItem().Value.ShouldBe(value);
    }

    [Theory]
    [InlineData("ARG OK=1\nARG =x", 2, "ARG without a name")]
    [InlineData("ARG OK=1\n\nARG 9LIVES=1", 3, "not a valid ARG name")]
    [InlineData("ARG", 1, "ARG without a name")]
    [InlineData("ARG Q=\"open", 1, "unterminated quote")]
    [InlineData("ARG A=1\nEND", 2, "END without an open")]
    [InlineData("IF [ x ]\n  ARG A=1\ntarget:", 1, "not closed")]
    public void A_line_the_reader_must_understand_and_cannot_is_an_error_with_its_line(string text, int line, string message)
    {
        var (_, diagnostics) = Parse(text);

        var error = diagnostics.Errors.ShouldHaveSingleItem();
        error.File.ShouldBe("Earthfile");
        error.Line.ShouldBe(line);
        error.Message.ShouldContain(message);
    }

    [Fact]
    public void The_fixture_states_canvos_current_pins()
    {
        var (arguments, diagnostics) = Parse(Fixtures.Read("canvos-earthfile/Earthfile"));

        diagnostics.Items.ShouldBeEmpty();
        var byName = arguments.ToDictionary(a => a.Name, a => a.Value);
        byName["PE_VERSION"].ShouldBe("v4.10.0-rc.2");
        byName["KAIROS_INIT_VERSION"].ShouldBe("v0.17.1");
        byName["KAIROS_BASE_IMAGE_URL"].ShouldBe("$SPECTRO_PUB_REPO/edge");
        byName["ISO_NAME"].ShouldBe("installer");
        byName["ETCD_VERSION"].ShouldBe("v3.5.13");
        byName.ShouldNotContainKey("BASE_IMAGE");
        byName.ShouldNotContainKey("BIN_TYPE");
        byName.ShouldNotContainKey("NOT_A_GLOBAL");
    }

    /// <summary>Every value the catalog calls built-in must be the pin the Earthfile states, so a project without an Earthfile builds the same.</summary>
    [Fact]
    public void The_built_in_defaults_are_the_earthfile_pins_except_iso_name()
    {
        var (arguments, _) = Parse(Fixtures.Read("canvos-earthfile/Earthfile"));

        var differing = arguments
            .Where(a => a.Value is not null && BuildArgumentCatalog.Find(a.Name) is { Origin: not BuildArgumentOrigin.CanvOSInternal } d && d.BuiltInValue != a.Value)
            .Select(a => a.Name)
            .ToList();
        differing.ShouldBe(["ISO_NAME"]);
        arguments.Where(a => BuildArgumentCatalog.Find(a.Name) is null).ShouldBeEmpty();
    }
}
