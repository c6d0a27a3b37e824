using EdgeForge.Configuration.Arguments;
using EdgeForge.Testing;

namespace EdgeForge.Configuration.Tests;

/// <summary>docs/arg-reference.md is generated from <see cref="BuildArgumentCatalog"/>, so the reference cannot drift from the code.</summary>
public sealed class ArgReferenceDocumentTests
{
    [Fact]
    public void The_key_reference_matches_the_catalog() =>
        RepositoryFiles.ShouldBeGenerated("docs/arg-reference.md", ArgReferenceDocument.Render(), "tests/EdgeForge.Configuration.Tests");
}
