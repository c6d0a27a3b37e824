namespace EdgeForge.Testing;

/// <summary>One anonymous registry shared by a test class.</summary>
public sealed class AnonymousRegistryFixture : IAsyncLifetime
{
    public RegistryProcess Registry { get; private set; } = null!;

    public async Task InitializeAsync() => Registry = await RegistryProcess.StartAsync();

    public async Task DisposeAsync() => await Registry.DisposeAsync();
}
