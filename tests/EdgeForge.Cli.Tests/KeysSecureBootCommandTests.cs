using EdgeForge.Testing;

namespace EdgeForge.Cli.Tests;

/// <summary><c>edgeforge keys secureboot</c> in-process: a set openssl accepts, --force, and bad input as exit 2 naming the file.</summary>
public sealed class KeysSecureBootCommandTests : IDisposable
{
    private readonly TestDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private string Set => _scratch.Combine("secure-boot");

    [Fact]
    public async Task A_set_is_made_in_canvos_layout_and_never_overwritten_without_force()
    {
        var result = await CliResult.RunAsync("keys", "secureboot", "-o", Set, "--org", "ACME Corp");

        result.ExitCode.ShouldBe(0, result.All);
        result.Output.ShouldContain("enrollment/db.auth");
        result.Output.ShouldContain("private-keys/db.key (secret, 0600)");
        result.Output.ShouldContain("signature lists: PK 1, KEK 2, db 3; Microsoft 2011 certificates included");
        result.All.ShouldNotContain("PRIVATE KEY");
        ExternalTool.Output("openssl", "verify", "-CAfile", Path.Combine(Set, "public-keys/PK.pem"), Path.Combine(Set, "public-keys/PK.pem")).ShouldContain(": OK");
        File.GetUnixFileMode(Path.Combine(Set, "private-keys")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.GetUnixFileMode(Path.Combine(Set, "private-keys/db.key")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var key = File.ReadAllBytes(Path.Combine(Set, "private-keys/db.key"));

        var again = await CliResult.RunAsync("keys", "secureboot", "-o", Set, "--org", "ACME Corp");
        again.ShouldNotCrash();
        again.ExitCode.ShouldBe(2, again.All);
        again.Error.ShouldContain("already hold a key set; nothing was written (use --force to replace it)");
        File.ReadAllBytes(Path.Combine(Set, "private-keys/db.key")).ShouldBe(key);

        var forced = await CliResult.RunAsync("keys", "secureboot", "-o", Set, "--org", "ACME Corp", "--no-ms-keys", "--force");
        forced.ExitCode.ShouldBe(0, forced.All);
        forced.Output.ShouldContain("signature lists: PK 1, KEK 1, db 1; Microsoft 2011 certificates not included");
        File.ReadAllBytes(Path.Combine(Set, "private-keys/db.key")).ShouldNotBe(key);
    }

    [Fact]
    public async Task Own_keys_with_a_mismatched_key_are_exit_2_naming_the_file()
    {
        (await CliResult.RunAsync("keys", "secureboot", "-o", Set, "--org", "ACME Corp", "--no-ms-keys")).ExitCode.ShouldBe(0);
        File.Copy(Path.Combine(Set, "private-keys/PK.key"), Path.Combine(Set, "private-keys/db.key"), overwrite: true);

        var result = await CliResult.RunAsync("keys", "secureboot", "-o", _scratch.Combine("out"), "--bring-your-own", Set);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain($"{Path.Combine(Set, "private-keys/db.key")}: not the private key of {Path.Combine(Set, "public-keys/db.pem")}");
        Directory.Exists(_scratch.Combine("out")).ShouldBeFalse();
    }

    [Fact]
    public async Task A_malformed_exported_list_is_exit_2_naming_the_file_and_offset()
    {
        var exported = Directory.CreateDirectory(_scratch.Combine("exported-keys")).FullName;
        File.WriteAllBytes(Path.Combine(exported, "db"), new byte[40]);

        var result = await CliResult.RunAsync("keys", "secureboot", "-o", Set, "--org", "ACME Corp", "--exported-keys", exported);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain($"{Path.Combine(exported, "db")}: not EFI signature list data: at offset 0: SignatureListSize 0");
        Directory.Exists(Set).ShouldBeFalse();
    }

    [Theory]
    [InlineData("--org|", "--org: give the organisation name")]
    [InlineData("--org|ACME|--bits|1024", "--bits 1024: use 2048, 3072 or 4096")]
    [InlineData("--org|ACME|--include-ms-keys|--no-ms-keys", "contradict each other")]
    [InlineData("--org|ACME|--bring-your-own|/nonexistent", "leave --org out")]
    [InlineData("--bring-your-own|/nonexistent", "--bring-your-own /nonexistent: no such directory")]
    [InlineData("--org|ACME|--exported-keys|/nonexistent", "--exported-keys /nonexistent: no such directory")]
    public async Task Bad_options_are_exit_2_with_the_fix(string arguments, string expected)
    {
        var result = await CliResult.RunAsync(["keys", "secureboot", "-o", Set, .. arguments.Split('|')]);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
        result.Error.ShouldContain(expected);
        Directory.Exists(Set).ShouldBeFalse();
    }
}
