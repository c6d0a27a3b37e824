namespace EdgeForge.Testing;

/// <summary>The repository checkout the tests run from (found upwards from the test assembly by EdgeForge.slnx).</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> RootDirectory = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "EdgeForge.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no EdgeForge.slnx above {AppContext.BaseDirectory}");
    });

    public static string Root => RootDirectory.Value;

    /// <summary>
    /// Checks that the generated document <paramref name="relative"/> is <paramref name="expected"/>; with
    /// <c>EDGEFORGE_UPDATE_DOCS=1</c> it writes it first (how generated docs are regenerated).
    /// </summary>
    public static void ShouldBeGenerated(string relative, string expected, string project)
    {
        var path = Path.Combine(Root, relative);
        if (Environment.GetEnvironmentVariable("EDGEFORGE_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
        }

        var how = $"regenerate it with: EDGEFORGE_UPDATE_DOCS=1 dotnet test {project}";
        File.Exists(path).ShouldBeTrue($"{relative} is missing; {how}");
        File.ReadAllText(path).ShouldBe(expected, $"{relative} is out of date; {how}");
    }
}
