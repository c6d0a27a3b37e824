using EdgeForge.FileTree;

namespace EdgeForge.Build.Layers;

/// <summary>
/// The state of every path of a root filesystem, to tell what a <c>RUN</c> changed. A path changed when its type,
/// permissions, owner, size, link target, inode or modification/change time differ: ctime moves on every write and
/// every metadata change, so content rewritten to the same size within the same second is still seen.
/// </summary>
public sealed class FilesystemSnapshot
{
    /// <summary>Paths the sandbox mounts over; their contents never belong to a layer.</summary>
    private static readonly string[] Excluded = ["proc", "dev", "sys"];

    private readonly Dictionary<string, Entry> _entries;

    private FilesystemSnapshot(Dictionary<string, Entry> entries) => _entries = entries;

    public int Count => _entries.Count;

    public static FilesystemSnapshot Take(string root)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            var relative = pending.Pop();
            var full = relative.Length == 0 ? root : Path.Combine(root, relative);
            foreach (var child in Directory.EnumerateFileSystemEntries(full))
            {
                var name = Path.GetFileName(child);
                var path = relative.Length == 0 ? name : relative + "/" + name;
                var status = LinuxFileStatus.Get(child);
                var isDirectory = status.Type == LinuxFileStatus.TypeDirectory;
                entries[path] = new Entry(status, status.Type == LinuxFileStatus.TypeSymlink ? new FileInfo(child).LinkTarget : null);
                if (isDirectory && !(relative.Length == 0 && Excluded.Contains(name)))
                {
                    pending.Push(path);
                }
            }
        }

        return new FilesystemSnapshot(entries);
    }

    /// <summary>Paths present now that are new or different from <paramref name="before"/>.</summary>
    public IEnumerable<string> ChangedSince(FilesystemSnapshot before) =>
        _entries.Where(e => !before._entries.TryGetValue(e.Key, out var old) || old != e.Value).Select(e => e.Key);

    /// <summary>Paths of <paramref name="before"/> that are gone now.</summary>
    public IEnumerable<string> DeletedSince(FilesystemSnapshot before) => before._entries.Keys.Where(p => !_entries.ContainsKey(p));

    public bool Contains(string path) => _entries.ContainsKey(path);

    public bool IsDirectory(string path) => _entries.TryGetValue(path, out var entry) && entry.Status.Type == LinuxFileStatus.TypeDirectory;

    private sealed record Entry(LinuxFileStatus Status, string? LinkTarget)
    {
        // Link count and access time change without the file changing; everything else counts.
        public bool Equals(Entry? other) =>
            other is not null && LinkTarget == other.LinkTarget &&
            Status with { LinkCount = 0 } == other.Status with { LinkCount = 0 };

        public override int GetHashCode() => HashCode.Combine(Status with { LinkCount = 0 }, LinkTarget);
    }
}
