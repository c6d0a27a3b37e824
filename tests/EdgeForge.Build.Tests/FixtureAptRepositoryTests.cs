using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// The fixture mirror the GPU test trusts is a signed repository as apt sees it: this machine's apt (not our code)
/// accepts its suite with the fixture's key and refuses it with another key, so the GPU steps' trust is real.
/// </summary>
public sealed class FixtureAptRepositoryTests
{
    [Fact]
    public async Task Apt_accepts_the_mirror_with_its_key_and_refuses_it_without()
    {
        using var work = new TestDirectory();
        await using var mirror = await FixtureAptRepository.CreateAsync(work.Combine("mirror"));
        await mirror.AddSuiteAsync("debian", "bookworm", [new FixturePackage("hello-fixture", "1.0")]);
        await using var other = await FixtureAptRepository.CreateAsync(work.Combine("other"));

        var trusted = await UpdateAsync(work.Combine("trusted"), mirror, mirror.ArmoredKey);
        var untrusted = await UpdateAsync(work.Combine("untrusted"), mirror, other.ArmoredKey);

        trusted.ShouldExit();
        (await ExternalTool.RunAsync("apt-cache", [.. Options(work.Combine("trusted"), mirror, mirror.ArmoredKey), "policy", "hello-fixture"])).ShouldContain("Candidate: 1.0");
        untrusted.ExitCode.ShouldNotBe(0, untrusted.ToString());
        untrusted.ToString().ShouldContain("NO_PUBKEY");
    }

    private static Task<ToolResult> UpdateAsync(string state, FixtureAptRepository mirror, string key) =>
        ExternalTool.RunUncheckedAsync("apt-get", [.. Options(state, mirror, key), "update"]);

    /// <summary>apt with its own sources, lists and cache under <paramref name="state"/>: the machine's apt configuration is not touched.</summary>
    private static string[] Options(string state, FixtureAptRepository mirror, string key)
    {
        Directory.CreateDirectory(Path.Combine(state, "lists", "partial"));
        Directory.CreateDirectory(Path.Combine(state, "cache", "archives", "partial"));
        var sources = Path.Combine(state, "sources.list");
        File.WriteAllText(sources, $"deb [signed-by={key}] {mirror.Address}/debian bookworm main\n");
        return ["-o", $"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/nonexistent", "-o", $"Dir::State::Lists={Path.Combine(state, "lists")}",
            "-o", $"Dir::Cache={Path.Combine(state, "cache")}", "-o", "Dir::State::status=/var/lib/dpkg/status", "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1"];
    }
}
