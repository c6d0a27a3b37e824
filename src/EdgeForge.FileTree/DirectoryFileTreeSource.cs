using System.IO.Enumeration;
using System.Runtime.ExceptionServices;

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
        // The directory walk needs only names and which children are real directories: getdents' d_type says so
        // without a stat (symlinks carry the reparse-point attribute and are never descended into).
        var paths = new List<string>();
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            var relative = pending.Pop();
            var full = relative.Length == 0 ? _root : Path.Combine(_root, relative);
            var children = new FileSystemEnumerable<(string Name, bool IsDirectory)>(full,
                (ref FileSystemEntry child) => (child.FileName.ToString(),
                    child.IsDirectory && (child.Attributes & FileAttributes.ReparsePoint) == 0),
                new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false, ReturnSpecialDirectories = false });
            foreach (var (name, isDirectory) in children)
            {
                var childRelative = relative.Length == 0 ? name : relative + "/" + name;
                paths.Add(childRelative);
                if (isDirectory)
                {
                    pending.Push(childRelative);
                }
            }
        }

        // One statx per entry (and its xattrs and link target), on every processor: the calls are independent and
        // this is the part of a SquashFS build that runs before any compression can start.
        paths.Sort(StringComparer.Ordinal);
        var read = new (FileTreeEntry Entry, LinuxFileStatus Status)[paths.Count];
        try
        {
            Parallel.For(0, paths.Count, index =>
            {
                var full = Path.Combine(_root, paths[index]);
                var status = LinuxFileStatus.Get(full);
                read[index] = (ReadEntry(full, paths[index], status, readExtendedAttributes), status);
            });
        }
        catch (AggregateException failed)
        {
            // The first failure, as the sequential walk would have thrown it.
            ExceptionDispatchInfo.Capture(failed.InnerExceptions[0]).Throw();
        }

        var entries = new List<FileTreeEntry>(read.Length);
        var firstNameOfInode = new Dictionary<(uint, uint, ulong), string>();
        foreach (var (readEntry, status) in read)
        {
            var entry = readEntry;
            if (entry.Kind == FileTreeEntryKind.RegularFile && status.LinkCount > 1)
            {
                var key = (status.DeviceMajor, status.DeviceMinor, status.Inode);
                if (firstNameOfInode.TryGetValue(key, out var first))
                {
                    entry = entry with { Kind = FileTreeEntryKind.Hardlink, LinkTarget = first, Size = 0 };
                }
                else
                {
                    firstNameOfInode[key] = entry.Path;
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
