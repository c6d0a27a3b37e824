namespace EdgeForge.FileTree;

/// <summary>
/// A small tree of generated files (configuration, boot menus) held in memory, with every parent directory added
/// (mode 0755, root-owned) so extraction recreates them. Meant for kilobytes, not for root filesystems.
/// </summary>
public sealed class InMemoryFileTreeSource : IFileTreeSource
{
    private readonly Dictionary<string, byte[]> _contents = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, FileTreeEntry> _entries = new(StringComparer.Ordinal);

    public IReadOnlyList<FileTreeEntry> Entries => _entries.Values.ToList();

    public InMemoryFileTreeSource AddFile(string path, byte[] content, int mode = 0x1A4, long modificationTime = 0)
    {
        path = Normalise(path);
        AddParents(path, modificationTime);
        _entries[path] = new FileTreeEntry { Path = path, Kind = FileTreeEntryKind.RegularFile, Mode = mode, Size = content.Length, ModificationTime = modificationTime };
        _contents[path] = content;
        return this;
    }

    public InMemoryFileTreeSource AddFile(string path, string content, int mode = 0x1A4, long modificationTime = 0) =>
        AddFile(path, System.Text.Encoding.UTF8.GetBytes(content), mode, modificationTime);

    public InMemoryFileTreeSource AddDirectory(string path, int mode = 0x1ED, long modificationTime = 0)
    {
        path = Normalise(path);
        AddParents(path, modificationTime);
        _entries[path] = new FileTreeEntry { Path = path, Kind = FileTreeEntryKind.Directory, Mode = mode, ModificationTime = modificationTime };
        return this;
    }

    public InMemoryFileTreeSource AddSymlink(string path, string target, long modificationTime = 0)
    {
        path = Normalise(path);
        AddParents(path, modificationTime);
        _entries[path] = new FileTreeEntry { Path = path, Kind = FileTreeEntryKind.Symlink, Mode = 0x1FF, LinkTarget = target, ModificationTime = modificationTime };
        return this;
    }

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        foreach (var entry in _entries.Values.Where(e => e.Kind == FileTreeEntryKind.RegularFile))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await consumer(entry, new MemoryStream(_contents[entry.Path], writable: false), cancellationToken).ConfigureAwait(false);
        }
    }

    private void AddParents(string path, long modificationTime)
    {
        for (var slash = path.IndexOf('/'); slash > 0; slash = path.IndexOf('/', slash + 1))
        {
            var parent = path[..slash];
            if (!_entries.ContainsKey(parent))
            {
                _entries[parent] = new FileTreeEntry { Path = parent, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED, ModificationTime = modificationTime };
            }
        }
    }

    private static string Normalise(string path)
    {
        var normalised = path.Replace('\\', '/').Trim('/');
        if (normalised.Length == 0 || normalised.Split('/').Any(p => p is "" or "." or ".."))
        {
            throw new ArgumentException($"'{path}' is not a normalised relative path", nameof(path));
        }

        return normalised;
    }
}
