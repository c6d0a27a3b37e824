using EdgeForge.Oci;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Content.Bundles;

/// <summary>One image restored from a bundle: where it went and the digest the registry now has.</summary>
public sealed record PushedImage(string Original, ImageReference Target, Digest Digest);

/// <summary>
/// Restores every image of a bundle into a registry (a site mirror) as <c>REGISTRY/&lt;original repository
/// path&gt;:&lt;tag&gt;</c>. The bundle is extracted to a temporary OCI layout and each index.json entry copied with
/// all its platforms; manifests travel byte for byte, so every digest is the one recorded in the bundle.
/// </summary>
public sealed class ContentBundlePusher(RegistryClient client)
{
    public async Task<IReadOnlyList<PushedImage>> PushAsync(string bundlePath, string registry, string? temporaryRoot = null, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        registry = registry.TrimEnd('/');
        if (registry.Length == 0 || registry.Contains("://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"registry \"{registry}\": expected HOST[:PORT][/PATH], without a scheme");
        }

        var layout = Path.Combine(temporaryRoot ?? Path.GetTempPath(), $"edgeforge-push-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(layout);
        try
        {
            log?.Invoke($"extract: {bundlePath} → {layout}");
            await ContentBundleReader.ExtractAsync(bundlePath, layout, cancellationToken).ConfigureAwait(false);
            var index = ImageIndex.Parse(await File.ReadAllBytesAsync(Path.Combine(layout, OciLayout.IndexFile), cancellationToken).ConfigureAwait(false));
            var pushed = new List<PushedImage>();
            foreach (var entry in index.Manifests)
            {
                var name = entry.Annotations?.GetValueOrDefault(Annotations.RefName)
                    ?? throw new InvalidDataException($"{bundlePath}: index.json entry {entry.Digest} has no {Annotations.RefName}");
                var original = ImageReference.Parse(name);
                var target = ImageReference.Parse($"{registry}/{original.Repository}" + (original.Tag is { } tag ? ":" + tag : "@" + entry.Digest));
                log?.Invoke($"push: {name} → {target}");
                await using var source = new OciLayoutImageSource(layout, name);
                await using var destination = new RegistryImageDestination(client, target);
                var result = await ImageCopier.CopyAsync(source, destination, new CopyOptions { AllPlatforms = true }, cancellationToken).ConfigureAwait(false);
                if (result.ManifestDigest != entry.Digest)
                {
                    throw new InvalidDataException($"{target}: pushed {result.ManifestDigest}, but the bundle records {entry.Digest}");
                }

                pushed.Add(new PushedImage(name, target, result.ManifestDigest));
            }

            return pushed;
        }
        finally
        {
            Directory.Delete(layout, recursive: true);
        }
    }
}
