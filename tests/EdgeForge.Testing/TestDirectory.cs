namespace EdgeForge.Testing;

/// <summary>A fresh scratch directory under /tmp, deleted at dispose.</summary>
public sealed class TestDirectory : IDisposable
{
    public TestDirectory(string prefix = "edgeforge-test-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
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
        catch (UnauthorizedAccessException)
        {
            // A tree a test made read-only on purpose; leftovers in /tmp are harmless.
        }
    }
}
