using System.Collections.Concurrent;
using System.Formats.Tar;
using EdgeForge.FileTree;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Layers;

/// <summary>
/// What one layer's tar headers say (image-spec layer.md "Changesets"): its entries with their ordinals in the tar,
/// the directories it makes opaque and the paths it whites out. Reading it decompresses the whole layer, since a tar
/// has no index; <see cref="ImageFileTree"/> flattens a stack of these.
/// </summary>
public sealed record LayerHeaders(IReadOnlyList<(long Ordinal, FileTreeEntry Entry)> Entries, IReadOnlyList<string> OpaqueDirectories, IReadOnlyList<string> Whiteouts)
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";

    /// <summary>Reads the headers of the uncompressed tar <paramref name="open"/> returns, skipping the data.</summary>
    public static async Task<LayerHeaders> ReadAsync(Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken)
    {
        var entries = new List<(long, FileTreeEntry)>();
        var opaqueDirectories = new List<string>();
        var whiteouts = new List<string>();
        await using var stream = new PaxBinaryValueReadStream(await open(cancellationToken).ConfigureAwait(false));
        await using var reader = new TarReader(stream, leaveOpen: true);
        long ordinal = -1;
        while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } tarEntry)
        {
            // Ordinals count every header, so the contents pass, which counts the same way, finds each entry again.
            ordinal++;
            if (tarEntry.EntryType is TarEntryType.GlobalExtendedAttributes)
            {
                continue;
            }

            var path = TarPaths.Normalise(tarEntry.Name);
            if (path.Length == 0)
            {
                continue;
            }

            var name = TarPaths.NameOf(path);
            if (name == OpaqueMarker)
            {
                opaqueDirectories.Add(TarPaths.ParentOf(path));
                continue;
            }

            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                var parent = TarPaths.ParentOf(path);
                var hidden = name[WhiteoutPrefix.Length..];
                whiteouts.Add(parent.Length == 0 ? hidden : parent + "/" + hidden);
                continue;
            }

            entries.Add((ordinal, ImageFileTree.ToEntry(tarEntry, path)));
        }

        // To the stream's end, where a verifying stream checks the layer's digest (the tar's end marker comes first).
        await stream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);

        return new LayerHeaders(entries, opaqueDirectories, whiteouts);
    }
}

/// <summary>
/// The headers of the layers this process has read, by layer digest, so each layer is decompressed for its headers
/// once per build instead of once per look. Safe to share: a digest names exactly one blob, and every stream of a
/// layer is verified against it. Bounded by entry count (least recently used layers go first), so a long-lived
/// process — the test host, a build of many images — does not keep every tree it ever saw.
/// </summary>
public sealed class LayerHeaderCache(long maxEntries)
{
    /// <summary>~1M entries: a few Kairos base images (50–150k entries each) with room to spare, ~300 MB at most.</summary>
    public static LayerHeaderCache Shared { get; } = new(1_000_000);

    private readonly ConcurrentDictionary<Digest, Lazy<Task<LayerHeaders>>> _layers = new();
    private readonly LinkedList<Digest> _recent = new();
    private long _entries;

    public async Task<LayerHeaders> GetAsync(ILayer layer, CancellationToken cancellationToken)
    {
        // Not the caller's token: other callers may wait for this read, and one caller's cancellation must not fail theirs.
        var lazy = _layers.GetOrAdd(layer.Digest, _ => new Lazy<Task<LayerHeaders>>(() => LayerHeaders.ReadAsync(layer.OpenUncompressedAsync, CancellationToken.None)));
        LayerHeaders headers;
        try
        {
            headers = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            // A failed read (a bad blob, a lost connection) is not remembered: the next look tries again.
            _layers.TryRemove(new KeyValuePair<Digest, Lazy<Task<LayerHeaders>>>(layer.Digest, lazy));
            throw;
        }

        Touch(layer.Digest, headers.Entries.Count);
        return headers;
    }

    /// <summary>Remembers headers read elsewhere (from a download as it passed, <see cref="LayerHeaderTee"/>) for a verified blob.</summary>
    public void Prime(Digest digest, LayerHeaders headers)
    {
        if (_layers.TryAdd(digest, new Lazy<Task<LayerHeaders>>(Task.FromResult(headers))))
        {
            Touch(digest, headers.Entries.Count);
        }
    }

    private void Touch(Digest digest, int entries)
    {
        lock (_recent)
        {
            if (_recent.Remove(digest))
            {
                _recent.AddFirst(digest);
                return;
            }

            _recent.AddFirst(digest);
            _entries += entries;
            while (_entries > maxEntries && _recent.Count > 1 && _recent.Last is { } oldest)
            {
                _recent.RemoveLast();
                if (_layers.TryRemove(oldest.Value, out var evicted) && evicted.IsValueCreated && evicted.Value.IsCompletedSuccessfully)
                {
                    _entries -= evicted.Value.Result.Entries.Count;
                }
            }
        }
    }
}
