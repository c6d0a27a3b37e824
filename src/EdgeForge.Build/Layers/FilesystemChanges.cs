using EdgeForge.FileTree;

namespace EdgeForge.Build.Layers;

/// <summary>
/// What changed in a root filesystem between two snapshots, as the file tree of an OCI layer (image-spec
/// "Representing Changes"): changed and added entries with their parent directories, and a whiteout
/// <c>.wh.NAME</c> for each deleted path whose parent still exists (a deleted directory takes its children with it).
/// </summary>
public sealed class FilesystemChanges : IFileTreeSource
{
    public const string WhiteoutPrefix = ".wh.";

    private readonly string _root;
    private readonly HashSet<string> _whiteouts;

    private FilesystemChanges(string root, IReadOnlyList<FileTreeEntry> entries, HashSet<string> whiteouts)
    {
        _root = root;
        Entries = entries;
        _whiteouts = whiteouts;
    }

    public IReadOnlyList<FileTreeEntry> Entries { get; }

    public bool IsEmpty => Entries.Count == 0;

    /// <summary>Deleted paths, as whiteout entries in <see cref="Entries"/>.</summary>
    public IReadOnlyCollection<string> Whiteouts => _whiteouts;

    public static FilesystemChanges Between(string root, FilesystemSnapshot before, FilesystemSnapshot after)
    {
        var included = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in after.ChangedSince(before))
        {
            included.Add(path);
        }

        var whiteouts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var deleted in after.DeletedSince(before).Order(StringComparer.Ordinal))
        {
            var parent = ParentOf(deleted);
            if (parent.Length > 0 && !after.Contains(parent))
            {
                continue; // the parent is deleted too: its whiteout covers this path
            }

            var whiteout = (parent.Length == 0 ? "" : parent + "/") + WhiteoutPrefix + NameOf(deleted);
            whiteouts.Add(whiteout);
            included.Add(whiteout);
        }

        // Parent directories go into the layer too, so extraction recreates them with the image's owner and mode.
        foreach (var path in included.ToList())
        {
            for (var parent = ParentOf(path); parent.Length > 0; parent = ParentOf(parent))
            {
                included.Add(parent);
            }
        }

        var entries = included.Select(path => whiteouts.Contains(path) ? Whiteout(path) : DirectoryFileTreeSource.ReadEntry(Path.Combine(root, path), path)).ToList();
        AssignHardlinks(entries, root);
        return new FilesystemChanges(root, entries, whiteouts);
    }

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        foreach (var entry in Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.Kind != FileTreeEntryKind.RegularFile)
            {
                continue;
            }

            if (_whiteouts.Contains(entry.Path))
            {
                await consumer(entry, Stream.Null, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await using var stream = new FileStream(Path.Combine(_root, entry.Path), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            if (stream.Length != entry.Size)
            {
                throw new IOException($"{entry.Path}: changed while the layer was written");
            }

            await consumer(entry, stream, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whiteouts are empty files whose metadata means nothing; fixed values keep layers reproducible.</summary>
    private static FileTreeEntry Whiteout(string path) => new() { Path = path, Kind = FileTreeEntryKind.RegularFile };

    /// <summary>Several changed names of one inode become one file and hardlinks to it, as in <see cref="DirectoryFileTreeSource"/>.</summary>
    private static void AssignHardlinks(List<FileTreeEntry> entries, string root)
    {
        var first = new Dictionary<(uint, uint, ulong), string>();
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Kind != FileTreeEntryKind.RegularFile || entries[i].Size == 0 && entries[i].Name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var status = LinuxFileStatus.Get(Path.Combine(root, entries[i].Path));
            if (status.LinkCount < 2)
            {
                continue;
            }

            var key = (status.DeviceMajor, status.DeviceMinor, status.Inode);
            if (first.TryGetValue(key, out var target))
            {
                entries[i] = entries[i] with { Kind = FileTreeEntryKind.Hardlink, LinkTarget = target, Size = 0 };
            }
            else
            {
                first[key] = entries[i].Path;
            }
        }
    }

    private static string ParentOf(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    private static string NameOf(string path) => path[(path.LastIndexOf('/') + 1)..];
}
