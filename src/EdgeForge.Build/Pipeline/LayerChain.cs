using System.Security.Cryptography;
using System.Text;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;

namespace EdgeForge.Build.Pipeline;

/// <summary>
/// Appends generated layers to an image, each cached under a key chained from the one below (<see cref="ProviderImages.LayerCache"/>):
/// the material of a step names everything its files depend on — the digest of the upstream image they come from, the
/// hash of project files — so a re-run writes no layer that exists and a change rebuilds only from where it happened.
/// </summary>
internal sealed class LayerChain(BuildContext build, LayeredImage start)
{
    public BuiltImage Image { get; private set; } = start.Image;

    public string Key { get; private set; } = start.Key;

    public LayeredImage Result => new(Image, Key);

    /// <summary>
    /// One layer: <paramref name="generate"/> runs only on a cache miss; a tree with no entries adds a history entry
    /// and no layer (as a COPY --if-exists of nothing does).
    /// </summary>
    public Task AddAsync(string createdBy, string material, Func<Task<IFileTreeSource>> generate, CancellationToken cancellationToken) =>
        AddLayerAsync(createdBy, material, async () =>
        {
            var tree = await generate().ConfigureAwait(false);
            return tree.Entries.Count == 0 ? null : await LayerWriter.WriteAsync(tree, build.Options.Blobs, build.LayerOptions(), cancellationToken).ConfigureAwait(false);
        });

    /// <summary>One layer made by <paramref name="produce"/> (null: no files), on a cache miss only.</summary>
    public async Task AddLayerAsync(string createdBy, string material, Func<Task<ILayer?>> produce)
    {
        Key = ProviderImages.LayerCache.ChainKey(Key, material);
        var cached = build.LayerCache.TryGet(Key);
        ILayer? layer;
        if (cached is not null)
        {
            build.Counters.LayerReused();
            layer = cached.Layer;
            build.Log($"cached: {createdBy}");
        }
        else
        {
            layer = await produce().ConfigureAwait(false);
            build.Counters.LayerBuilt();
            build.LayerCache.Put(Key, layer);
            build.Log($"layer: {createdBy}" + (layer is null ? " (no files)" : $" ({layer.Size:N0} bytes)"));
        }

        var history = new HistoryEntry { Created = build.Created(), CreatedBy = createdBy };
        Image = layer is null
            ? BuiltImage.WithConfig(Image, c => c, history with { EmptyLayer = true })
            : BuiltImage.AppendLayers(Image, [(layer, history)]);
    }

    /// <summary>One shell command of CanvOS's Earthfile, run in the RUN sandbox on the chain's image (<see cref="CommonLayers.RunAsync"/>).</summary>
    public async Task RunAsync(string command, CancellationToken cancellationToken)
    {
        var result = await new CommonLayers(build).RunAsync(Result, command, cancellationToken).ConfigureAwait(false);
        (Image, Key) = (result.Image, result.Key);
    }

    /// <summary>Layers of another image appended as they are (the explicit <c>K8S_PROVIDER_SOURCE</c> override).</summary>
    public void AddLayers(IImage source, string createdBy)
    {
        Key = ProviderImages.LayerCache.ChainKey(Key, "layers\n" + string.Join("\n", source.Layers.Select(l => l.Digest)));
        Image = BuiltImage.AppendLayers(Image, source.Layers.Select(layer => (layer, new HistoryEntry { Created = build.Created(), CreatedBy = createdBy })));
    }

    /// <summary>A hash of a small generated tree (entries and contents): its cache material.</summary>
    public static async Task<string> FingerprintAsync(IFileTreeSource tree, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var entry in tree.Entries.OrderBy(e => e.Path, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{entry.Path}\0{entry.Kind}\0{entry.Mode}\0{entry.Uid}\0{entry.Gid}\0{entry.Size}\0{entry.LinkTarget}\0"));
        }

        var buffer = new byte[1 << 16];
        await tree.ReadContentsAsync(async (entry, stream, token) =>
        {
            hash.AppendData(Encoding.UTF8.GetBytes(entry.Path + "\0"));
            int read;
            while ((read = await stream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
