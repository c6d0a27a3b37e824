namespace EdgeForge.Cli.Tests;

public sealed class ContentVerifyCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ef-verify-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Keys(string name) => Path.Combine(_directory, name);

    private async Task<string> SignedBundleAsync()
    {
        (await CliResult.RunAsync("keys", "generate", "-o", Keys("a"), "--bits", "2048")).ExitCode.ShouldBe(0);
        var bundle = Path.Combine(_directory, "core.zst");
        var data = new byte[256 * 1024];
        new Random(3).NextBytes(data);
        await File.WriteAllBytesAsync(bundle, data);
        var signed = await CliResult.RunAsync("content", "sign", bundle, "--private-key", Path.Combine(Keys("a"), "private.pem"));
        signed.ExitCode.ShouldBe(0, signed.All);
        return bundle;
    }

    [Fact]
    public async Task A_signed_bundle_verifies_with_the_public_key_and_with_the_edge_custom_config()
    {
        var bundle = await SignedBundleAsync();

        var withKey = await CliResult.RunAsync("content", "verify", bundle, "--public-key", Path.Combine(Keys("a"), "public.pem"));
        var withConfig = await CliResult.RunAsync("content", "verify", bundle, "--edge-custom-config", Path.Combine(Keys("a"), ".edge-custom-config.yaml"));

        withKey.ExitCode.ShouldBe(0, withKey.All);
        withKey.Output.ShouldContain("signature verified");
        withConfig.ExitCode.ShouldBe(0, withConfig.All);
    }

    [Fact]
    public async Task A_flipped_byte_is_rejected_with_exit_1()
    {
        var bundle = await SignedBundleAsync();
        var bytes = await File.ReadAllBytesAsync(bundle);
        bytes[1234] ^= 0x80;
        await File.WriteAllBytesAsync(bundle, bytes);

        var result = await CliResult.RunAsync("content", "verify", bundle, "--public-key", Path.Combine(Keys("a"), "public.pem"));

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("signature rejected");
    }

    [Fact]
    public async Task A_truncated_bundle_is_rejected_with_exit_1()
    {
        var bundle = await SignedBundleAsync();
        await using (var file = new FileStream(bundle, FileMode.Open))
        {
            file.SetLength(file.Length - 4096);
        }

        var result = await CliResult.RunAsync("content", "verify", bundle, "--public-key", Path.Combine(Keys("a"), "public.pem"));

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("modified or truncated");
    }

    [Fact]
    public async Task Another_key_is_rejected_with_exit_1()
    {
        var bundle = await SignedBundleAsync();
        (await CliResult.RunAsync("keys", "generate", "-o", Keys("b"), "--bits", "2048")).ExitCode.ShouldBe(0);

        var result = await CliResult.RunAsync("content", "verify", bundle, "--edge-custom-config", Path.Combine(Keys("b"), ".edge-custom-config.yaml"));

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("signed with another key");
    }

    [Theory]
    [InlineData("missing signature")]
    [InlineData("no key option")]
    [InlineData("both key options")]
    [InlineData("public key is not a key")]
    [InlineData("empty edge custom config")]
    public async Task Bad_verify_input_exits_2(string problem)
    {
        var bundle = await SignedBundleAsync();
        var publicKey = Path.Combine(Keys("a"), "public.pem");
        var config = Path.Combine(Keys("a"), ".edge-custom-config.yaml");
        string[] args = problem switch
        {
            "missing signature" => ["content", "verify", bundle, "--public-key", publicKey, "--signature", bundle + ".nope"],
            "no key option" => ["content", "verify", bundle],
            "both key options" => ["content", "verify", bundle, "--public-key", publicKey, "--edge-custom-config", config],
            "public key is not a key" => ["content", "verify", bundle, "--public-key", bundle],
            _ => ["content", "verify", bundle, "--edge-custom-config", WriteEmptyConfig()],
        };

        var result = await CliResult.RunAsync(args);

        result.ShouldNotCrash();
        result.ExitCode.ShouldBe(2, result.All);
    }

    [Fact]
    public async Task Keys_are_never_overwritten_without_force()
    {
        (await CliResult.RunAsync("keys", "generate", "-o", Keys("c"), "--bits", "2048")).ExitCode.ShouldBe(0);
        var first = File.ReadAllText(Path.Combine(Keys("c"), "private.pem"));

        var again = await CliResult.RunAsync("keys", "generate", "-o", Keys("c"), "--bits", "2048");

        again.ExitCode.ShouldBe(2);
        File.ReadAllText(Path.Combine(Keys("c"), "private.pem")).ShouldBe(first);
    }

    private string WriteEmptyConfig()
    {
        var path = Path.Combine(_directory, "empty.yaml");
        File.WriteAllText(path, "content:\n  signing:\n    publicKey:\n      base64EncodedValue: \"\"\n");
        return path;
    }
}
