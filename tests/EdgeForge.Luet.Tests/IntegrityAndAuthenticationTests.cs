using System.Formats.Tar;
using System.Text;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;
using EdgeForge.Testing;

namespace EdgeForge.Luet.Tests;

/// <summary>
/// Given a repository whose registry serves tampered bytes, a malformed index, or wants a password, when EdgeForge
/// reads it, then it refuses what does not verify, says what is wrong, and authenticates with luet's auth map.
/// </summary>
public class IntegrityAndAuthenticationTests : IDisposable
{
    private const string User = "spectro";
    private const string Password = "luet-Pa55word";
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static void Corrupt(RegistryProcess registry, Digest digest)
    {
        // distribution's filesystem driver: docker/registry/v2/blobs/ALG/XX/HEX/data. It serves the bytes unchecked.
        var path = Path.Combine(registry.StorageDirectory, "docker", "registry", "v2", "blobs", digest.Algorithm, digest.Encoded[..2], digest.Encoded, "data");
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public async Task A_tampered_package_blob_is_refused()
    {
        await using var registry = await RegistryProcess.StartAsync();
        var published = await KubernetesRepository.PushAsync(registry, _directory.Path, "edge/luet-repo-amd");
        Corrupt(registry, published.Images["k3s-k8s-1.30.2-k3s1"].Layers[0].Digest);

        using var client = new RegistryClient();
        var repository = await LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache")), published.Repository, Platform.LinuxAmd64);
        var k3s = repository.Resolve(LuetPackageReference.Parse("k8s/k3s@1.30.2-k3s1"));

        var refused = await Should.ThrowAsync<DigestMismatchException>(() => repository.OpenPackageImageAsync(k3s));
        refused.Message.ShouldContain(published.Images["k3s-k8s-1.30.2-k3s1"].Layers[0].Digest.ToString());
        await Should.ThrowAsync<DigestMismatchException>(() => repository.WriteFilesLayerAsync([k3s], new BlobCache(_directory.Combine("out")), new LayerOptions()));
        // An untouched package still opens.
        await repository.OpenPackageImageAsync(repository.Resolve(LuetPackageReference.Parse("k8s/k3s@1.30.1-k3s1")));
    }

    [Fact]
    public async Task A_tampered_tree_is_refused_when_the_repository_is_opened()
    {
        await using var registry = await RegistryProcess.StartAsync();
        var published = await KubernetesRepository.PushAsync(registry, _directory.Path, "edge/luet-repo-amd");
        Corrupt(registry, published.Images["tree.tar.gz"].Layers[0].Digest);

        using var client = new RegistryClient();
        var refused = await Should.ThrowAsync<DigestMismatchException>(() =>
            LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache")), published.Repository, Platform.LinuxAmd64));
        refused.Message.ShouldContain(published.Images["tree.tar.gz"].Layers[0].Digest.ToString());
    }

    [Fact]
    public async Task A_tree_that_does_not_match_the_index_checksum_is_refused()
    {
        await using var registry = await RegistryProcess.StartAsync();
        var published = await KubernetesRepository.PushAsync(registry, _directory.Path, "edge/luet-repo-amd");
        using var client = new RegistryClient();
        // A well-formed image with another tree under the tree's tag: every OCI digest verifies, luet's sha256 does not.
        await PushFileImageAsync(client, published.Repository.WithTag("tree.tar.gz"), "tree.tar.gz", Gzip(Tar(("k8s/other/1.0/definition.yaml", "category: k8s\nname: other\nversion: \"1.0\"\n"))));

        var refused = await Should.ThrowAsync<DigestMismatchException>(() =>
            LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache")), published.Repository, Platform.LinuxAmd64));
        refused.Message.ShouldContain("tree.tar.gz");
        refused.Message.ShouldContain("does not match the index's checksum");
    }

    [Fact]
    public async Task A_registry_without_an_index_or_an_index_without_a_tree_gets_a_clear_message()
    {
        await using var registry = await RegistryProcess.StartAsync();
        using var client = new RegistryClient();
        var repository = ImageReference.Parse($"{registry.Address}/edge/not-luet");

        var absent = await Should.ThrowAsync<LuetRepositoryFormatException>(() =>
            LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache")), repository, Platform.LinuxAmd64));
        absent.Message.ShouldBe($"{repository.Name} is not a luet docker repository: it has no image tagged \"repository.yaml\" (the index `luet repo update` reads first)");

        await PushFileImageAsync(client, repository.WithTag("repository.yaml"), "repository.yaml", "name: broken\ntype: docker\nrepo_files:\n  meta:\n    filename: repository.meta.yaml.tar\n"u8.ToArray());
        var noTree = await Should.ThrowAsync<LuetRepositoryFormatException>(() =>
            LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache")), repository, Platform.LinuxAmd64));
        noTree.Message.ShouldContain("file repository.yaml: repo_files has no \"tree\" entry");

        await PushFileImageAsync(client, repository.WithTag("repository.yaml"), "repository.yaml", "repo_files: [1, 2\n"u8.ToArray());
        var notYaml = await Should.ThrowAsync<LuetRepositoryFormatException>(() =>
            LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache2")), repository, Platform.LinuxAmd64));
        notYaml.Message.ShouldContain("repository.yaml: not valid luet YAML");
    }

    [Fact]
    public async Task A_private_repository_opens_with_the_luet_auth_map_and_refuses_anonymous_readers()
    {
        var htpasswd = await ExternalTool.RunAsync("htpasswd", "-Bbn", User, Password);
        await File.WriteAllTextAsync(_directory.Combine("htpasswd"), htpasswd);
        await using var registry = await RegistryProcess.StartAsync(new RegistrySettings { HtpasswdFile = _directory.Combine("htpasswd") });
        var published = await KubernetesRepository.PushAsync(registry, _directory.Path, "edge/luet-repo-amd", new RegistryCredential(User, Password));

        // spectro-luet-auth.yaml as CanvOS writes it: auth: {username: …, password: …} (or a Docker-style "auth").
        var maps = new[]
        {
            new Dictionary<string, string> { ["username"] = User, ["password"] = Password },
            new Dictionary<string, string> { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")) },
        };
        foreach (var auth in maps)
        {
            using var client = new RegistryClient(new RegistryClientOptions { Credentials = LuetAuthentication.CreateProvider(published.Repository, auth) });
            var repository = await LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache-" + auth.Count)), published.Repository, Platform.LinuxAmd64);
            var image = await repository.OpenPackageImageAsync(repository.Resolve(LuetPackageReference.Parse("k8s/k3s@1.30.1-k3s1")));
            image.Digest.ShouldBe(published.Images["k3s-k8s-1.30.1-k3s1"].Digest);
        }

        using var anonymous = new RegistryClient();
        await Should.ThrowAsync<RegistryUnauthorizedException>(() =>
            LuetDockerRepository.OpenAsync(anonymous, new BlobCache(_directory.Combine("anonymous")), published.Repository, Platform.LinuxAmd64));
    }

    private static async Task PushFileImageAsync(RegistryClient client, ImageReference reference, string fileName, byte[] content)
    {
        using var tar = new MemoryStream(Tar((fileName, content)));
        var store = new BlobCache(Path.Combine(Path.GetTempPath(), "edgeforge-luet-tests-" + Guid.NewGuid().ToString("N")));
        try
        {
            var layer = await LayerWriter.FromTarAsync(tar, store, new LayerOptions { DockerMediaTypes = true });
            var image = BuiltImage.Create(new ImageConfig { Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [] } }, [layer]);
            await ImageCopier.WriteAsync(image, new RegistryImageDestination(client, reference));
        }
        finally
        {
            Directory.Delete(store.Root, recursive: true);
        }
    }

    private static byte[] Tar(params (string Path, string Content)[] files) => Tar(files.Select(f => (f.Path, Encoding.UTF8.GetBytes(f.Content))).ToArray());

    private static byte[] Tar(params (string Path, byte[] Content)[] files)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(content) });
            }
        }

        return output.ToArray();
    }

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return output.ToArray();
    }
}
