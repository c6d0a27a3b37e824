using EdgeForge.Oci.Model;

namespace EdgeForge.Luet;

/// <summary>
/// A dependency or conflict of a package, as its tree definition lists it (luet pkg/api/core/types/package.go
/// <c>requires</c> / <c>conflicts</c>: a category, a name and a version selector such as <c>&gt;=1.0</c>).
/// </summary>
public sealed record LuetPackageRequirement(string Category, string Name, string VersionSelector)
{
    public string PackageName => $"{Category}/{Name}";

    public bool IsSatisfiedBy(LuetPackageInfo package) =>
        package.Category == Category && package.Name == Name && LuetVersion.Satisfies(package.Version, VersionSelector);

    public override string ToString() => VersionSelector.Length == 0 ? PackageName : $"{PackageName} {VersionSelector}";
}

/// <summary>
/// One package of a luet repository: its runtime definition from the tree (luet pkg/tree/installer_recipe.go:
/// <c>CATEGORY/NAME/VERSION/definition.yaml</c>) joined with its artifact entry of <c>repository.meta.yaml</c>.
/// </summary>
public sealed record LuetPackageInfo
{
    public required string Category { get; init; }

    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>The runtime dependencies (<c>requires</c> of the definition).</summary>
    public IReadOnlyList<LuetPackageRequirement> Requires { get; init; } = [];

    public IReadOnlyList<LuetPackageRequirement> Conflicts { get; init; } = [];

    /// <summary>
    /// The tag of the package's artifact image in the repository (luet pkg/api/core/types/package.go ImageID:
    /// <c>NAME-CATEGORY-VERSION</c> with '+' replaced by '-', pkg/helpers/references.go SanitizeImageString).
    /// </summary>
    public required string ArtifactTag { get; init; }

    /// <summary><see cref="ArtifactTag"/> in the repository: the image <c>luet install</c> pulls.</summary>
    public required ImageReference ArtifactImage { get; init; }

    /// <summary>Whether <c>repository.meta.yaml</c> lists an artifact for the package (luet install refuses one without).</summary>
    public bool HasArtifact { get; init; }

    /// <summary>The artifact file name the index records (e.g. <c>k3s-k8s-1.30.1+k3s1.package.tar.zst</c>), or null.</summary>
    public string? ArtifactFileName { get; init; }

    /// <summary>
    /// The compression of the artifact tarball the package was built into (<c>none</c>, <c>gzip</c>, <c>zstd</c>). A
    /// docker repository stores that tarball decompressed as the image's layer, so this is informational.
    /// </summary>
    public string? ArtifactCompression { get; init; }

    /// <summary>
    /// The index's checksums of the artifact tarball (<c>sha256</c> → hex). They cover the tarball as built, not the
    /// image: luet's docker client (pkg/installer/client/docker.go DownloadArtifact) discards them and relies on the
    /// image's digests, and so does this client.
    /// </summary>
    public IReadOnlyDictionary<string, string> Checksums { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    public bool Hidden { get; init; }

    /// <summary>The path of the definition inside the tree tarball, e.g. <c>k8s/k3s/1.30.1-k3s1/definition.yaml</c>.</summary>
    public required string DefinitionPath { get; init; }

    /// <summary>The definition file as the repository ships it (YAML).</summary>
    public required string RawDefinition { get; init; }

    public LuetPackageReference Reference => new(Category, Name, Version);

    public override string ToString() => Reference.ToString();
}
