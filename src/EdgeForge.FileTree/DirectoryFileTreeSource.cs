namespace EdgeForge.FileTree;

/// <summary>
/// A local directory as a file tree, read with lstat semantics: symlinks are entries, never followed; a file with
/// several names in the tree becomes one regular file plus hardlinks (the first name in ordinal path order wins, so
/// the result does not depend on directory enumeration order).
/// </summary>
public sealed class DirectoryFileTreeSource : IFileTreeSource
{
    private readonly string _root;

    public DirectoryFileTreeSource(string root, bool readExtendedAttributes = true)
    {
        _root = Path.GetFullPath(root);
        if (!Directory.Exists(_root))
        {
            throw new DirectoryNotFoundException($"{root}: no such directory");
        }

        Entries = Scan(readExtendedAttributes);
    }

    public IReadOnlyList<FileTreeEntry> Entries { get; }

    /// <summary>The full local path of an entry.</summary>
    public string FullPathOf(FileTreeEntry entry) => Path.Combine(_root, entry.Path);

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        foreach (var entry in Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.Kind != FileTreeEntryKind.RegularFile)
            {
                continue;
            }

            await using var stream = new FileStream(FullPathOf(entry), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            if (stream.Length != entry.Size)
            {
                throw new IOException($"{FullPathOf(entry)}: changed while being read (size {stream.Length}, expected {entry.Size})");
            }

            await consumer(entry, stream, cancellationToken).ConfigureAwait(false);
        }
    }

    private List<FileTreeEntry> Scan(bool readExtendedAttributes)
    {
        var entries = new List<FileTreeEntry>();
        var firstNameOfInode = new Dictionary<(uint, uint, ulong), string>();
        var pending = new Stack<string>();
        pending.Push("");
        var paths = new List<string>();
        while (pending.Count > 0)
        {
            var relative = pending.Pop();
            var full = relative.Length == 0 ? _root : Path.Combine(_root, relative);
            foreach (var child in Directory.EnumerateFileSystemEntries(full))
            {
                var childRelative = relative.Length == 0 ? Path.GetFileName(child) : relative + "/" + Path.GetFileName(child);
                paths.Add(childRelative);
                if ((LinuxFileStatus.Get(child).Type) == LinuxFileStatus.TypeDirectory)
                {
                    pending.Push(childRelative);
                }
            }
        }

        paths.Sort(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var full = Path.Combine(_root, path);
            var status = LinuxFileStatus.Get(full);
            var entry = ReadEntry(full, path, status, readExtendedAttributes);
            if (entry.Kind == FileTreeEntryKind.RegularFile && status.LinkCount > 1)
            {
                var key = (status.DeviceMajor, status.DeviceMinor, status.Inode);
                if (firstNameOfInode.TryGetValue(key, out var first))
                {
                    entry = entry with { Kind = FileTreeEntryKind.Hardlink, LinkTarget = first, Size = 0 };
                }
                else
                {
                    firstNameOfInode[key] = path;
                }
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>
    /// One path as lstat sees it, as a tree entry named <paramref name="treePath"/>: symlinks keep their target, devices
    /// their numbers, regular files their size. Several names of one file are not resolved here: that needs the whole tree.
    /// </summary>
    public static FileTreeEntry ReadEntry(string fullPath, string treePath, bool readExtendedAttributes = true) =>
        ReadEntry(fullPath, treePath, LinuxFileStatus.Get(fullPath), readExtendedAttributes);

    private static FileTreeEntry ReadEntry(string fullPath, string treePath, LinuxFileStatus status, bool readExtendedAttributes)
    {
        var entry = new FileTreeEntry
        {
            Path = treePath,
            Kind = KindOf(status.Type, fullPath),
            Mode = status.Mode & 0xFFF,
            Uid = status.Uid,
            Gid = status.Gid,
            ModificationTime = status.ModificationTime,
            ExtendedAttributes = readExtendedAttributes ? LinuxFileStatus.GetExtendedAttributes(fullPath) : new Dictionary<string, byte[]>(),
        };
        return entry.Kind switch
        {
            FileTreeEntryKind.RegularFile => entry with { Size = status.Size },
            FileTreeEntryKind.Symlink => entry with { LinkTarget = new FileInfo(fullPath).LinkTarget ?? "" },
            FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice => entry with { DeviceMajor = (int)status.RdevMajor, DeviceMinor = (int)status.RdevMinor },
            _ => entry,
        };
    }

    private static FileTreeEntryKind KindOf(int type, string path) => type switch
    {
        LinuxFileStatus.TypeDirectory => FileTreeEntryKind.Directory,
        LinuxFileStatus.TypeRegular => FileTreeEntryKind.RegularFile,
        LinuxFileStatus.TypeSymlink => FileTreeEntryKind.Symlink,
        LinuxFileStatus.TypeCharacter => FileTreeEntryKind.CharacterDevice,
        LinuxFileStatus.TypeBlock => FileTreeEntryKind.BlockDevice,
        LinuxFileStatus.TypeFifo => FileTreeEntryKind.Fifo,
        LinuxFileStatus.TypeSocket => FileTreeEntryKind.Socket,
        _ => throw new IOException($"{path}: unknown file type 0x{type:x}"),
    };
}
