namespace EdgeForge.DiskFormats.Tests;

/// <summary>A scratch directory under /tmp, removed when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("edgeforge-diskformats-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A busy mount point is unmounted by the test that made it; leftovers in /tmp are harmless.
        }
    }
}
