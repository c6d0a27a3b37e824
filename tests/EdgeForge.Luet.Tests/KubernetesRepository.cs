using EdgeForge.FileTree;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;

namespace EdgeForge.Luet.Tests;

/// <summary>
/// The Spectro-style Kubernetes repository the tests read: two k3s versions that need different versions of a base
/// package, and a package whose requirement nothing satisfies.
/// </summary>
public static class KubernetesRepository
{
    // 2024-01-02T03:04:05Z: the artifacts' own file times, which the files layer must keep.
    public const long FileTime = 1704164645;

    public static IReadOnlyList<LuetFixturePackage> Packages() =>
    [
        new("k8s", "k3s", "1.30.1-k3s1", K3s("1.30.1"))
        {
            Requires = [new("system", "k8s-base", "<1.1")],
        },
        new("k8s", "k3s", "1.30.2-k3s1", K3s("1.30.2"))
        {
            Requires = [new("system", "k8s-base", ">=1.0")],
        },
        // '+' is legal in luet versions and becomes '-' in the artifact's tag (pkg/helpers/references.go).
        new("system", "k8s-base", "1.0.0+2", Base("1.0.0+2")),
        new("system", "k8s-base", "1.1.0", Base("1.1.0")),
        new("k8s", "broken", "1.0", new InMemoryFileTreeSource().AddFile("opt/broken", "x"))
        {
            Requires = [new("system", "k8s-base", ">=9.0")],
        },
    ];

    private static InMemoryFileTreeSource K3s(string version) => new InMemoryFileTreeSource()
        .AddFile("usr/bin/k3s", $"#!/bin/sh\necho k3s {version}\n", mode: 0x1ED, modificationTime: FileTime)
        .AddFile("etc/rancher/k3s/config.yaml", "write-kubeconfig-mode: \"0600\"\n", mode: 0x180, modificationTime: FileTime)
        .AddSymlink("usr/local/bin/kubectl", "../../bin/k3s", modificationTime: FileTime)
        .AddFile("opt/shared.txt", $"k3s {version}\n", modificationTime: FileTime)
        .AddFile("var/cache/luet/packages/k3s.tar.zst", "luet's download cache", modificationTime: FileTime)
        .AddFile("var/lib/rancher/k3s/VERSION", version, modificationTime: FileTime);

    private static InMemoryFileTreeSource Base(string version) => new InMemoryFileTreeSource()
        .AddFile("etc/k8s-base/version", version, modificationTime: FileTime)
        .AddFile("opt/shared.txt", $"base {version}\n", modificationTime: FileTime)
        .AddFile("var/cache/luet/db/base", "luet's database", modificationTime: FileTime);

    public static async Task<LuetFixtureRepository> PushAsync(RegistryProcess registry, string directory, string repository, RegistryCredential? credential = null)
    {
        var options = credential is null ? new RegistryClientOptions() : new RegistryClientOptions { Credentials = new StaticCredentialProvider(credential) };
        using var client = new RegistryClient(options);
        // The publisher's blobs live apart from any reader's cache, so readers really download and verify.
        return await LuetRepositoryWriter.PushAsync(client, new BlobCache(Path.Combine(directory, "publisher-cache")), ImageReference.Parse($"{registry.Address}/{repository}"), Packages());
    }
}

/// <summary>One registry with the Kubernetes repository pushed once, shared by a test class.</summary>
public sealed class KubernetesRepositoryFixture : IAsyncLifetime
{
    private readonly TestDirectory _directory = new();

    public RegistryProcess Registry { get; private set; } = null!;

    public LuetFixtureRepository Published { get; private set; } = null!;

    public ImageReference Repository => Published.Repository;

    public async Task InitializeAsync()
    {
        Registry = await RegistryProcess.StartAsync();
        Published = await KubernetesRepository.PushAsync(Registry, _directory.Path, "edge/luet-repo-amd");
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        _directory.Dispose();
    }
}
