using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Dockerfiles;

namespace EdgeForge.Configuration.Tests;

public sealed class DockerfileParserTests
{
    [Fact]
    public void Only_instructions_after_the_marker_are_customisations()
    {
        using var project = new TestProject().With("files/motd", "hello\n").With("files/extra.tar.gz", "x");
        var diagnostics = new DiagnosticBag();

        var result = DockerfileParser.Parse("Dockerfile", """
            ARG BASE
            FROM $BASE
            CMD ["ignored"]
            ###################### Add any other image customizations here #######################
            # a comment
            RUN apt-get update && \
                # comments inside continuations are dropped
                apt-get install -y --no-install-recommends wireguard-tools
            COPY --chown=0:0 --chmod=0644 files/motd /etc/motd
            ADD files/extra.tar.gz /opt/
            ENV EDITOR=vim PAGER="less -R"
            ENV LEGACY value with spaces
            ARG VERSION=1.2
            LABEL org.example.team="edge platform"
            WORKDIR /opt
            USER root
            RUN ["/bin/sh", "-c", "rm -f /etc/unwanted"]
            """, project.Directory, diagnostics);

        // Above the marker, FROM and ARG are BASE_IMAGE's and the build arguments' business; anything else is said not to run.
        var aboveMarker = diagnostics.Items.ShouldHaveSingleItem(string.Join("\n", diagnostics.Items));
        (aboveMarker.Severity, aboveMarker.Line, aboveMarker.Key).ShouldBe((Severity.Warning, 3, "CMD"));
        aboveMarker.Message.ShouldStartWith("not run:");
        result.Instructions.Select(i => (i.Keyword, i.Line)).ShouldBe(
            [("RUN", 6), ("COPY", 9), ("ADD", 10), ("ENV", 11), ("ENV", 12), ("ARG", 13), ("LABEL", 14), ("WORKDIR", 15), ("USER", 16), ("RUN", 17)]);
        result.Instructions[0].ShouldBeOfType<RunInstruction>().ShellCommand.ShouldBe("apt-get update &&      apt-get install -y --no-install-recommends wireguard-tools");
        var copy = result.Instructions[1].ShouldBeOfType<CopyInstruction>();
        (copy.Sources.Single(), copy.Destination, copy.Chown, copy.Chmod).ShouldBe(("files/motd", "/etc/motd", "0:0", "0644"));
        result.Instructions[3].ShouldBeOfType<EnvInstruction>().Variables.ShouldBe([new("EDITOR", "vim"), new("PAGER", "less -R")]);
        result.Instructions[4].ShouldBeOfType<EnvInstruction>().Variables.ShouldBe([new("LEGACY", "value with spaces")]);
        result.Instructions[5].ShouldBeOfType<ArgInstruction>().ShouldBe(new ArgInstruction(13, "VERSION", "1.2"));
        result.Instructions[6].ShouldBeOfType<LabelInstruction>().Labels.ShouldBe([new("org.example.team", "edge platform")]);
        result.Instructions[9].ShouldBeOfType<RunInstruction>().Exec.ShouldBe(["/bin/sh", "-c", "rm -f /etc/unwanted"]);
    }

    [Fact]
    public void Without_a_marker_the_whole_file_counts_with_a_warning()
    {
        using var project = new TestProject();
        var diagnostics = new DiagnosticBag();

        var result = DockerfileParser.Parse("Dockerfile", "RUN echo hi\n", project.Directory, diagnostics);

        result.Instructions.ShouldHaveSingleItem();
        diagnostics.Warnings.ShouldHaveSingleItem().Message.ShouldContain("marker");
    }
}
