using System.Diagnostics;
using System.Text;
using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary>
/// Hostile YAML and JSON through the real program, measured: anchors that expand a millionfold and nesting that would
/// overflow the stack, in every file that is YAML (user data, the luet auth and signing-key files, site user data,
/// cluster profiles) and in the JSON ones (k8s_version.json, Docker's config.json). Each exits with a message —
/// never a crash, never "internal error" — within 30 s and 512 MiB, printing little, writing nothing.
/// </summary>
public sealed class HostileYamlProcessTests
{
    private const long MaxRss = 512L << 20;

    private static readonly string[] Targets = ["user-data", "spectro-luet-auth.yaml", ".edge-custom-config.yaml", "site-user-data", "content profile"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in Targets)
        {
            foreach (var shape in new[] { "alias lists", "alias mappings", "alias block", "alias stages", "deep flow sequence", "deep flow mapping", "deep block", "alias cycle" })
            {
                data.Add(target, shape);
            }

            // The luet auth (64 KiB) and signing-key (1 MiB) files are refused by size before nesting this deep is read.
            if (target is "user-data" or "site-user-data" or "content profile")
            {
                data.Add(target, "deep flow sequence of a million");
            }
        }

        return data;
    }

    private static string Body(string shape) => shape switch
    {
        "alias lists" => "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" +
                         string.Concat(Enumerable.Range(1, 9).Select(i => $"l{i}: &l{i} [" + string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10)) + "]\n")),
        "alias mappings" => "m0: &m0 {a: 1, b: 2}\n" +
                            string.Concat(Enumerable.Range(1, 8).Select(i => $"m{i}: &m{i} {{" + string.Join(", ", Enumerable.Range(0, 10).Select(k => $"k{k}: *m{i - 1}")) + "}\n")),
        "alias block" => "a: &a\n  - x\n  - x\n  - x\n  - x\n" +
                         string.Concat(Enumerable.Range(1, 12).Select(i => $"b{i}: &b{i}\n" + string.Concat(Enumerable.Repeat($"  - *{(i == 1 ? "a" : $"b{i - 1}")}\n", 4)))),
        "alias stages" => "f: &f {path: relative, permissions: rw}\nfs: &fs [" + string.Join(",", Enumerable.Repeat("*f", 80)) + "]\ns: &s {files: *fs}\nss: &ss [" +
                          string.Join(",", Enumerable.Repeat("*s", 80)) + "]\nstages:\n" +
                          string.Concat(new[] { "boot", "initramfs", "network", "fs", "rootfs", "reconcile" }.Select(n => $"  {n}: *ss\n")),
        "deep flow sequence" => "x: " + new string('[', 20_000) + new string(']', 20_000) + "\n",
        "deep flow sequence of a million" => "x: " + new string('[', 1_000_000) + new string(']', 1_000_000) + "\n",
        "deep flow mapping" => "x: " + string.Concat(Enumerable.Repeat("{a: ", 8_000)) + "1" + new string('}', 8_000) + "\n",
        "deep block" => "x:\n" + string.Concat(Enumerable.Range(0, 250).Select(i => new string(' ', i + 1) + "k:\n")) + new string(' ', 252) + "v: 1\n",
        _ => "loop: &loop {self: [*loop]}\n",
    };

    private static string Expected(string shape) => shape switch
    {
        _ when shape.StartsWith("alias cycle", StringComparison.Ordinal) => "an alias refers to the node that contains it",
        _ when shape.StartsWith("alias", StringComparison.Ordinal) => "expand to more than 100,000 nodes",
        _ => "nested more than 64 levels deep",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_yaml_is_refused_within_bounds(string target, string shape)
    {
        using var project = new ValidProject();
        var body = Body(shape);
        string[] command;
        string? mustNotExist = null;
        switch (target)
        {
            case "user-data":
                project.Write("user-data", "#cloud-config\n" + body);
                command = ["validate", project.Directory];
                break;
            case "site-user-data":
                project.Write("site.yaml", "#cloud-config\n" + body);
                mustNotExist = Path.Combine(project.Directory, "site.iso");
                command = ["site-user-data", Path.Combine(project.Directory, "site.yaml"), "-o", mustNotExist];
                break;
            case "content profile":
                project.Write("profile.yaml", body);
                mustNotExist = Path.Combine(project.Directory, "bundle");
                command = ["content", "build", "--profile", Path.Combine(project.Directory, "profile.yaml"), "-o", mustNotExist];
                break;
            default:
                project.Write(target, body);
                command = ["validate", project.Directory];
                break;
        }

        var before = HostileProjectTests.Snapshot(project.Directory);
        // The launcher may rebuild the CLI first; that is not the run being timed.
        (await EdgeforgeCli.RunAsync(null, null, "--help")).ExitCode.ShouldBe(0);
        var clock = Stopwatch.StartNew();

        var (exitCode, output, peakRss) = await EdgeforgeCli.RunMeasuredAsync(null, command);

        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
        peakRss.ShouldBeLessThan(MaxRss);
        var printed = output[..output.IndexOf("\tCommand being timed:", StringComparison.Ordinal)];
        printed.ShouldNotContain("   at ");
        printed.ShouldNotContain("internal error");
        printed.ShouldNotContain("Stack overflow");
        exitCode.ShouldBe(2, printed);
        printed.ShouldContain(Expected(shape), Case.Sensitive, printed);
        printed.Length.ShouldBeLessThan(64 << 10);
        HostileProjectTests.Snapshot(project.Directory).ShouldBe(before);
        if (mustNotExist is not null)
        {
            Path.Exists(mustNotExist).ShouldBeFalse();
        }
    }

    [Theory]
    [InlineData(17)]
    [InlineData(10_000)]
    [InlineData(500_000)]
    public async Task Deeply_nested_k8s_version_json_is_refused_within_bounds(int depth)
    {
        using var project = new ValidProject();
        project.Write("k8s_version.json", "{\"k3s\": [\"1.30.14\"], \"x\": " + new string('[', depth) + new string(']', depth) + "}");

        var (exitCode, output, peakRss) = await EdgeforgeCli.RunMeasuredAsync(null, "validate", project.Directory);

        peakRss.ShouldBeLessThan(MaxRss);
        exitCode.ShouldBe(2, output);
        output.ShouldContain("k8s_version.json:1:");
        output.ShouldContain("nested more than 16 levels deep");
    }

    public static TheoryData<string, string> DockerConfigs() => new()
    {
        { "deep nesting", "{\"auths\": " + new string('[', 100_000) + new string(']', 100_000) + "}" },
        { "deep objects", string.Concat(Enumerable.Repeat("{\"a\": ", 5_000)) + "1" + new string('}', 5_000) },
        { "not json", "auths = yes\n" },
        { "array root", "[]" },
        { "auths is a list", "{\"auths\": []}" },
        { "auth is a number", "{\"auths\": {\"registry.example.com\": {\"auth\": 42}}}" },
        { "credHelpers of numbers", "{\"credHelpers\": {\"registry.example.com\": 7}}" },
        { "credsStore object", "{\"credsStore\": {\"x\": 1}}" },
    };

    [Theory]
    [MemberData(nameof(DockerConfigs))]
    public async Task A_hostile_docker_config_is_a_clear_failure_not_an_internal_error(string name, string json)
    {
        using var home = new TestDirectory();
        File.WriteAllText(home.Combine("config.json"), json);
        var before = File.ReadAllText(home.Combine("config.json"));

        var (exitCode, output, peakRss) = await EdgeforgeCli.RunMeasuredAsync(new Dictionary<string, string> { ["DOCKER_CONFIG"] = home.Path }, "logout", "registry.example.com");

        peakRss.ShouldBeLessThan(MaxRss);
        output.ShouldNotContain("internal error", Case.Sensitive, name);
        output.ShouldNotContain("   at ");
        exitCode.ShouldBe(1, output);
        output.ShouldContain($"edgeforge: {home.Combine("config.json")}: ");
        File.ReadAllText(home.Combine("config.json")).ShouldBe(before);
        Directory.GetFiles(home.Path).ShouldBe([home.Combine("config.json")]);
    }
}
