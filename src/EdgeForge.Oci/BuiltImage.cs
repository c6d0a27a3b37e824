using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

/// <summary>
/// An image assembled in memory from layers and a config (go-containerregistry's mutate/empty, in C#): the config's
/// rootfs diff-ids are set from the layers, config and manifest are serialised once, and the result is immutable —
/// every change returns a new image and leaves the old one untouched.
/// </summary>
public sealed class BuiltImage : IImage
{
    private BuiltImage(ManifestContent rawManifest, ImageManifest manifest, byte[] rawConfig, ImageConfig config, IReadOnlyList<ILayer> layers)
    {
        RawManifest = rawManifest;
        Manifest = manifest;
        RawConfig = rawConfig;
        Config = config;
        Layers = layers;
    }

    public ManifestContent RawManifest { get; }

    public Digest Digest => RawManifest.Digest;

    public ImageManifest Manifest { get; }

    public ReadOnlyMemory<byte> RawConfig { get; }

    public ImageConfig Config { get; }

    public IReadOnlyList<ILayer> Layers { get; }

    /// <summary>
    /// Builds an image. The manifest family follows the layers: Docker media types when every layer has one,
    /// else OCI (mixing families in one manifest is invalid for Docker clients).
    /// </summary>
    public static BuiltImage Create(ImageConfig config, IReadOnlyList<ILayer> layers, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var docker = layers.Count > 0 && layers.All(l => l.MediaType.StartsWith("application/vnd.docker.", StringComparison.Ordinal));
        var finalConfig = config with { RootFs = new RootFs { DiffIds = layers.Select(l => l.DiffId).ToList() } };
        var rawConfig = OciJson.Serialize(finalConfig);
        var manifest = new ImageManifest
        {
            SchemaVersion = 2,
            MediaType = docker ? MediaTypes.DockerManifest : MediaTypes.OciManifest,
            Config = Descriptor.For(docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, rawConfig),
            Layers = layers.Select(l => l.Descriptor).ToList(),
            Annotations = docker ? null : annotations,
        };
        var rawManifest = new ManifestContent(OciJson.Serialize(manifest), manifest.MediaType);
        return new BuiltImage(rawManifest, manifest, rawConfig, finalConfig, layers);
    }

    /// <summary>An image with <paramref name="layers"/> on top of <paramref name="baseImage"/>, one history entry per layer.</summary>
    public static BuiltImage AppendLayers(IImage baseImage, IEnumerable<(ILayer Layer, HistoryEntry History)> layers)
    {
        var added = layers.ToList();
        var history = (baseImage.Config.History ?? []).Concat(added.Select(a => a.History with { EmptyLayer = null })).ToList();
        var config = baseImage.Config with { History = history };
        return Create(config, baseImage.Layers.Concat(added.Select(a => a.Layer)).ToList(), baseImage.Manifest.Annotations);
    }

    /// <summary>The same layers with a changed config (labels, env, entrypoint …); an empty-layer history entry records the change when given.</summary>
    public static BuiltImage WithConfig(IImage image, Func<ImageConfig, ImageConfig> change, HistoryEntry? history = null)
    {
        var config = change(image.Config);
        if (history is not null)
        {
            config = config with { History = (config.History ?? []).Append(history with { EmptyLayer = true }).ToList() };
        }

        return Create(config, image.Layers, image.Manifest.Annotations);
    }

    /// <summary>RFC 3339 UTC time of a Unix epoch second, as the config's <c>created</c> fields want it.</summary>
    public static string FormatCreated(long epochSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(epochSeconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
