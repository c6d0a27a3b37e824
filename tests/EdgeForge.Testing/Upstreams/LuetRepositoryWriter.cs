using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Testing;

/// <summary>A requirement of a fixture package: <c>requires: [{category, name, version}]</c>, version a luet selector such as <c>&gt;=1.0</c>.</summary>
public sealed record LuetFixtureRequirement(string Category, string Name, string Version);

/// <summary>A package for <see cref="LuetRepositoryWriter"/>: its identity, its runtime requirements and its files.</summary>
public sealed record LuetFixturePackage(string Category, string Name, string Version, IFileTreeSource Files)
{
    public IReadOnlyList<LuetFixtureRequirement> Requires { get; init; } = [];
}

/// <summary>What <see cref="LuetRepositoryWriter.PushAsync"/> pushed: every image by its tag.</summary>
public sealed record LuetFixtureRepository(ImageReference Repository, IReadOnlyDictionary<string, BuiltImage> Images);

/// <summary>
/// Publishes a luet repository of type docker to a registry the way `luet create-repo --type docker --push-images`
/// does (github.com/mudler/luet pkg/installer/repository_docker.go Generate), written from the format alone — none of
/// EdgeForge.Luet's code is used, so the reader is tested against an independent writer:
/// <list type="bullet">
/// <item>each package: image <c>NAME-CATEGORY-VERSION</c> ('+' → '-', pkg/helpers/references.go), one layer holding
/// the package's files (pkg/api/core/image/create.go CreateTar: the artifact tarball, decompressed, becomes the layer),
/// and image <c>NAME-CATEGORY-VERSION.metadata.yaml</c> holding that file (repository_docker.go Initialize);</item>
/// <item><c>tree.tar.gz</c> and <c>compilertree.tar.gz</c>: gzip tars of CATEGORY/NAME/VERSION/definition.yaml
/// (pkg/tree/installer_recipe.go Save; repository.go NewDefaultTreeRepositoryFile);</item>
/// <item><c>repository.meta.yaml.tar</c>: an uncompressed tar of repository.meta.yaml (repository.go AddMetadata,
/// NewDefaultMetaRepositoryFile);</item>
/// <item><c>repository.yaml</c>: the index with <c>repo_files</c> (file name, compression, sha256) — pushed last, as
/// luet does, so a reader never sees an index whose files are missing.</item>
/// </list>
/// Each repository file travels as an image tagged with its file name whose single layer holds just that file
/// (repository_docker.go pushImageFromArtifact → artifact.go CreateArtifactForFile + GenerateFinalImage). The YAML is
/// what github.com/ghodss/yaml makes of luet's JSON tags: keys sorted, strings quoted.
/// </summary>
public static class LuetRepositoryWriter
{
    public static async Task<LuetFixtureRepository> PushAsync(RegistryClient client, BlobCache blobs, ImageReference repository, IEnumerable<LuetFixturePackage> packages, int revision = 1, Platform? platform = null)
    {
        platform ??= Platform.LinuxAmd64;
        var list = packages.ToList();
        var images = new Dictionary<string, BuiltImage>(StringComparer.Ordinal);
        var artifacts = new List<object?>();

        foreach (var package in list)
        {
            var fingerprint = $"{package.Name}-{package.Category}-{package.Version}";
            var layer = await LayerWriter.WriteAsync(package.Files, blobs, new LayerOptions { DockerMediaTypes = true, KeepModificationTimes = true });
            var packageImage = CreateImage([layer], platform);
            images[Sanitize(fingerprint)] = packageImage;

            // The artifact as the index describes it; a docker client ignores its checksum (docker.go DownloadArtifact),
            // so the gzip tarball it names is the layer blob itself here.
            var artifact = Map(
                ("checksums", Map(("sha256", layer.Digest.Encoded))),
                ("compilationspec", Map(("package", PackageObject(package)))),
                ("compressiontype", "gzip"),
                ("dependencies", new List<object?>()),
                ("files", package.Files.Entries.Where(e => e.Kind != FileTreeEntryKind.Directory).Select(e => (object?)e.Path).ToList()),
                ("package_cacheimage", ""),
                ("path", $"{fingerprint}.package.tar.gz"),
                ("runtime", PackageObject(package)));
            artifacts.Add(artifact);
            var metadataName = $"{fingerprint}.metadata.yaml";
            images[Sanitize(metadataName)] = await FileImageAsync(blobs, metadataName, Encoding.UTF8.GetBytes(Yaml(artifact)), platform);
        }

        var tree = Gzip(Tar(list.Select(p => ($"{p.Category}/{p.Name}/{p.Version}/definition.yaml", Encoding.UTF8.GetBytes(Yaml(PackageObject(p)))))));
        var meta = Tar([("repository.meta.yaml", Encoding.UTF8.GetBytes(Yaml(Map(("index", artifacts)))))]);
        images["tree.tar.gz"] = await FileImageAsync(blobs, "tree.tar.gz", tree, platform);
        images["compilertree.tar.gz"] = await FileImageAsync(blobs, "compilertree.tar.gz", tree, platform);
        images["repository.meta.yaml.tar"] = await FileImageAsync(blobs, "repository.meta.yaml.tar", meta, platform);

        var index = Map(
            ("enable", true),
            ("index", new List<object?>()),
            ("last_update", "1700000000"),
            ("name", "fixture"),
            ("repo_files", Map(
                ("compilertree", RepositoryFile("compilertree.tar.gz", "gzip", tree)),
                ("meta", RepositoryFile("repository.meta.yaml.tar", "none", meta)),
                ("tree", RepositoryFile("tree.tar.gz", "gzip", tree)))),
            ("revision", revision),
            ("type", "docker"),
            ("urls", new List<object?> { repository.Name }));
        var indexImage = await FileImageAsync(blobs, "repository.yaml", Encoding.UTF8.GetBytes(Yaml(index)), platform);

        foreach (var (tag, image) in images)
        {
            await ImageCopier.WriteAsync(image, new RegistryImageDestination(client, repository.WithTag(tag)));
        }

        await ImageCopier.WriteAsync(indexImage, new RegistryImageDestination(client, repository.WithTag("repository.yaml")));
        images["repository.yaml"] = indexImage;
        return new LuetFixtureRepository(repository, images);
    }

    // ghodss/yaml goes through encoding/json, which leaves '+', '<' and '>' alone (no HTML escaping in YAML output).
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Sanitize(string value) => value.Replace('+', '-');

    private static SortedDictionary<string, object?> PackageObject(LuetFixturePackage package) => Map(
        ("category", package.Category),
        ("conflicts", null),
        ("id", 0),
        ("name", package.Name),
        ("requires", package.Requires.Count == 0
            ? null
            : package.Requires.Select(r => (object?)Map(("category", r.Category), ("conflicts", null), ("id", 0), ("name", r.Name), ("requires", null), ("version", r.Version))).ToList()),
        ("version", package.Version));

    private static SortedDictionary<string, object?> RepositoryFile(string fileName, string compression, byte[] content) => Map(
        ("checksums", Map(("sha256", Convert.ToHexStringLower(SHA256.HashData(content))))),
        ("compressiontype", compression),
        ("filename", fileName));

    private static SortedDictionary<string, object?> Map(params (string Key, object? Value)[] fields)
    {
        var map = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            map[key] = value;
        }

        return map;
    }

    /// <summary>An image whose one layer holds one file at its root (artifact.go CreateArtifactForFile: a tar of a directory with just that file).</summary>
    private static async Task<BuiltImage> FileImageAsync(BlobCache blobs, string fileName, byte[] content, Platform platform)
    {
        using var tar = new MemoryStream(Tar([(fileName, content)]));
        var layer = await LayerWriter.FromTarAsync(tar, blobs, new LayerOptions { DockerMediaTypes = true });
        return CreateImage([layer], platform);
    }

    // pkg/api/core/image/create.go imageFromTar: an empty image with the platform in its config, one appended layer
    // with history "luet" / "Custom image"; loaded into Docker and pushed, so Docker media types.
    private static BuiltImage CreateImage(IReadOnlyList<ILayer> layers, Platform platform) => BuiltImage.Create(new ImageConfig
    {
        Architecture = platform.Architecture,
        Os = platform.Os,
        Variant = platform.Variant,
        RootFs = new RootFs { DiffIds = [] },
        History = [new HistoryEntry { CreatedBy = "luet", Comment = "Custom image" }],
    }, layers);

    private static byte[] Tar(IEnumerable<(string Path, byte[] Content)> files)
    {
        using var output = new MemoryStream();
        using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
        {
            var directories = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (path, content) in files)
            {
                // moby/go-archive (pkg/helpers/archive.go Tar) writes the parent directories before their files.
                for (var slash = path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = path.IndexOf('/', slash + 1))
                {
                    if (directories.Add(path[..slash]))
                    {
                        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, path[..slash] + "/") { Mode = (UnixFileMode)0x1ED, ModificationTime = DateTimeOffset.UnixEpoch });
                    }
                }

                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { Mode = (UnixFileMode)0x1A4, ModificationTime = DateTimeOffset.UnixEpoch, DataStream = new MemoryStream(content) });
            }
        }

        return output.ToArray();
    }

    private static byte[] Gzip(byte[] content)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return output.ToArray();
    }

    /// <summary>Block YAML as gopkg.in/yaml.v2 prints what ghodss/yaml hands it: sorted keys, JSON-quoted strings.</summary>
    private static string Yaml(object? value)
    {
        var text = new StringBuilder();
        WriteYaml(text, value, 0, inSequence: false);
        return text.ToString();
    }

    private static void WriteYaml(StringBuilder text, object? value, int indent, bool inSequence)
    {
        var pad = new string(' ', indent);
        switch (value)
        {
            case SortedDictionary<string, object?> map:
                var first = true;
                foreach (var (key, item) in map)
                {
                    text.Append(first && inSequence ? "" : pad).Append(key).Append(':');
                    first = false;
                    if (item is SortedDictionary<string, object?> { Count: > 0 } or List<object?> { Count: > 0 })
                    {
                        text.Append('\n');
                        WriteYaml(text, item, indent + 2, inSequence: false);
                    }
                    else
                    {
                        text.Append(' ').Append(Scalar(item)).Append('\n');
                    }
                }

                break;
            case List<object?> list:
                foreach (var item in list)
                {
                    text.Append(pad).Append("- ");
                    if (item is SortedDictionary<string, object?> { Count: > 0 })
                    {
                        WriteYaml(text, item, indent + 2, inSequence: true);
                    }
                    else
                    {
                        text.Append(Scalar(item)).Append('\n');
                    }
                }

                break;
            default:
                text.Append(pad).Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static string Scalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        string s => JsonSerializer.Serialize(s, JsonOptions),
        SortedDictionary<string, object?> => "{}",
        List<object?> => "[]",
        _ => throw new ArgumentException($"no YAML form for {value.GetType()}"),
    };
}
