using System.Reflection;
using System.Text.Json;

namespace EdgeForge.Configuration.Planning;

/// <summary>The default base image of each OS and version, and typical sizes for the disk estimate — data, not code (base-images.json).</summary>
public sealed class BaseImageCatalog
{
    private readonly Dictionary<string, Dictionary<string, string>> _images;
    private readonly Dictionary<string, long> _typicalCompressedMiB;
    private readonly Dictionary<string, long> _kubernetesLayerMiB;

    private BaseImageCatalog(string kairosVersion, Dictionary<string, Dictionary<string, string>> images,
        Dictionary<string, long> typicalCompressedMiB, Dictionary<string, long> kubernetesLayerMiB)
    {
        KairosVersion = kairosVersion;
        _images = images;
        _typicalCompressedMiB = typicalCompressedMiB;
        _kubernetesLayerMiB = kubernetesLayerMiB;
    }

    public string KairosVersion { get; }

    public static BaseImageCatalog BuiltIn { get; } = Load();

    /// <summary>The default image for the OS, or null when it has none (BASE_IMAGE is then required).</summary>
    public string? DefaultFor(string os, string version, string arch, string? mirror)
    {
        if (!_images.TryGetValue(os, out var versions) || !versions.TryGetValue(version, out var template))
        {
            return null;
        }

        var reference = template.Replace("{arch}", arch, StringComparison.Ordinal).Replace("{kairos}", KairosVersion, StringComparison.Ordinal);
        return mirror is null ? reference : mirror.TrimEnd('/') + reference[reference.IndexOf('/')..];
    }

    public long TypicalCompressedBytes(string os) =>
        (_typicalCompressedMiB.TryGetValue(os, out var mib) ? mib : _typicalCompressedMiB["other"]) << 20;

    public long KubernetesLayerBytes(string distribution) =>
        (_kubernetesLayerMiB.TryGetValue(distribution, out var mib) ? mib : 300) << 20;

    private static BaseImageCatalog Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("EdgeForge.Configuration.base-images.json")
            ?? throw new InvalidOperationException("the built-in base-images.json resource is missing");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;
        var images = root.GetProperty("images").EnumerateObject().ToDictionary(
            os => os.Name,
            os => os.Value.EnumerateObject().ToDictionary(v => v.Name, v => v.Value.GetString()!));
        Dictionary<string, long> Sizes(string name) =>
            root.GetProperty(name).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        return new BaseImageCatalog(root.GetProperty("kairosVersion").GetString()!, images, Sizes("typicalCompressedMiB"), Sizes("kubernetesLayerMiB"));
    }
}
