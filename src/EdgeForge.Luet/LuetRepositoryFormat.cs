using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace EdgeForge.Luet;

/// <summary>
/// The names and documents of a luet repository as luet publishes and reads it. Every fact here cites the luet source
/// file it comes from (github.com/mudler/luet).
/// </summary>
public static class LuetRepositoryFormat
{
    /// <summary>
    /// The index: luet pkg/installer/repository.go REPOSITORY_SPECFILE. For a docker repository it is the image tag
    /// "repository.yaml" (pkg/installer/repository_docker.go Generate → pushRepoMetadata(repospec, REPOSITORY_SPECFILE)),
    /// and `luet repo update` downloads exactly that file first (repository.go Sync → DownloadFile(referenceID())).
    /// </summary>
    public const string IndexFileName = "repository.yaml";

    /// <summary>The key of the package tree in <c>repo_files</c> (repository.go REPOFILE_TREE_KEY); mandatory (ReadSpecFile).</summary>
    public const string TreeKey = "tree";

    /// <summary>The key of the artifact metadata in <c>repo_files</c> (repository.go REPOFILE_META_KEY); mandatory (ReadSpecFile).</summary>
    public const string MetaKey = "meta";

    /// <summary>The file inside the meta tarball (repository.go REPOSITORY_METAFILE, read by Sync from the unpacked metafs).</summary>
    public const string MetaFileName = "repository.meta.yaml";

    /// <summary>The runtime definition of each package in the tree (pkg/api/core/types/package.go PackageDefinitionFile).</summary>
    public const string DefinitionFileName = "definition.yaml";

    /// <summary>
    /// The tag of the image that carries a repository file: luet pkg/installer/client/docker.go DownloadFile pulls
    /// <c>URL:SanitizeImageString(name)</c> and copies the file <c>name</c> out of the extracted image;
    /// pkg/helpers/references.go SanitizeImageString replaces '+' with '-'.
    /// </summary>
    public static string TagOfFile(string fileName) => fileName.Replace('+', '-');

    /// <summary>
    /// The tag of a package's artifact image: docker.go DownloadArtifact pulls <c>URL:ImageID()</c>, and
    /// pkg/api/core/types/package.go defines ImageID as SanitizeImageString(GetFingerPrint()) with the fingerprint
    /// <c>NAME-CATEGORY-VERSION</c>.
    /// </summary>
    public static string TagOfPackage(string category, string name, string version) => TagOfFile($"{name}-{category}-{version}");

    internal static readonly IDeserializer Yaml = new DeserializerBuilder().IgnoreUnmatchedProperties().Build();

    internal static T Parse<T>(TextReader reader, string where)
        where T : class
    {
        try
        {
            return Yaml.Deserialize<T>(reader) ?? throw new LuetRepositoryFormatException($"{where}: the document is empty");
        }
        catch (YamlException e)
        {
            // YamlDotNet's messages carry the line and column; the inner exception's message says which field.
            var detail = e.InnerException is { } inner ? $"{e.Message} {inner.Message}" : e.Message;
            throw new LuetRepositoryFormatException($"{where}: not valid luet YAML: {detail}", e);
        }
    }
}

// The YAML documents. luet writes repository.yaml and repository.meta.yaml with github.com/ghodss/yaml (JSON field
// tags become the YAML keys; pkg/installer/repository.go imports it) and the tree definitions with Package.Yaml()
// (JSON → YAML, pkg/api/core/types/package.go), so the keys below are the `json:"…"` tags of luet's structs.

/// <summary>repository.yaml: luet pkg/installer/repository.go LuetSystemRepository (with the inlined pkg/api/core/types/repository.go LuetRepository).</summary>
internal sealed class RepositorySpecDocument
{
    [YamlMember(Alias = "name")]
    public string? Name { get; set; }

    [YamlMember(Alias = "type")]
    public string? Type { get; set; }

    [YamlMember(Alias = "revision")]
    public int Revision { get; set; }

    [YamlMember(Alias = "last_update")]
    public string? LastUpdate { get; set; }

    [YamlMember(Alias = "repo_files")]
    public Dictionary<string, RepositoryFileDocument?>? RepositoryFiles { get; set; }
}

/// <summary>One entry of <c>repo_files</c>: repository.go LuetRepositoryFile.</summary>
internal sealed class RepositoryFileDocument
{
    [YamlMember(Alias = "filename")]
    public string? FileName { get; set; }

    /// <summary>pkg/api/core/types/compilerspec.go CompressionImplementation: "none", "gzip", "zstd" (empty = none).</summary>
    [YamlMember(Alias = "compressiontype")]
    public string? CompressionType { get; set; }

    /// <summary>pkg/api/core/types/artifact/checksum.go Checksums: "sha256" → lowercase hex of the file.</summary>
    [YamlMember(Alias = "checksums")]
    public Dictionary<string, string>? Checksums { get; set; }
}

/// <summary>repository.meta.yaml: repository.go LuetSystemRepositoryMetadata.</summary>
internal sealed class RepositoryMetaDocument
{
    [YamlMember(Alias = "index")]
    public List<ArtifactDocument?>? Index { get; set; }
}

/// <summary>pkg/api/core/types/artifact/artifact.go PackageArtifact (only the fields a client needs; `files` is skipped).</summary>
internal sealed class ArtifactDocument
{
    [YamlMember(Alias = "path")]
    public string? Path { get; set; }

    [YamlMember(Alias = "compilationspec")]
    public CompilationSpecDocument? CompileSpec { get; set; }

    [YamlMember(Alias = "checksums")]
    public Dictionary<string, string>? Checksums { get; set; }

    [YamlMember(Alias = "compressiontype")]
    public string? CompressionType { get; set; }
}

/// <summary>pkg/api/core/types/compilerspec.go LuetCompilationSpec: only its <c>package</c>.</summary>
internal sealed class CompilationSpecDocument
{
    [YamlMember(Alias = "package")]
    public PackageDocument? Package { get; set; }
}

/// <summary>pkg/api/core/types/package.go Package.</summary>
internal sealed class PackageDocument
{
    [YamlMember(Alias = "name")]
    public string? Name { get; set; }

    [YamlMember(Alias = "category")]
    public string? Category { get; set; }

    [YamlMember(Alias = "version")]
    public string? Version { get; set; }

    [YamlMember(Alias = "requires")]
    public List<PackageDocument?>? Requires { get; set; }

    [YamlMember(Alias = "conflicts")]
    public List<PackageDocument?>? Conflicts { get; set; }

    [YamlMember(Alias = "labels")]
    public Dictionary<string, string>? Labels { get; set; }

    [YamlMember(Alias = "annotations")]
    public Dictionary<string, string>? Annotations { get; set; }

    [YamlMember(Alias = "hidden")]
    public bool Hidden { get; set; }
}
