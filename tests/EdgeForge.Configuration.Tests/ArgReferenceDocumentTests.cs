using EdgeForge.Configuration.Arguments;

namespace EdgeForge.Configuration.Tests;

/// <summary>docs/arg-reference.md is generated from <see cref="BuildArgumentCatalog"/>, so the reference cannot drift from the code.</summary>
public sealed class ArgReferenceDocumentTests
{
    [Fact]
    public void The_key_reference_matches_the_catalog()
    {
        var path = Path.Combine(Fixtures.RepositoryRoot, "docs", "arg-reference.md");
        var expected = ArgReferenceDocument.Render();
        if (Environment.GetEnvironmentVariable("EDGEFORGE_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
        }

        File.Exists(path).ShouldBeTrue("docs/arg-reference.md is missing; regenerate it with: EDGEFORGE_UPDATE_DOCS=1 dotnet test tests/EdgeForge.Configuration.Tests");
        File.ReadAllText(path).ShouldBe(expected, "docs/arg-reference.md is out of date; regenerate it with: EDGEFORGE_UPDATE_DOCS=1 dotnet test tests/EdgeForge.Configuration.Tests");
    }
}
