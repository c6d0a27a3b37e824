using System.Text;
using System.Text.Json;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

/// <summary>Given a registry that wants Basic or Bearer authentication, when edgeforge pushes and pulls, then credentials work and never leak.</summary>
public class RegistryAuthenticationTests : IDisposable
{
    private const string User = "edge";
    private const string Password = "s3cret-Pa55word";
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private async Task<BuiltImage> ImportAsync()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        return await RootFsImporter.ImportAsync(rootfs, new BlobCache(_directory.Combine("cache")));
    }

    private async Task<RegistryProcess> StartBasicRegistryAsync()
    {
        var htpasswd = await ExternalTool.RunAsync("htpasswd", "-Bbn", User, Password);
        var path = _directory.Combine("htpasswd");
        await File.WriteAllTextAsync(path, htpasswd);
        return await RegistryProcess.StartAsync(new RegistrySettings { HtpasswdFile = path });
    }

    [Fact]
    public async Task Basic_authentication_pushes_with_credentials_and_refuses_without_them()
    {
        await using var registry = await StartBasicRegistryAsync();
        var image = await ImportAsync();
        var reference = ImageReference.Parse($"{registry.Address}/basic/app:v1");
        using var authorised = new RegistryClient(new RegistryClientOptions { Credentials = new StaticCredentialProvider(new RegistryCredential(User, Password)) });

        await ImageCopier.WriteAsync(image, new RegistryImageDestination(authorised, reference));
        await ImageValidator.ValidateAsync(await SourceImage.LoadAsync(new RegistryImageSource(authorised, reference)));
        await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "--creds", $"{User}:{Password}", $"docker://{reference}");

        using var anonymous = new RegistryClient();
        var refused = await Should.ThrowAsync<RegistryUnauthorizedException>(() => anonymous.GetManifestAsync(reference));
        refused.Message.ShouldContain("401");

        using var wrong = new RegistryClient(new RegistryClientOptions { Credentials = new StaticCredentialProvider(new RegistryCredential(User, "wrong-password-123")) });
        var wrongError = await Should.ThrowAsync<RegistryUnauthorizedException>(() => wrong.GetManifestAsync(reference));
        wrongError.ToString().ShouldNotContain("wrong-password-123");
        wrongError.ToString().ShouldNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:wrong-password-123")));
    }

    [Fact]
    public async Task Bearer_tokens_are_obtained_per_scope_cached_and_verified_by_the_registry()
    {
        var tokens = new TokenService(_directory.Path, User, Password);
        await using var _ = tokens;
        await using var registry = await RegistryProcess.StartAsync(new RegistrySettings { TokenService = tokens });
        var image = await ImportAsync();
        var reference = ImageReference.Parse($"{registry.Address}/bearer/app:v1");
        using var client = new RegistryClient(new RegistryClientOptions { Credentials = new StaticCredentialProvider(new RegistryCredential(User, Password)) });

        await ImageCopier.WriteAsync(image, new RegistryImageDestination(client, reference), new CopyOptions { MaxParallelBlobs = 1 });
        var pulled = await SourceImage.LoadAsync(new RegistryImageSource(client, reference));
        await ImageValidator.ValidateAsync(pulled);

        // One token for push (pull,push) and one for pull: cached per scope, not one per request.
        tokens.TokensIssued.ShouldBeInRange(1, 4);
        var inspect = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", "--creds", $"{User}:{Password}", $"docker://{reference}"));
        inspect.RootElement.GetProperty("Digest").GetString().ShouldBe(image.Digest.ToString());

        // Anonymous callers get a token without access: the registry answers 401 and we say so.
        using var anonymous = new RegistryClient();
        var refused = await Should.ThrowAsync<RegistryUnauthorizedException>(() => anonymous.GetManifestAsync(reference));
        refused.Message.ShouldContain("bearer/app");

        using var wrong = new RegistryClient(new RegistryClientOptions { Credentials = new StaticCredentialProvider(new RegistryCredential(User, "not-the-password")) });
        var wrongError = await Should.ThrowAsync<RegistryAuthenticationException>(() => wrong.GetManifestAsync(reference));
        wrongError.Message.ShouldContain("credentials were refused");
        wrongError.ToString().ShouldNotContain("not-the-password");
    }

    [Fact]
    public async Task Credentials_come_from_the_docker_config_file_and_from_a_credential_helper()
    {
        await using var registry = await StartBasicRegistryAsync();
        var image = await ImportAsync();
        var reference = ImageReference.Parse($"{registry.Address}/config/app:v1");

        // auths with base64 user:password, as docker login writes it.
        var configPath = _directory.Combine("docker", "config.json");
        var config = new DockerConfigFile(configPath);
        await config.StoreAsync(registry.Address, new RegistryCredential(User, Password));
        File.GetUnixFileMode(configPath).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var written = JsonDocument.Parse(File.ReadAllBytes(configPath));
        written.RootElement.GetProperty("auths").GetProperty(registry.Address).GetProperty("auth").GetString()
            .ShouldBe(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        using (var client = new RegistryClient(new RegistryClientOptions { Credentials = config }))
        {
            await ImageCopier.WriteAsync(image, new RegistryImageDestination(client, reference));
        }

        (await config.EraseAsync(registry.Address)).ShouldBeTrue();
        (await config.GetCredentialAsync(registry.Address)).ShouldBeNull();

        // credHelpers: docker-credential-NAME get, server URL on stdin, JSON on stdout.
        var helperDirectory = _directory.Combine("helpers");
        Directory.CreateDirectory(helperDirectory);
        var helperName = $"edgeforgetest{Guid.NewGuid():N}"[..24];
        var helper = Path.Combine(helperDirectory, "docker-credential-" + helperName);
        await File.WriteAllTextAsync(helper, $$"""
            #!/bin/sh
            read server
            [ "$1" = get ] || exit 1
            [ "$server" = "{{registry.Address}}" ] || { echo "credentials not found in native keychain"; exit 1; }
            printf '{"ServerURL":"%s","Username":"{{User}}","Secret":"{{Password}}"}' "$server"
            """);
        File.SetUnixFileMode(helper, (UnixFileMode)0x1ED);
        await File.WriteAllTextAsync(configPath, JsonSerializer.Serialize(new { credHelpers = new Dictionary<string, string> { [registry.Address] = helperName } }));
        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", path + ":" + helperDirectory);
        try
        {
            var fromHelper = await config.GetCredentialAsync(registry.Address);
            fromHelper.ShouldNotBeNull().Username.ShouldBe(User);
            using var client = new RegistryClient(new RegistryClientOptions { Credentials = config });
            await ImageValidator.ValidateAsync(await SourceImage.LoadAsync(new RegistryImageSource(client, reference)));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }
    }
}
