using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Tests;

public sealed class BuildArgumentsTests
{
    private static (BuildArguments Arguments, DiagnosticBag Diagnostics) Load(string text, Dictionary<string, string>? commandLine = null, Dictionary<string, string>? environment = null)
    {
        var diagnostics = new DiagnosticBag();
        var arguments = BuildArguments.Load(".arg", text, commandLine ?? new(), k => environment?.GetValueOrDefault(k), diagnostics);
        return (arguments, diagnostics);
    }

    [Theory]
    [InlineData("K8s_VERSION", "K8S_VERSION")]
    [InlineData("CUSTOM_TAGS", "CUSTOM_TAG")]
    [InlineData("IMAGE_REGISTERY", "IMAGE_REGISTRY")]
    [InlineData("OS_DISTRIBUTON", "OS_DISTRIBUTION")]
    [InlineData("k8s_distribution", "K8S_DISTRIBUTION")]
    [InlineData("ISO_NAEM", "ISO_NAME")]
    public void A_near_miss_of_a_known_key_is_an_error_naming_the_key(string typo, string meant)
    {
        var (arguments, diagnostics) = Load($"ARCH=amd64\n{typo}=1");

        var error = diagnostics.Errors.ShouldHaveSingleItem();
        error.Key.ShouldBe(typo);
        error.Line.ShouldBe(2);
        error.Message.ShouldContain($"did you mean {meant}?");
        arguments.Get(meant).ShouldBeNull();
    }

    [Fact]
    public void Other_unknown_keys_are_warnings()
    {
        var (_, diagnostics) = Load("MY_OWN_SETTING=1");

        diagnostics.HasErrors.ShouldBeFalse();
        diagnostics.Warnings.ShouldHaveSingleItem().Key.ShouldBe("MY_OWN_SETTING");
    }

    [Fact]
    public void Ignored_canvos_keys_are_not_reported_as_unknown_keys()
    {
        var (_, diagnostics) = Load("MAAS_IMAGE_NAME=x\nDRBD_VERSION=9.2.13\nNVIDIA_DRIVER_BRANCH=580");

        diagnostics.Items.ShouldBeEmpty();
    }

    [Fact]
    public void Command_line_beats_environment_beats_file()
    {
        var (arguments, _) = Load("CUSTOM_TAG=file\nARCH=amd64\nISO_NAME=file-iso",
            commandLine: new() { ["CUSTOM_TAG"] = "cli" },
            environment: new() { ["CUSTOM_TAG"] = "env", ["ARCH"] = "arm64", ["UNRELATED"] = "x" });

        arguments.Get("CUSTOM_TAG").ShouldBe(new ResolvedArgument("CUSTOM_TAG", "cli", ArgumentSource.CommandLine, null));
        arguments.Get("ARCH")!.Source.ShouldBe(ArgumentSource.Environment);
        arguments.Get("ISO_NAME")!.ShouldBe(new ResolvedArgument("ISO_NAME", "file-iso", ArgumentSource.ArgFile, 3));
        arguments.LocationOf("ISO_NAME").ShouldBe((".arg", 3));
        arguments.LocationOf("CUSTOM_TAG").ShouldBe(("--build-arg", null));
    }

    [Fact]
    public void A_secret_in_the_file_is_refused_without_echoing_it()
    {
        var (_, diagnostics) = Load("UBUNTU_PRO_KEY=C1secretTOKEN");

        var error = diagnostics.Errors.ShouldHaveSingleItem();
        error.Key.ShouldBe("UBUNTU_PRO_KEY");
        error.ToString().ShouldNotContain("C1secretTOKEN");
    }
}
