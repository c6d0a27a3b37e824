using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace EdgeForge.Content.Bundles;

/// <summary>
/// <c>bundle-definition.yaml</c>, the first file of every bundle: what is inside (spec §9 "a definition file
/// describing what is inside"), so a bundle can be inspected by reading its first entries only. It records
/// references and digests, never credentials.
/// </summary>
public sealed class BundleDefinition
{
    public const string FileName = "bundle-definition.yaml";
    public const string CurrentApiVersion = "edgeforge.io/v1";

    public string ApiVersion { get; set; } = CurrentApiVersion;

    public string Kind { get; set; } = "ContentBundle";

    public string Name { get; set; } = "";

    public string Id { get; set; } = "";

    /// <summary>UTC, from SOURCE_DATE_EPOCH when set (reproducible-builds.org), so two builds of the same inputs are identical.</summary>
    public string Created { get; set; } = "";

    /// <summary>The <c>--arch</c> the images were reduced to, or <c>all</c> when every platform of an index is kept.</summary>
    public string Arch { get; set; } = "all";

    public List<BundleImage> Images { get; set; } = [];

    public List<BundleChart> Charts { get; set; } = [];

    public List<BundlePack> Packs { get; set; } = [];

    public BundleTotals Totals { get; set; } = new();

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .Build();

    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    public string ToYaml() => Serializer.Serialize(this);

    public static BundleDefinition Parse(string yaml, string source)
    {
        try
        {
            var definition = Deserializer.Deserialize<BundleDefinition>(yaml);
            if (definition is null || definition.ApiVersion != CurrentApiVersion || definition.Kind != "ContentBundle")
            {
                throw new InvalidDataException($"{source}: {FileName} is not an {CurrentApiVersion} ContentBundle definition");
            }

            return definition;
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{source}: {FileName} is not valid YAML: {e.Message}");
        }
    }
}

public sealed class BundleImage
{
    /// <summary>The full reference as normalised (registry/repository:tag), also the index.json <c>org.opencontainers.image.ref.name</c>.</summary>
    public string Reference { get; set; } = "";

    public string Digest { get; set; } = "";

    public string MediaType { get; set; } = "";

    /// <summary>Bytes of every manifest and blob of this image (shared blobs count for each image holding them).</summary>
    public long Size { get; set; }

    public List<string> Platforms { get; set; } = [];
}

public sealed class BundleChart
{
    public string Name { get; set; } = "";

    /// <summary>Where a local chart is in the bundle (<c>charts/NAME.tgz</c>); null for an OCI chart, which is in the image layout.</summary>
    public string? Path { get; set; }

    /// <summary>The OCI reference of a chart pulled from a registry, without <c>oci://</c>.</summary>
    public string? Reference { get; set; }

    public string Digest { get; set; } = "";

    public long Size { get; set; }
}

public sealed class BundlePack
{
    public string Profile { get; set; } = "";

    public string ProfileType { get; set; } = "";

    public string Name { get; set; } = "";

    public string? Version { get; set; }

    /// <summary>The pack's description in the bundle (<c>packs/PROFILE/PACK.yaml</c>).</summary>
    public string Path { get; set; } = "";

    public List<string> Images { get; set; } = [];

    public List<string> Charts { get; set; } = [];

    public List<string> Manifests { get; set; } = [];
}

public sealed class BundleTotals
{
    public int Images { get; set; }

    public int Blobs { get; set; }

    public long BlobBytes { get; set; }

    public int Charts { get; set; }

    public int Packs { get; set; }

    public int Manifests { get; set; }

    /// <summary>Bytes of every file in the bundle before compression.</summary>
    public long ContentBytes { get; set; }
}
