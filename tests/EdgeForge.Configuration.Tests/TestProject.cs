namespace EdgeForge.Configuration.Tests;

/// <summary>A throw-away project directory for one test.</summary>
internal sealed class TestProject : IDisposable
{
    public TestProject() => Directory = System.IO.Directory.CreateTempSubdirectory("ef-config-").FullName;

    public string Directory { get; }

    public TestProject With(string relativePath, string content)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public TestProject WithFixture(string fixture, string relativePath) => With(relativePath, File.ReadAllText(Fixtures.Path(fixture)));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>The repository's test fixtures (tests/fixtures), found from the test assembly's location.</summary>
internal static class Fixtures
{
    private static readonly string Root = FindRoot();

    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);

    public static string Read(string relative) => File.ReadAllText(Path(relative));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = System.IO.Path.Combine(directory.FullName, "tests", "fixtures");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures not found above " + AppContext.BaseDirectory);
    }
}
