using System.Formats.Tar;
using System.Text;
using EdgeForge.FileTree;

namespace EdgeForge.Oci.Layers;

/// <summary>
/// The flattened root filesystem of an image's layers, as a file tree (image-spec layer.md "Applying Changesets"):
/// later layers replace earlier entries, <c>.wh.NAME</c> whiteouts delete <c>NAME</c> (and everything under it)
/// from lower layers, and an opaque marker <c>.wh..wh..opq</c> hides everything lower layers put in its directory.
/// <para>
/// Building the tree reads tar headers only, layer by layer. <see cref="ReadContentsAsync"/> then streams each layer
/// once more, in layer order, and hands over the data of exactly those file entries that survived, straight from
/// the decompressing stream — shadowed files are skipped, nothing is buffered.
/// </para>
/// </summary>
public sealed class ImageFileTree : IFileTreeSource
{
    private readonly IReadOnlyList<Func<CancellationToken, Task<Stream>>> _layers;
    private readonly Dictionary<(int Layer, long Ordinal), FileTreeEntry> _contentSources;

    private ImageFileTree(IReadOnlyList<Func<CancellationToken, Task<Stream>>> layers, IReadOnlyList<FileTreeEntry> entries, Dictionary<(int, long), FileTreeEntry> contentSources)
    {
        _layers = layers;
        Entries = entries;
        _contentSources = contentSources;
    }

    public IReadOnlyList<FileTreeEntry> Entries { get; }

    /// <summary>
    /// The tree of an image's layers. Each layer's headers are read once per process (<see cref="LayerHeaderCache"/>,
    /// keyed by the layer's digest): a build looks at the same base layers several times — the systemd version, the
    /// clean-up paths, the installer's file list — and each look would otherwise decompress the whole layer again.
    /// </summary>
    public static Task<ImageFileTree> LoadAsync(IImage image, CancellationToken cancellationToken = default) =>
        LoadAsync(image.Layers.Select(l => (Func<CancellationToken, Task<Stream>>)l.OpenUncompressedAsync).ToList(),
            image.Layers.Select(l => (Func<CancellationToken, Task<LayerHeaders>>)(token => LayerHeaderCache.Shared.GetAsync(l, token))).ToList(), cancellationToken);

    /// <summary>A tree from uncompressed tar streams, bottom layer first (a single tar file is a one-layer tree).</summary>
    public static Task<ImageFileTree> LoadAsync(IReadOnlyList<Func<CancellationToken, Task<Stream>>> layers, CancellationToken cancellationToken = default) =>
        LoadAsync(layers, layers.Select(open => (Func<CancellationToken, Task<LayerHeaders>>)(token => LayerHeaders.ReadAsync(open, token))).ToList(), cancellationToken);

    private static async Task<ImageFileTree> LoadAsync(IReadOnlyList<Func<CancellationToken, Task<Stream>>> layers,
        IReadOnlyList<Func<CancellationToken, Task<LayerHeaders>>> headers, CancellationToken cancellationToken)
    {
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        var children = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);

        void Remove(string path)
        {
            if (nodes.Remove(path))
            {
                children.GetValueOrDefault(TarPaths.ParentOf(path))?.Remove(path);
            }

            if (children.Remove(path, out var kids))
            {
                foreach (var kid in kids.ToList())
                {
                    Remove(kid);
                }
            }
        }

        void RemoveChildren(string directory)
        {
            if (children.TryGetValue(directory, out var kids))
            {
                foreach (var kid in kids.ToList())
                {
                    Remove(kid);
                }
            }
        }

        void Add(string path, Node node)
        {
            nodes[path] = node;
            var parent = TarPaths.ParentOf(path);
            if (!children.TryGetValue(parent, out var set))
            {
                children[parent] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            set.Add(path);
        }

        // Up to three layers' headers are read ahead of the one being applied: on a cold process each is a whole
        // decompression, and they are independent until applied in order.
        const int ReadAhead = 3;
        var reads = new Task<LayerHeaders>?[layers.Count];
        for (var layerIndex = 0; layerIndex < layers.Count; layerIndex++)
        {
            for (var ahead = layerIndex; ahead < Math.Min(layers.Count, layerIndex + ReadAhead); ahead++)
            {
                reads[ahead] ??= headers[ahead](cancellationToken);
            }

            var (layerEntries, opaqueDirectories, whiteouts) = await reads[layerIndex]!.ConfigureAwait(false);

            // Whiteouts and opaque markers of a layer hide only what lower layers hold (layer.md "Whiteouts":
            // they apply to the lower layers; entries of the same layer are never hidden by them).
            foreach (var directory in opaqueDirectories)
            {
                RemoveChildren(directory);
            }

            foreach (var hidden in whiteouts)
            {
                Remove(hidden);
            }

            foreach (var (ordinal, entry) in layerEntries)
            {
                if (nodes.TryGetValue(entry.Path, out var existing))
                {
                    // A directory over a directory merges (only its metadata changes); anything else replaces the
                    // old entry and, for a directory replaced by a non-directory, everything beneath it.
                    if (!(existing.Entry.Kind == FileTreeEntryKind.Directory && entry.Kind == FileTreeEntryKind.Directory))
                    {
                        Remove(entry.Path);
                    }
                }

                Add(entry.Path, new Node(entry, layerIndex, ordinal));
            }
        }

        // Tars may omit parent directories; a tree needs them, with the defaults runtimes create (0755 root).
        foreach (var path in nodes.Keys.ToList())
        {
            for (var parent = TarPaths.ParentOf(path); parent.Length > 0 && !nodes.ContainsKey(parent); parent = TarPaths.ParentOf(parent))
            {
                Add(parent, new Node(new FileTreeEntry { Path = parent, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED }, -1, -1));
            }
        }

        // A file with several names is one regular file plus hardlinks whose target is the first name in ordinal
        // order — the rule DirectoryFileTreeSource follows — so the same tree yields the same entries whichever
        // name a tar happened to store first.
        foreach (var group in nodes.Values.Where(n => n.Entry.Kind == FileTreeEntryKind.Hardlink).GroupBy(n => n.Entry.LinkTarget!).ToList())
        {
            var targetPath = group.Key;
            if (!nodes.TryGetValue(targetPath, out var target) || target.Entry.Kind != FileTreeEntryKind.RegularFile)
            {
                var link = group.First().Entry.Path;
                throw new InvalidDataException($"layer entry {link}: hardlink to {targetPath}, which is not a regular file of the flattened image");
            }

            var canonical = group.Select(n => n.Entry.Path).Append(targetPath).Min(StringComparer.Ordinal)!;
            if (canonical == targetPath)
            {
                continue;
            }

            var canonicalNode = nodes[canonical];
            nodes[canonical] = target with { Entry = target.Entry with { Path = canonical } };
            nodes[targetPath] = canonicalNode with { Entry = target.Entry with { Kind = FileTreeEntryKind.Hardlink, LinkTarget = canonical, Size = 0 } };
            foreach (var member in group.Where(n => n.Entry.Path != canonical))
            {
                nodes[member.Entry.Path] = member with { Entry = member.Entry with { LinkTarget = canonical } };
            }
        }

        var entries = new List<FileTreeEntry>(nodes.Count);
        var contentSources = new Dictionary<(int, long), FileTreeEntry>();
        foreach (var (_, node) in nodes.OrderBy(n => n.Key, StringComparer.Ordinal))
        {
            var entry = node.Entry;

            if (entry.Kind == FileTreeEntryKind.RegularFile)
            {
                contentSources[(node.Layer, node.Ordinal)] = entry;
            }

            entries.Add(entry);
        }

        return new ImageFileTree(layers, entries, contentSources);
    }

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        var layersWithContent = _contentSources.Keys.Select(k => k.Layer).ToHashSet();
        for (var layerIndex = 0; layerIndex < _layers.Count; layerIndex++)
        {
            if (!layersWithContent.Contains(layerIndex))
            {
                continue;
            }

            await using var stream = new PaxBinaryValueReadStream(await _layers[layerIndex](cancellationToken).ConfigureAwait(false));
            await using var reader = new TarReader(stream, leaveOpen: true);
            long ordinal = -1;
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } tarEntry)
            {
                ordinal++;
                if (!_contentSources.TryGetValue((layerIndex, ordinal), out var entry))
                {
                    continue;
                }

                var data = tarEntry.DataStream ?? Stream.Null;
                await consumer(entry, data, cancellationToken).ConfigureAwait(false);
            }

            // The tar's end comes before the stream's (record padding, the compressor's trailer); the layer's digests
            // are checked only at the stream's end, so read the rest for them to be checked at all.
            await stream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static FileTreeEntry ToEntry(TarEntry tarEntry, string path)
    {
        var kind = tarEntry.EntryType switch
        {
            TarEntryType.Directory => FileTreeEntryKind.Directory,
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile => FileTreeEntryKind.RegularFile,
            TarEntryType.SymbolicLink => FileTreeEntryKind.Symlink,
            TarEntryType.HardLink => FileTreeEntryKind.Hardlink,
            TarEntryType.CharacterDevice => FileTreeEntryKind.CharacterDevice,
            TarEntryType.BlockDevice => FileTreeEntryKind.BlockDevice,
            TarEntryType.Fifo => FileTreeEntryKind.Fifo,
            var other => throw new InvalidDataException($"layer entry {tarEntry.Name}: unsupported tar entry type {other}"),
        };
        var attributes = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        if (tarEntry is PaxTarEntry pax)
        {
            foreach (var (key, value) in pax.ExtendedAttributes)
            {
                if (key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal))
                {
                    attributes[key["SCHILY.xattr.".Length..]] = PaxAttributeValues.Decode(value);
                }
            }
        }

        return new FileTreeEntry
        {
            Path = path,
            Kind = kind,
            Mode = (int)tarEntry.Mode & 0xFFF,
            Uid = tarEntry.Uid,
            Gid = tarEntry.Gid,
            ModificationTime = tarEntry.ModificationTime.ToUnixTimeSeconds(),
            Size = kind == FileTreeEntryKind.RegularFile ? tarEntry.Length : 0,
            LinkTarget = kind switch
            {
                FileTreeEntryKind.Symlink => tarEntry.LinkName,
                FileTreeEntryKind.Hardlink => TarPaths.Normalise(tarEntry.LinkName),
                _ => null,
            },
            DeviceMajor = tarEntry is PosixTarEntry { } posix && kind is FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice ? posix.DeviceMajor : 0,
            DeviceMinor = tarEntry is PosixTarEntry { } posix2 && kind is FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice ? posix2.DeviceMinor : 0,
            ExtendedAttributes = attributes,
        };
    }

    private sealed record Node(FileTreeEntry Entry, int Layer, long Ordinal);
}
