using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// One debootstrap Debian base image in one registry for the heavy apt tests (debootstrap takes minutes: once per run,
/// not once per test), and the CanvOS project each of them builds on it.
/// </summary>
public sealed class DebianBaseFixture : IAsyncLifetime
{
    private RegistryProcess? _registry;
    private DebianBaseImage? _debian;

    public TestDirectory Work { get; } = new();

    public RegistryProcess Registry => _registry ?? throw new InvalidOperationException("the fixture is not initialised");

    public DebianBaseImage Debian => _debian ?? throw new InvalidOperationException("the fixture is not initialised");

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        _debian = await DebianBaseImage.PushAsync(_registry, Work);
    }

    /// <summary>A project directory <paramref name="name"/>: Debian 12 on the base image, k3s 1.30.1 not bundled, then <paramref name="extraArg"/> lines.</summary>
    public string Project(string name, string extraArg = "")
    {
        var project = Work.Combine(name);
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, ".arg"), $"""
            IMAGE_REGISTRY={Registry.Address}/edge
            OS_DISTRIBUTION=debian
            OS_VERSION=12
            BASE_IMAGE={Debian.Reference}
            K8S_VERSION=1.30.1
            BUNDLE_K8S_AND_AGENT_PROVIDER=false

            """ + extraArg);
        File.WriteAllText(Path.Combine(project, "k8s_version.json"), "{\"k3s\": [\"1.30.1\"]}\n");
        return project;
    }

    public async Task DisposeAsync()
    {
        _debian?.Dispose();
        Work.Dispose();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }
}

[CollectionDefinition(nameof(DebianBaseCollection))]
public sealed class DebianBaseCollection : ICollectionFixture<DebianBaseFixture>;
