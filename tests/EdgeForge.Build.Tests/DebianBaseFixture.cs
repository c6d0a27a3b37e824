using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Planning;
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

    /// <summary>Loads <paramref name="project"/> (it must be valid: the errors are the message when not) and its diagnostics.</summary>
    public static (BuildPlan Plan, DiagnosticBag Diagnostics) Load(string project)
    {
        var loaded = ProjectLoader.Load(project, new ProjectOptions { Environment = _ => null });
        return (loaded.Plan ?? throw new InvalidOperationException("the test project is invalid: " + string.Join("; ", loaded.Diagnostics.Errors.Select(e => e.Message))),
            loaded.Diagnostics);
    }

    /// <summary>Builds the plan's provider images on the fixture base and checks they succeeded (the build's events are the message when not).</summary>
    public async Task<ProviderImageBuildReport> BuildProviderImagesAsync(BuildPlan plan, EventLog? log = null)
    {
        log ??= new EventLog();
        var report = (await EdgeBuild.RunAsync(plan, new EdgeBuildOptions { Registry = Debian.Client, Blobs = Debian.Blobs, Observer = log }, BuildTarget.ProviderImages)).ProviderImages!;
        report.Succeeded.ShouldBeTrue(log.ToString() + string.Join("\n", report.Images.Select(i => i.Error)));
        return report;
    }

    /// <summary>umoci's unpacking of the project's first provider image (from its OCI layout) under <paramref name="name"/>; returns the root filesystem.</summary>
    public async Task<string> UnpackAsync(string project, ProviderImageBuildReport report, string name)
    {
        var bundle = Work.Combine(name);
        await ExternalTool.RunAsync("umoci", "unpack", "--image", $"{Path.Combine(project, "build", "images")}:{report.Images[0].Tag}", bundle);
        return Path.Combine(bundle, "rootfs");
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
