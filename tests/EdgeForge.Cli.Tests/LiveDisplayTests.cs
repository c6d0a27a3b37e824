using System.Net;
using System.Security.Cryptography;
using EdgeForge.Build.Pipeline;
using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary>
/// What a person at a terminal sees: the commands run on a real pseudo-terminal (tmux), and the screens they draw are
/// read back while they run — the live display, not the plain log lines a pipe gets.
/// </summary>
public sealed class LiveDisplayTests
{
    private static readonly Dictionary<string, string> Terminal = new() { ["TERM"] = "xterm-256color" };

    [Fact]
    [Trait("Tier", "Heavy")]
    public void A_squashfs_on_a_terminal_shows_one_live_line_with_bytes_rate_and_eta_then_done()
    {
        using var work = new TestDirectory();
        var tree = Directory.CreateDirectory(work.Combine("tree")).FullName;
        // Random data at gzip -9 on one compressor thread takes seconds (192 MiB: ~4 s here; the direct-I/O image
        // made 96 MiB on two threads a 1 s run, which a 100 ms sampler once missed), so the live line is seen many times.
        var block = new byte[1 << 20];
        for (var file = 0; file < 4; file++)
        {
            using var output = File.Create(Path.Combine(tree, $"random-{file}.bin"));
            for (var i = 0; i < 48; i++)
            {
                RandomNumberGenerator.Fill(block);
                output.Write(block);
            }
        }

        var image = work.Combine("tree.squashfs");
        using var tmux = TmuxSession.Start($"{Quote(EdgeforgeCli.LauncherPath)} fs squashfs {Quote(tree)} -o {Quote(image)} --comp gzip --level 9 --processors 1", Terminal);
        var (screens, exitCode) = tmux.WaitForExit(TimeSpan.FromMinutes(5));

        exitCode.ShouldBe(0, string.Join("\n----\n", screens));
        var last = screens[^1];
        Row(last, "squashfs").ShouldContain("done", customMessage: last);
        // While it ran, one live line said how far, how fast and how long to go.
        screens.Select(s => Row(s, "squashfs")).ShouldContain(row => row.Contains("running", StringComparison.Ordinal) && row.Contains(" / ", StringComparison.Ordinal)
            && row.Contains("/s", StringComparison.Ordinal) && row.Contains("eta", StringComparison.Ordinal), string.Join("\n----\n", screens));
        // A terminal gets the live table, not the timestamped lines a log gets.
        screens.ShouldAllBe(s => !s.Contains("edgeforge: squashfs:", StringComparison.Ordinal));
        File.Exists(image).ShouldBeTrue();
    }

    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_build_on_a_terminal_shows_every_step_of_the_pipeline_as_a_live_row()
    {
        await using var fixture = await ProviderImageFixture.StartAsync(ProviderImageFixture.Versions);
        // The upstream mirror is reached through a relay held shut until the screen shows a step running: the pull
        // cannot finish before the test has seen it, however fast the machine (sampling alone once missed it).
        var upstreams = await EdgeForge.Testing.Upstreams.CanvosUpstreams.SharedAsync();
        await using var relay = new ForwardingHttpProxy(IPEndPoint.Parse(upstreams.Mirror), held: true);
        var registriesConf = fixture.Work.Combine("held-registries.conf");
        File.WriteAllText(registriesConf, File.ReadAllText(upstreams.RegistriesConf).Replace(upstreams.Mirror, relay.Url["http://".Length..], StringComparison.Ordinal));
        var environment = new Dictionary<string, string>(Terminal) { ["CONTAINERS_REGISTRIES_CONF"] = registriesConf };
        var command = $"{Quote(EdgeforgeCli.LauncherPath)} build provider-images {Quote(fixture.Project)} --cache-dir {Quote(fixture.Work.Combine("tty-cache"))}";
        using var tmux = TmuxSession.Start(command, environment);

        var running = tmux.WaitFor(screen => screen.Split('\n').Any(line => line.Contains("running", StringComparison.Ordinal)), TimeSpan.FromMinutes(2));
        relay.Release();
        var (screens, exitCode) = tmux.WaitForExit(TimeSpan.FromMinutes(10));

        exitCode.ShouldBe(0, string.Join("\n----\n", screens));
        relay.Connections.ShouldBeGreaterThan(0, "the build reached the mirror through the held relay");
        // A row of the pipeline read "running" while its step waited on the network.
        var steps = EdgeBuild.Steps(BuildTarget.ProviderImages);
        steps.Select(step => Row(running, step.Name)).ShouldContain(row => row.Contains("running", StringComparison.Ordinal), running);
        var last = screens[^1];
        foreach (var step in steps)
        {
            Row(last, step.Name).ShouldContain("done", customMessage: last);
        }

        foreach (var version in ProviderImageFixture.Versions)
        {
            last.ShouldContain($"provider-image k3s-{version}-", customMessage: last);
        }
    }

    /// <summary>The display's row for <paramref name="step"/>: the first line that starts with its name as a whole word.</summary>
    private static string Row(string screen, string step) =>
        screen.Split('\n').FirstOrDefault(line => line.TrimStart().StartsWith(step + " ", StringComparison.Ordinal)) ?? "";

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
