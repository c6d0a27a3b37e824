using System.Text.Json;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

/// <summary>Given the edgeforge CLI, when I import, copy, inspect and log in, then it behaves like the library and reports errors with the right exit codes.</summary>
public class CliTests(AnonymousRegistryFixture fixture) : IClassFixture<AnonymousRegistryFixture>, IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private Dictionary<string, string> Environment => new()
    {
        ["EDGEFORGE_CACHE"] = _directory.Combine("cache"),
        ["DOCKER_CONFIG"] = _directory.Combine("docker"),
    };

    [Fact]
    public async Task Two_imports_in_separate_processes_give_the_same_digest_and_copy_to_a_registry()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var layout = _directory.Combine("layout");

        var first = await EdgeforgeCli.RunAsync(Environment, null, "image", "import", rootfs, $"oci:{layout}:one", "--label", "org.example=1", "--env", "A=B");
        var second = await EdgeforgeCli.RunAsync(Environment, null, "image", "import", rootfs, $"oci:{layout}:two", "--label", "org.example=1", "--env", "A=B");

        first.ExitCode.ShouldBe(0, first.Error);
        second.ExitCode.ShouldBe(0, second.Error);
        var digest = first.Output.Trim().Split(' ').Last();
        second.Output.Trim().Split(' ').Last().ShouldBe(digest);

        var reference = $"{fixture.Registry.Address}/cli/imported:v1";
        var copy = await EdgeforgeCli.RunAsync(Environment, null, "image", "copy", $"oci:{layout}:one", $"docker://{reference}");
        copy.ExitCode.ShouldBe(0, copy.Error);
        copy.Output.ShouldContain(digest);
        copy.Error.ShouldContain("copy:");

        var inspect = await EdgeforgeCli.RunAsync(Environment, null, "image", "inspect", "--json", $"docker://{reference}");
        inspect.ExitCode.ShouldBe(0, inspect.Error);
        var json = JsonDocument.Parse(inspect.Output).RootElement;
        json.GetProperty("Digest").GetString().ShouldBe(digest);
        json.GetProperty("Labels").GetProperty("org.example").GetString().ShouldBe("1");
        var skopeo = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{reference}")).RootElement;
        skopeo.GetProperty("Digest").GetString().ShouldBe(digest);
    }

    [Theory]
    [InlineData("image", "inspect", "docker://Not/Valid:ref")]
    [InlineData("image", "copy", "oci:/nonexistent/layout:x", "oci:/tmp/never")]
    [InlineData("image", "import", "/nonexistent/rootfs", "oci:/tmp/never")]
    [InlineData("image", "copy", "--platform", "linux", "oci:/tmp/a", "oci:/tmp/b")]
    public async Task Bad_input_exits_with_code_2_and_a_message(params string[] arguments)
    {
        var result = await EdgeforgeCli.RunAsync(Environment, null, arguments);

        result.ExitCode.ShouldBe(2, result.Output + result.Error);
        result.Error.ShouldStartWith("edgeforge: ");
    }

    [Fact]
    public async Task Login_stores_verified_credentials_and_logout_removes_them()
    {
        var htpasswd = _directory.Combine("htpasswd");
        await File.WriteAllTextAsync(htpasswd, await ExternalTool.RunAsync("htpasswd", "-Bbn", "cli-user", "cli-pass-word"));
        await using var registry = await RegistryProcess.StartAsync(new RegistrySettings { HtpasswdFile = htpasswd });

        var refused = await EdgeforgeCli.RunAsync(Environment, "wrong-one\n", "login", registry.Address, "-u", "cli-user", "--password-stdin");
        refused.ExitCode.ShouldBe(1);
        (refused.Output + refused.Error).ShouldNotContain("wrong-one");

        var login = await EdgeforgeCli.RunAsync(Environment, "cli-pass-word\n", "login", registry.Address, "-u", "cli-user", "--password-stdin");
        login.ExitCode.ShouldBe(0, login.Error);
        var config = Path.Combine(Environment["DOCKER_CONFIG"], "config.json");
        File.GetUnixFileMode(config).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.ReadAllText(config).ShouldContain(registry.Address);

        // skopeo reads the same file (its auth file option takes Docker's format).
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var reference = $"{registry.Address}/login/app:v1";
        var import = await EdgeforgeCli.RunAsync(Environment, null, "image", "import", rootfs, $"docker://{reference}");
        import.ExitCode.ShouldBe(0, import.Error);
        await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "--authfile", config, $"docker://{reference}");

        var logout = await EdgeforgeCli.RunAsync(Environment, null, "logout", registry.Address);
        logout.ExitCode.ShouldBe(0);
        logout.Output.ShouldContain("Removed");
        var denied = await EdgeforgeCli.RunAsync(Environment, null, "image", "inspect", $"docker://{reference}");
        denied.ExitCode.ShouldBe(1);
        denied.Error.ShouldContain("401");
    }
}
