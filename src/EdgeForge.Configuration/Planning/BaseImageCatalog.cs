using System.Reflection;
using System.Text.Json;

namespace EdgeForge.Configuration.Planning;

/// <summary>
/// The default base image tag of each OS, and typical sizes for the disk estimate — data, not code (base-images.json).
/// The tags follow CanvOS's Earthfile; the registry prefix and the kairos-init version are build arguments
/// (<c>KAIROS_BASE_IMAGE_URL</c>, <c>KAIROS_INIT_VERSION</c>), so a checkout's own pins apply.
/// </summary>
public sealed class BaseImageCatalog
{
    private readonly Dictionary<string, string> _tags;
    private readonly Dictionary<string, long> _typicalCompressedMiB;
    private readonly Dictionary<string, long> _kubernetesLayerMiB;

    private BaseImageCatalog(Dictionary<string, string> tags, Dictionary<string, long> typicalCompressedMiB, Dictionary<string, long> kubernetesLayerMiB)
    {
        _tags = tags;
        _typicalCompressedMiB = typicalCompressedMiB;
        _kubernetesLayerMiB = kubernetesLayerMiB;
    }

    public static BaseImageCatalog BuiltIn { get; } = Load();

    /// <summary>
    /// <c>$KAIROS_BASE_IMAGE_URL/kairos-&lt;os&gt;:…-$KAIROS_INIT_VERSION</c> for the OS, or null when it has none
    /// (BASE_IMAGE is then required). <paramref name="version"/> is the normalised OS version (22 → 22.04).
    /// </summary>
    public string? DefaultFor(string os, string version, string arch, string kairosBaseImageUrl, string kairosInitVersion, string? mirror)
    {
        if (!_tags.TryGetValue(os, out var template))
        {
            return null;
        }

        var reference = kairosBaseImageUrl.TrimEnd('/') + "/" + template
            .Replace("{version}", version, StringComparison.Ordinal)
            .Replace("{arch}", arch, StringComparison.Ordinal)
            .Replace("{kairosInit}", kairosInitVersion, StringComparison.Ordinal);
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
        var tags = root.GetProperty("images").EnumerateObject().ToDictionary(os => os.Name, os => os.Value.GetString()!);
        Dictionary<string, long> Sizes(string name) =>
            root.GetProperty(name).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        return new BaseImageCatalog(tags, Sizes("typicalCompressedMiB"), Sizes("kubernetesLayerMiB"));
    }
}
