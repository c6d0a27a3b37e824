using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Merges the sources' entries, the added files and the boot catalog into one tree of <see cref="IsoTreeNode"/>s:
/// parents created as needed, hardlinks resolved to the file whose extent and inode they share, and RRIP serial numbers
/// and link counts assigned reproducibly.
/// </summary>
internal static class IsoTreeBuilder
{
    private const int DirectoryMode = 0x1ED;
    private const int CatalogMode = 0x124;

    public static IsoTree Build(IsoImageOptions options, IReadOnlyList<IFileTreeSource> sources, IReadOnlyList<IsoAddedFile> added)
    {
        var root = new IsoTreeNode
        {
            Name = "",
            Kind = FileTreeEntryKind.Directory,
            Mode = DirectoryMode,
            ModificationTime = options.Timestamp,
        };
        var byPath = new Dictionary<string, IsoTreeNode>(StringComparer.Ordinal) { [""] = root };
        var hardlinks = new List<(IsoTreeNode Node, string Target)>();
        var sourceFiles = new Dictionary<(int Source, string Path), IsoTreeNode>();
        var addedNodes = new List<IsoTreeNode>();

        IsoTreeNode EnsureDirectory(string path)
        {
            if (byPath.TryGetValue(path, out var existing))
            {
                return existing.IsDirectory ? existing : throw new ArgumentException($"{path}: is not a directory but has entries below it");
            }

            var slash = path.LastIndexOf('/');
            var parent = EnsureDirectory(slash < 0 ? "" : path[..slash]);
            var node = new IsoTreeNode
            {
                Name = path[(slash + 1)..],
                Parent = parent,
                Kind = FileTreeEntryKind.Directory,
                Mode = DirectoryMode,
                ModificationTime = options.Timestamp,
            };
            parent.Children.Add(node.Name, node);
            byPath[path] = node;
            return node;
        }

        IsoTreeNode Add(string path, Func<IsoTreeNode, IsoTreeNode> create)
        {
            if (byPath.ContainsKey(path))
            {
                throw new ArgumentException($"{path}: appears twice in the image");
            }

            var slash = path.LastIndexOf('/');
            var parent = EnsureDirectory(slash < 0 ? "" : path[..slash]);
            var node = create(parent);
            parent.Children.Add(node.Name, node);
            byPath[path] = node;
            return node;
        }

        for (var s = 0; s < sources.Count; s++)
        {
            foreach (var entry in sources[s].Entries.OrderBy(e => e.Path, StringComparer.Ordinal))
            {
                var path = NormalisePath(entry.Path);
                if (entry.Kind == FileTreeEntryKind.Directory)
                {
                    var dir = EnsureDirectory(path);
                    dir.Mode = entry.Mode;
                    dir.Uid = entry.Uid;
                    dir.Gid = entry.Gid;
                    dir.ModificationTime = entry.ModificationTime;
                    continue;
                }

                var node = Add(path, parent => new IsoTreeNode
                {
                    Name = entry.Name,
                    Parent = parent,
                    Kind = entry.Kind,
                    Mode = entry.Mode,
                    Uid = entry.Uid,
                    Gid = entry.Gid,
                    ModificationTime = entry.ModificationTime,
                    Size = entry.Kind == FileTreeEntryKind.RegularFile ? entry.Size : 0,
                    LinkTarget = entry.LinkTarget,
                    DeviceMajor = entry.DeviceMajor,
                    DeviceMinor = entry.DeviceMinor,
                });
                if (entry.Kind == FileTreeEntryKind.RegularFile)
                {
                    node.DataOwner = node;
                    sourceFiles[(s, entry.Path)] = node;
                }
                else if (entry.Kind == FileTreeEntryKind.Hardlink)
                {
                    hardlinks.Add((node, NormalisePath(entry.LinkTarget ?? throw new ArgumentException($"{path}: hardlink without a target"))));
                }
            }
        }

        var deliveryOrder = new List<IReadOnlyList<IsoTreeNode>>();
        for (var s = 0; s < sources.Count; s++)
        {
            deliveryOrder.Add(sources[s].Entries
                .Where(e => e.Kind == FileTreeEntryKind.RegularFile)
                .Select(e => sourceFiles[(s, e.Path)])
                .ToList());
        }

        foreach (var file in added)
        {
            var node = Add(file.IsoPath, parent => new IsoTreeNode
            {
                Name = file.IsoPath[(file.IsoPath.LastIndexOf('/') + 1)..],
                Parent = parent,
                Kind = FileTreeEntryKind.RegularFile,
                Mode = file.Mode,
                ModificationTime = options.Timestamp,
                Size = file.Size,
                Added = file,
            });
            node.DataOwner = node;
            addedNodes.Add(node);
        }

        if (options.ElTorito is { } elTorito)
        {
            var catalogPath = NormalisePath(elTorito.CatalogPath);
            var catalog = Add(catalogPath, parent => new IsoTreeNode
            {
                Name = catalogPath[(catalogPath.LastIndexOf('/') + 1)..],
                Parent = parent,
                Kind = FileTreeEntryKind.RegularFile,
                Mode = CatalogMode,
                ModificationTime = options.Timestamp,
                Size = Iso9660Writer.BlockSize,
                IsCatalog = true,
                Hidden = elTorito.HideCatalog,
            });
            catalog.DataOwner = catalog;
        }

        foreach (var (node, target) in hardlinks)
        {
            if (!byPath.TryGetValue(target, out var owner) || owner.Kind != FileTreeEntryKind.RegularFile || owner.IsCatalog)
            {
                throw new ArgumentException($"{node.Path}: hardlink target {target} is not a regular file of the tree");
            }

            node.DataOwner = owner;
            owner.LinkCount++;
        }

        AssignSerialsAndLinks(root);
        return new IsoTree { Root = root, AddedNodes = addedNodes, SourceFiles = sourceFiles, DeliveryOrder = deliveryOrder };
    }

    /// <summary>An image path as the tree keys it: '/'-separated, no empty, "." or ".." components.</summary>
    public static string NormalisePath(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
        {
            throw new ArgumentException($"'{path}' is not a valid image path");
        }

        return string.Join('/', parts);
    }

    /// <summary>Serial numbers (RRIP PX "file serial number") in sorted depth-first order, so they are reproducible.</summary>
    private static void AssignSerialsAndLinks(IsoTreeNode root)
    {
        var serial = 0L;
        var stack = new Stack<IsoTreeNode>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (node.Kind != FileTreeEntryKind.Hardlink)
            {
                node.Serial = ++serial;
            }

            if (node.IsDirectory)
            {
                node.LinkCount = 2 + node.Children.Values.Count(c => c.IsDirectory);
                foreach (var child in node.Children.Values.OrderByDescending(c => c.Name, StringComparer.Ordinal))
                {
                    stack.Push(child);
                }
            }
        }
    }
}
