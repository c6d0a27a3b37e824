using System.Text.Json;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;

namespace EdgeForge.Luet.Tests;

/// <summary>
/// Given a luet docker repository published as luet publishes it, when EdgeForge opens it, resolves k8s/k3s and lays
/// its files into a layer, then it sees what `luet repo update` and `luet install` would, and GNU tar agrees.
/// </summary>
public class DockerRepositoryTests(KubernetesRepositoryFixture fixture) : IClassFixture<KubernetesRepositoryFixture>, IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private async Task<LuetDockerRepository> OpenAsync(RegistryClient client) =>
        await LuetDockerRepository.OpenAsync(client, new BlobCache(_directory.Combine("cache")), fixture.Repository, Platform.LinuxAmd64);

    [Fact]
    public async Task Opening_the_repository_reads_the_index_the_tree_and_the_artifact_metadata()
    {
        using var client = new RegistryClient();
        var repository = await OpenAsync(client);

        repository.Repository.Name.ShouldBe(fixture.Repository.Name);
        repository.Revision.ShouldBe(1);
        repository.IndexDigest.ShouldBe(fixture.Published.Images["repository.yaml"].Digest);
        repository.Packages.Select(p => p.ToString()).ShouldBe([
            "k8s/broken@1.0",
            "k8s/k3s@1.30.1-k3s1",
            "k8s/k3s@1.30.2-k3s1",
            "system/k8s-base@1.0.0+2",
            "system/k8s-base@1.1.0",
        ]);

        var k3s = repository.Resolve(LuetPackageReference.Parse("k8s/k3s@1.30.2-k3s1"));
        k3s.Requires.ShouldBe([new LuetPackageRequirement("system", "k8s-base", ">=1.0")]);
        k3s.ArtifactTag.ShouldBe("k3s-k8s-1.30.2-k3s1");
        k3s.ArtifactImage.ToString().ShouldBe($"{fixture.Repository.Name}:k3s-k8s-1.30.2-k3s1");
        k3s.HasArtifact.ShouldBeTrue();
        k3s.ArtifactFileName.ShouldBe("k3s-k8s-1.30.2-k3s1.package.tar.gz");
        k3s.Checksums["sha256"].ShouldMatch("^[0-9a-f]{64}$");
        k3s.DefinitionPath.ShouldBe("k8s/k3s/1.30.2-k3s1/definition.yaml");
        k3s.RawDefinition.ShouldContain("requires:");

        repository.Resolve(LuetPackageReference.Parse("system/k8s-base@1.0.0+2")).ArtifactTag.ShouldBe("k8s-base-system-1.0.0-2");
    }

    [Fact]
    public async Task An_unknown_version_names_the_repository_and_lists_the_versions_there_are()
    {
        using var client = new RegistryClient();
        var repository = await OpenAsync(client);

        var missing = Should.Throw<LuetPackageNotFoundException>(() => repository.Resolve(LuetPackageReference.Parse("k8s/k3s@1.29.0-k3s1")));
        missing.Message.ShouldBe($"luet repository {fixture.Repository.Name} has no version 1.29.0-k3s1 of k8s/k3s; available versions: 1.30.1-k3s1, 1.30.2-k3s1");
        missing.Repository.ShouldBe(repository.Repository);
        missing.Package.ShouldBe(LuetPackageReference.Parse("k8s/k3s@1.29.0-k3s1"));

        var unknown = Should.Throw<LuetPackageNotFoundException>(() => repository.Resolve(LuetPackageReference.Parse("k8s/rke2@1.30.1-rke2r1")));
        unknown.Message.ShouldContain("has no package k8s/rke2");
    }

    [Fact]
    public async Task Dependencies_come_first_and_selectors_pick_the_newest_version_they_allow()
    {
        using var client = new RegistryClient();
        var repository = await OpenAsync(client);

        repository.ResolveWithDependencies(LuetPackageReference.Parse("k8s/k3s@1.30.2-k3s1")).Select(p => p.ToString())
            .ShouldBe(["system/k8s-base@1.1.0", "k8s/k3s@1.30.2-k3s1"]);
        repository.ResolveWithDependencies(LuetPackageReference.Parse("k8s/k3s@1.30.1-k3s1")).Select(p => p.ToString())
            .ShouldBe(["system/k8s-base@1.0.0+2", "k8s/k3s@1.30.1-k3s1"]);

        var unsatisfiable = Should.Throw<LuetPackageNotFoundException>(() => repository.ResolveWithDependencies(LuetPackageReference.Parse("k8s/broken@1.0")));
        unsatisfiable.Message.ShouldBe(
            $"k8s/broken@1.0 requires system/k8s-base >=9.0, which no version in luet repository {fixture.Repository.Name} satisfies; available versions of system/k8s-base: 1.0.0+2, 1.1.0");
        unsatisfiable.Package.ToString().ShouldBe("system/k8s-base@>=9.0");
    }

    [Fact]
    public async Task The_files_layer_holds_every_package_file_as_GNU_tar_lists_it_without_var_cache()
    {
        using var client = new RegistryClient();
        var repository = await OpenAsync(client);
        var packages = repository.ResolveWithDependencies(LuetPackageReference.Parse("k8s/k3s@1.30.2-k3s1"));
        var output = new BlobCache(_directory.Combine("output"));

        var layer = (BlobLayer)await repository.WriteFilesLayerAsync(packages, output, new LayerOptions { SourceDateEpoch = 0 });

        var listing = await ExternalTool.RunAsync("tar", "--utc", "--numeric-owner", "-tvzf", layer.Path);
        var lines = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string Line(string path) => lines.Single(l => l.EndsWith(" " + path, StringComparison.Ordinal) || l.Contains($" {path} -> ", StringComparison.Ordinal));
        Line("usr/bin/k3s").ShouldStartWith("-rwxr-xr-x 0/0");
        Line("usr/bin/k3s").ShouldContain("2024-01-02 03:04");
        Line("etc/rancher/k3s/config.yaml").ShouldStartWith("-rw------- 0/0");
        Line("usr/local/bin/kubectl").ShouldStartWith("lrwxrwxrwx");
        Line("usr/local/bin/kubectl").ShouldEndWith("usr/local/bin/kubectl -> ../../bin/k3s");
        Line("etc/k8s-base/version").ShouldStartWith("-rw-r--r-- 0/0");
        Line("var/lib/rancher/k3s/VERSION").ShouldNotBeNull();
        // CanvOS: rm -rf /output/var/cache/* — the directory stays, nothing under it.
        Line("var/cache/").ShouldStartWith("d");
        lines.Where(l => l.Contains(" var/cache/", StringComparison.Ordinal) && !l.EndsWith(" var/cache/", StringComparison.Ordinal)).ShouldBeEmpty();

        // The later package (k3s, after its dependency) wins a path both ship.
        (await ExternalTool.RunAsync("tar", "-xzOf", layer.Path, "opt/shared.txt")).ShouldBe("k3s 1.30.2\n");
        (await ExternalTool.RunAsync("tar", "-xzOf", layer.Path, "etc/k8s-base/version")).ShouldBe("1.1.0");

        // Deterministic: the same packages give the same layer.
        var again = await repository.WriteFilesLayerAsync(packages, new BlobCache(_directory.Combine("output2")), new LayerOptions { SourceDateEpoch = 0 });
        again.Digest.ShouldBe(layer.Digest);
        again.DiffId.ShouldBe(layer.DiffId);
    }

    [Fact]
    public async Task Skopeo_sees_the_tags_luet_reads()
    {
        var tags = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "list-tags", "--tls-verify=false", $"docker://{fixture.Repository.Name}"))
            .RootElement.GetProperty("Tags").EnumerateArray().Select(t => t.GetString()!).ToList();
        foreach (var tag in new[]
                 {
                     "repository.yaml", "tree.tar.gz", "compilertree.tar.gz", "repository.meta.yaml.tar",
                     "k3s-k8s-1.30.1-k3s1", "k3s-k8s-1.30.2-k3s1", "k8s-base-system-1.0.0-2", "k8s-base-system-1.1.0",
                     "k3s-k8s-1.30.1-k3s1.metadata.yaml",
                 })
        {
            tags.ShouldContain(tag);
        }

        using var client = new RegistryClient();
        var repository = await OpenAsync(client);
        var index = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{fixture.Repository.Name}:repository.yaml")).RootElement;
        index.GetProperty("Digest").GetString().ShouldBe(repository.IndexDigest.ToString());
        index.GetProperty("Architecture").GetString().ShouldBe("amd64");

        var k3s = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "--tls-verify=false", $"docker://{fixture.Repository.Name}:k3s-k8s-1.30.2-k3s1")).RootElement;
        var image = await repository.OpenPackageImageAsync(repository.Resolve(LuetPackageReference.Parse("k8s/k3s@1.30.2-k3s1")));
        k3s.GetProperty("Digest").GetString().ShouldBe(image.Digest.ToString());
        k3s.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()).ShouldBe(image.Layers.Select(l => l.Digest.ToString()));
    }
}
