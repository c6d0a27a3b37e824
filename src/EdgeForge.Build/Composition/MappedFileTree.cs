using EdgeForge.FileTree;

namespace EdgeForge.Build.Composition;

/// <summary>
/// A view of another file tree in which every entry is kept, moved or dropped by a mapping — what CanvOS's
/// <c>COPY +target/path /dest</c> lines do to an artifact of another image — plus generated entries. Contents are
/// streamed from the inner tree in its own order, so an image's flattened layers are still read once, front to back.
/// Parent directories a move creates are added root-owned, mode 0755, as <c>COPY</c> creates them.
/// </summary>
public sealed class MappedFileTree : IFileTreeSource
{
    private readonly IFileTreeSource _inner;
    private readonly Dictionary<string, FileTreeEntry> _mapped;
    private readonly InMemoryFileTreeSource? _extra;

    private MappedFileTree(IFileTreeSource inner, Dictionary<string, FileTreeEntry> mapped, InMemoryFileTreeSource? extra, IReadOnlyList<FileTreeEntry> entries)
    {
        _inner = inner;
        _mapped = mapped;
        _extra = extra;
        Entries = entries;
    }

    public IReadOnlyList<FileTreeEntry> Entries { get; }

    /// <summary>
    /// Maps each inner entry to a new path (or null to drop it). A hardlink whose first name is dropped becomes the
    /// regular file itself, so no entry points at a name the layer does not carry. Later sources win: a generated
    /// entry replaces a mapped one of the same path.
    /// </summary>
    public static MappedFileTree Create(IFileTreeSource inner, Func<string, string?> map, InMemoryFileTreeSource? extra = null,
        Func<FileTreeEntry, FileTreeEntry>? adjust = null)
    {
        var mapped = new Dictionary<string, FileTreeEntry>(StringComparer.Ordinal);
        var byPath = new Dictionary<string, FileTreeEntry>(StringComparer.Ordinal);
        var order = new List<string>();
        void Put(string path, FileTreeEntry entry)
        {
            if (!byPath.ContainsKey(path))
            {
                order.Add(path);
            }

            byPath[path] = entry;
        }

        var innerEntries = inner.Entries.ToDictionary(e => e.Path, StringComparer.Ordinal);
        foreach (var entry in inner.Entries)
        {
            if (map(entry.Path) is not { Length: > 0 } path)
            {
                continue;
            }

            var moved = adjust is null ? entry with { Path = path } : adjust(entry with { Path = path });
            if (entry.Kind == FileTreeEntryKind.Hardlink && entry.LinkTarget is { } target)
            {
                if (map(target) is { Length: > 0 } movedTarget)
                {
                    moved = moved with { LinkTarget = movedTarget };
                }
                else if (mapped.TryGetValue(target, out var carrier))
                {
                    // An earlier name of this inode already carries the data.
                    moved = moved with { LinkTarget = carrier.Path };
                }
                else if (innerEntries.TryGetValue(target, out var first))
                {
                    // The first name is not copied: this name carries the data. Its contents are delivered under the
                    // target's path by the inner tree, so remember the target as the source of this entry.
                    moved = adjust is null ? first with { Path = path } : adjust(first with { Path = path });
                    mapped[target] = moved;
                    Put(path, moved);
                    continue;
                }
                else
                {
                    continue;
                }
            }

            if (entry.Kind == FileTreeEntryKind.RegularFile)
            {
                mapped[entry.Path] = moved;
            }

            Put(path, moved);
        }

        if (extra is not null)
        {
            foreach (var entry in extra.Entries)
            {
                order.Remove(entry.Path);
                Put(entry.Path, entry);
                foreach (var (original, _) in mapped.Where(m => m.Value.Path == entry.Path).ToList())
                {
                    mapped.Remove(original);
                }
            }
        }

        foreach (var path in order.ToList())
        {
            for (var parent = ParentOf(path); parent.Length > 0 && !byPath.ContainsKey(parent); parent = ParentOf(parent))
            {
                Put(parent, new FileTreeEntry { Path = parent, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED });
            }
        }

        // Entries in delivery order (inner first, then generated), which writers that hash while writing rely on.
        return new MappedFileTree(inner, mapped, extra, order.Select(p => byPath[p]).ToList());
    }

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        if (_mapped.Count > 0)
        {
            await _inner.ReadContentsAsync(async (entry, stream, token) =>
            {
                if (_mapped.TryGetValue(entry.Path, out var moved))
                {
                    await consumer(moved, stream, token).ConfigureAwait(false);
                }
            }, cancellationToken).ConfigureAwait(false);
        }

        if (_extra is not null)
        {
            await _extra.ReadContentsAsync(consumer, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A project directory copied into an image the way <c>COPY dir/ /dest/</c> does: every entry under
    /// <paramref name="destination"/>, owned by root (COPY without <c>--chown</c>/<c>--keep-own</c>), modes kept.
    /// </summary>
    public static MappedFileTree FromDirectory(string directory, string destination)
    {
        var prefix = destination.Trim('/');
        return Create(new DirectoryFileTreeSource(directory, readExtendedAttributes: false),
            path => prefix.Length == 0 ? path : prefix + "/" + path,
            adjust: entry => entry with { Uid = 0, Gid = 0 });
    }

    /// <summary>Parent of a tree path ("" for a top-level entry).</summary>
    public static string ParentOf(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";
}
