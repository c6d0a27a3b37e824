using System.Runtime.InteropServices;
using EdgeForge.FileTree;

namespace EdgeForge.SquashFs;

/// <summary>
/// One name in the image, kept compact (a million of them fit in ~70 MB): the strings live in a <see cref="NamePool"/>,
/// owners in the <see cref="IdTable"/>, xattrs in <see cref="XattrTable"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct TreeNode
{
    /// <summary>The parent directory's node; -1 for the root.</summary>
    public int Parent;

    public long NameHandle;

    public ushort NameLength;

    public FileTreeEntryKind Kind;

    /// <summary>Permission bits (the low 12 bits of st_mode).</summary>
    public ushort Mode;

    public ushort UidIndex;

    public ushort GidIndex;

    public uint ModificationTime;

    public uint XattrIndex;

    /// <summary>The node whose inode this name shares: itself, or for a hardlink the file it names.</summary>
    public int InodeOwner;

    public uint LinkCount;

    /// <summary>1-based inode number, on the owner; 0 until numbered.</summary>
    public uint InodeNumber;

    /// <summary>Regular file: its index in <see cref="TreeLayout.Files"/>. Symlink: target handle. Device: encoded number. Directory: first child position.</summary>
    public long Payload;

    /// <summary>Symlink: target length. Directory: number of children.</summary>
    public int PayloadLength;
}

/// <summary>Where a regular file's contents went: the block list and the tail's fragment.</summary>
internal struct FileRecord
{
    public int Node;

    public long Size;

    /// <summary>Absolute offset of the first data block (0 when the file has none).</summary>
    public ulong BlocksStart;

    /// <summary>Index of the first block size in the data writer's block-size list.</summary>
    public int BlockListStart;

    public uint FragmentIndex;

    public uint FragmentOffset;

    /// <summary>Bytes of all-zero blocks stored as holes (the extended file inode's "sparse" field).</summary>
    public ulong SparseBytes;

    public bool Delivered;

    /// <summary>Another file has the same size, so this one may be a duplicate or have one: a duplicate candidate (see DataPipeline).</summary>
    public bool SizeShared;
}

/// <summary>
/// Phase one of writing an image: the whole tree described compactly — parents resolved, children sorted as the
/// kernel's directory lookup requires, hardlinks joined to their inode, inode numbers assigned in the order the
/// inodes will be written (post-order, root last, as mksquashfs numbers them).
/// </summary>
internal sealed class TreeLayout
{
    public const int Root = 0;

    private readonly IReadOnlyList<FileTreeEntry> _entries;
    private readonly Dictionary<int, string> _implicitDirectoryPaths = [];
    private TreeNode[] _nodes;
    private int _nodeCount;

    private TreeLayout(IReadOnlyList<FileTreeEntry> entries, SquashFsOptions options)
    {
        _entries = entries;
        _nodes = new TreeNode[entries.Count + 1];
        Xattrs = new XattrTable(options.ExtendedAttributes);
        Paths = new PathIndex(PathOf);
    }

    public NamePool Names { get; } = new();

    public IdTable Ids { get; } = new();

    public XattrTable Xattrs { get; }

    /// <summary>Entry path → node, used to match delivered contents to files.</summary>
    public PathIndex Paths { get; }

    public FileRecord[] Files { get; private set; } = [];

    /// <summary>Node indices grouped by parent and sorted by name bytes; a directory's children are a run of it.</summary>
    public int[] Children { get; private set; } = [];

    public int NodeCount => _nodeCount;

    public int InodeCount { get; private set; }

    public long ContentBytes { get; private set; }

    public long ImageTime { get; private set; }

    public ref TreeNode this[int node] => ref _nodes[node];

    public ReadOnlySpan<byte> NameOf(int node) => Names.Get(_nodes[node].NameHandle, _nodes[node].NameLength);

    public ReadOnlySpan<int> ChildrenOf(int directory) =>
        Children.AsSpan((int)_nodes[directory].Payload, _nodes[directory].PayloadLength);

    public static TreeLayout Build(IFileTreeSource source, SquashFsOptions options, CancellationToken cancellationToken)
    {
        var layout = new TreeLayout(source.Entries, options);
        layout.Populate(options, cancellationToken);
        return layout;
    }

    private string PathOf(int node) => node == Root ? "" : node <= _entries.Count ? _entries[node - 1].Path : _implicitDirectoryPaths[node];

    private void Populate(SquashFsOptions options, CancellationToken cancellationToken)
    {
        var entries = _entries;
        var newest = long.MinValue;
        for (var i = 0; i < entries.Count; i++)
        {
            var path = entries[i].Path;
            ValidatePath(path);
            if (!Paths.TryAdd(path, i + 1))
            {
                throw new SquashFsTreeException($"{path}: listed twice in the tree");
            }
        }

        _nodeCount = entries.Count + 1;
        _nodes[Root] = new TreeNode
        {
            Parent = -1,
            Kind = FileTreeEntryKind.Directory,
            Mode = (ushort)options.RootMode,
            UidIndex = Ids.IndexOf(options.RootUid),
            GidIndex = Ids.IndexOf(options.RootGid),
            XattrIndex = SquashFsFormat.InvalidXattr,
            InodeOwner = Root,
        };

        var fileCount = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            if ((i & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var entry = entries[i];
            var node = i + 1;
            var (nameHandle, nameLength) = Names.Add(entry.Name);
            if (nameLength > SquashFsFormat.MaxNameLength)
            {
                throw new SquashFsTreeException($"{entry.Path}: the name is {nameLength} bytes; SquashFS allows {SquashFsFormat.MaxNameLength}");
            }

            newest = Math.Max(newest, entry.ModificationTime);

            // Before taking a reference into _nodes: creating implied parents may reallocate it.
            var parent = ParentOf(entry.Path, options);
            ref var n = ref _nodes[node];
            n = new TreeNode
            {
                Parent = parent,
                NameHandle = nameHandle,
                NameLength = (ushort)nameLength,
                Kind = entry.Kind,
                Mode = (ushort)(entry.Mode & 0xFFF),
                UidIndex = Ids.IndexOf(entry.Uid),
                GidIndex = Ids.IndexOf(entry.Gid),
                ModificationTime = ClampTime(entry.ModificationTime),
                XattrIndex = entry.Kind == FileTreeEntryKind.Hardlink ? SquashFsFormat.InvalidXattr : Xattrs.Add(entry.ExtendedAttributes),
                InodeOwner = node,
                LinkCount = 1,
            };

            switch (entry.Kind)
            {
                case FileTreeEntryKind.RegularFile:
                    if (entry.Size < 0)
                    {
                        throw new SquashFsTreeException($"{entry.Path}: negative size");
                    }

                    n.Payload = fileCount++;
                    ContentBytes += entry.Size;
                    break;
                case FileTreeEntryKind.Symlink:
                    var target = entry.LinkTarget;
                    if (string.IsNullOrEmpty(target))
                    {
                        throw new SquashFsTreeException($"{entry.Path}: a symlink without a target");
                    }

                    (n.Payload, n.PayloadLength) = Names.Add(target);
                    break;
                case FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice:
                    n.Payload = EncodeDevice(entry);
                    break;
                case FileTreeEntryKind.Hardlink when string.IsNullOrEmpty(entry.LinkTarget):
                    throw new SquashFsTreeException($"{entry.Path}: a hardlink without a target");
            }
        }

        ImageTime = options.ModificationTime ?? (newest == long.MinValue ? 0 : newest);
        _nodes[Root].ModificationTime = ClampTime(ImageTime);
        for (var node = entries.Count + 1; node < _nodeCount; node++)
        {
            // Directories the tree implies but does not list (e.g. an image layer with "a/b/c" but no "a/b").
            _nodes[node].ModificationTime = ClampTime(ImageTime);
        }

        JoinHardlinks();
        Files = new FileRecord[fileCount];
        for (var node = 1; node <= entries.Count; node++)
        {
            if (_nodes[node].Kind == FileTreeEntryKind.RegularFile)
            {
                Files[_nodes[node].Payload] = new FileRecord { Node = node, Size = entries[node - 1].Size, FragmentIndex = SquashFsFormat.InvalidFragment };
            }
        }

        MarkSharedSizes();
        SortChildren();
        NumberInodes();
    }

    /// <summary>
    /// Only files whose size another file shares can be duplicates; the rest need no content hash — most of a real
    /// tree's bytes, as mksquashfs also reasons.
    /// </summary>
    private void MarkSharedSizes()
    {
        var filesOfSize = new Dictionary<long, int>();
        foreach (ref readonly var file in Files.AsSpan())
        {
            filesOfSize[file.Size] = filesOfSize.GetValueOrDefault(file.Size) + 1;
        }

        foreach (ref var file in Files.AsSpan())
        {
            file.SizeShared = file.Size > 0 && filesOfSize[file.Size] > 1;
        }
    }

    private static void ValidatePath(string path)
    {
        if (path.Length == 0 || path[0] == '/' || path[^1] == '/' || path.Contains("//", StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new SquashFsTreeException($"'{path}': not a normalised relative path");
        }

        foreach (var component in path.AsSpan().Split('/'))
        {
            var name = path.AsSpan()[component];
            if (name is "." or "..")
            {
                throw new SquashFsTreeException($"'{path}': '.' and '..' are not allowed in tree paths");
            }
        }
    }

    private static uint ClampTime(long seconds) => (uint)Math.Clamp(seconds, 0, uint.MaxValue);

    /// <summary>Linux's new_encode_dev layout, which the kernel's squashfs_read_inode decodes (format.adoc "Device Special Files").</summary>
    private static long EncodeDevice(FileTreeEntry entry)
    {
        if (entry.DeviceMajor is < 0 or > 0xFFF || entry.DeviceMinor is < 0 or > 0xFFFFF)
        {
            throw new SquashFsTreeException($"{entry.Path}: device {entry.DeviceMajor}:{entry.DeviceMinor} cannot be encoded (major ≤ 4095, minor ≤ 1048575)");
        }

        var major = (uint)entry.DeviceMajor;
        var minor = (uint)entry.DeviceMinor;
        return (minor & 0xFF) | (major << 8) | ((minor & ~0xFFu) << 12);
    }

    /// <summary>The parent's node, creating directories the tree implies but does not list.</summary>
    private int ParentOf(string path, SquashFsOptions options)
    {
        var slash = path.LastIndexOf('/');
        if (slash < 0)
        {
            return Root;
        }

        var parentPath = path[..slash];
        if (Paths.TryGet(parentPath, out var parent))
        {
            var kind = parent <= _entries.Count ? _entries[parent - 1].Kind : FileTreeEntryKind.Directory;
            return kind == FileTreeEntryKind.Directory
                ? parent
                : throw new SquashFsTreeException($"{path}: its parent {parentPath} is a {kind}, not a directory");
        }

        var grandparent = ParentOf(parentPath, options);
        if (_nodeCount == _nodes.Length)
        {
            Array.Resize(ref _nodes, _nodes.Length + Math.Max(16, _nodes.Length / 64));
        }

        var node = _nodeCount++;
        _implicitDirectoryPaths[node] = parentPath;
        Paths.TryAdd(parentPath, node);
        var (nameHandle, nameLength) = Names.Add(parentPath[(parentPath.LastIndexOf('/') + 1)..]);
        _nodes[node] = new TreeNode
        {
            Parent = grandparent,
            NameHandle = nameHandle,
            NameLength = (ushort)nameLength,
            Kind = FileTreeEntryKind.Directory,
            Mode = (ushort)Convert.ToInt32("755", 8),
            UidIndex = Ids.IndexOf(options.RootUid),
            GidIndex = Ids.IndexOf(options.RootGid),
            XattrIndex = SquashFsFormat.InvalidXattr,
            InodeOwner = node,
        };
        return node;
    }

    /// <summary>Points every hardlink at the inode of the entry it names and counts the names of each inode.</summary>
    private void JoinHardlinks()
    {
        for (var node = 1; node <= _entries.Count; node++)
        {
            if (_nodes[node].Kind != FileTreeEntryKind.Hardlink)
            {
                continue;
            }

            var owner = node;
            for (var hops = 0; _nodes[owner].Kind == FileTreeEntryKind.Hardlink; hops++)
            {
                var target = _entries[owner - 1].LinkTarget!;
                if (hops > 64 || !Paths.TryGet(target, out owner))
                {
                    throw new SquashFsTreeException($"{_entries[node - 1].Path}: hardlink to {target}, which is not in the tree");
                }
            }

            if (_nodes[owner].Kind == FileTreeEntryKind.Directory)
            {
                throw new SquashFsTreeException($"{_entries[node - 1].Path}: hardlink to a directory");
            }

            _nodes[node].InodeOwner = owner;
            _nodes[owner].LinkCount++;
        }
    }

    /// <summary>
    /// Groups children by parent, sorted by the bytes of their names: the kernel's lookup walks a directory in
    /// strcmp order and stops early (fs/squashfs/namei.c), so any other order hides entries.
    /// </summary>
    private void SortChildren()
    {
        for (var node = 0; node < _nodeCount; node++)
        {
            if (_nodes[node].Kind == FileTreeEntryKind.Directory)
            {
                // An empty directory: "." and "..", no listing.
                _nodes[node].LinkCount = 2;
            }
        }

        var children = new int[_nodeCount - 1];
        for (var i = 0; i < children.Length; i++)
        {
            children[i] = i + 1;
        }

        Array.Sort(children, (a, b) =>
        {
            var byParent = _nodes[a].Parent.CompareTo(_nodes[b].Parent);
            return byParent != 0 ? byParent : NameOf(a).SequenceCompareTo(NameOf(b));
        });

        for (var position = 0; position < children.Length;)
        {
            var parent = _nodes[children[position]].Parent;
            var end = position;
            var subdirectories = 0u;
            while (end < children.Length && _nodes[children[end]].Parent == parent)
            {
                if (_nodes[children[end]].Kind == FileTreeEntryKind.Directory)
                {
                    subdirectories++;
                }

                end++;
            }

            _nodes[parent].Payload = position;
            _nodes[parent].PayloadLength = end - position;
            _nodes[parent].LinkCount = 2 + subdirectories;
            position = end;
        }

        Children = children;
    }

    private void NumberInodes()
    {
        var next = 0u;
        VisitPostOrder(
            name =>
            {
                ref var owner = ref _nodes[_nodes[name].InodeOwner];
                if (owner.InodeNumber == 0)
                {
                    owner.InodeNumber = ++next;
                }
            },
            directory => _nodes[directory].InodeNumber = ++next);
        InodeCount = (int)next;
    }

    /// <summary>
    /// Walks the tree depth first: <paramref name="onName"/> for each non-directory name in sorted order, and
    /// <paramref name="onDirectoryDone"/> for a directory after everything below it — the order in which inodes can
    /// be written, since a directory's listing needs its children's inode positions. Iterative, for deep trees.
    /// </summary>
    public void VisitPostOrder(Action<int> onName, Action<int> onDirectoryDone)
    {
        var stack = new Stack<(int Directory, int Next)>();
        stack.Push((Root, 0));
        while (stack.Count > 0)
        {
            var (directory, next) = stack.Pop();
            var children = ChildrenOf(directory);
            var descended = false;
            while (next < children.Length)
            {
                var child = children[next++];
                if (_nodes[child].Kind == FileTreeEntryKind.Directory)
                {
                    stack.Push((directory, next));
                    stack.Push((child, 0));
                    descended = true;
                    break;
                }

                onName(child);
            }

            if (!descended)
            {
                onDirectoryDone(directory);
            }
        }
    }
}
