using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EdgeForge.DiskFormats.IO;
using EdgeForge.DiskFormats.Partitioning;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Writes an ISO 9660 image (ECMA-119, interchange level 3) with Rock Ridge, Joliet, El Torito and an optional hybrid
/// MBR/GPT system area, strictly front to back: the whole layout is computed from the trees' metadata first (sizes
/// are known), then file contents are copied once as the sources deliver them. Extents are laid out in the order of
/// each source's regular-file entries, which is the order contents arrive (<see cref="IFileTreeSource"/>); should a
/// source deliver in another order, a seekable (empty) target lets each file be placed at its extent anyway, while a
/// pipe or a write that hashes in stream order fails loudly.
/// </summary>
/// <remarks>
/// Image layout (2048-byte blocks): 0–15 system area; 16… volume descriptors (PVD, El Torito boot record, Joliet SVD,
/// terminator); with a partition offset P a second descriptor set at P+16 whose addresses are relative to P, so GPT
/// partition 1 is an ISO 9660 filesystem of its own (libisofs "partition_offset"); the boot catalog; path tables,
/// directories and Rock Ridge continuation areas of each descriptor set; added files (boot images); tree file data;
/// appended partitions; backup GPT. Directories precede all file data, and continuation areas precede the data of
/// their files, because streaming readers (libarchive) read an image strictly forwards.
/// </remarks>
public sealed class Iso9660Writer
{
    public const int BlockSize = 2048;

    /// <summary>ECMA-119 §6.8.2.1 / level 3: a file of more bytes is recorded as several extents (multi-extent, §9.1.6 bit 7).</summary>
    public const long MaxExtentLength = 0xFFFFF800;

    /// <summary>ECMA-119 §6.2.1: the system area, 16 blocks before the first volume descriptor.</summary>
    public const int SystemAreaBlocks = 16;

    private const int MaxRecordLength = 254;
    private const int RecordHeaderLength = 33;
    private const byte DirectoryFlag = 0x02;
    private const byte MultiExtentFlag = 0x80;

    private readonly IsoImageOptions _options;
    private readonly List<IFileTreeSource> _sources = [];
    private readonly List<IsoAddedFile> _added = [];

    public Iso9660Writer(IsoImageOptions options)
    {
        _options = options;
        if (options.VolumeId.Length is 0 or > 32 || options.VolumeId.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException($"volume id '{options.VolumeId}' must be 1 to 32 printable ASCII characters (ECMA-119 §8.4.6)", nameof(options));
        }

        if (options.Partitions is { } p && p.PartitionOffset < 16)
        {
            throw new ArgumentException($"partition offset {p.PartitionOffset} must be at least 16 blocks", nameof(options));
        }
    }

    /// <summary>Adds a file tree at the image root; several trees merge, but no path may appear twice.</summary>
    public void AddFileTree(IFileTreeSource source) => _sources.Add(source);

    /// <summary>Adds an in-memory file (e.g. a generated config or a boot image to be patched).</summary>
    public void AddFile(string isoPath, byte[] contents, int mode = 0x1A4) =>
        _added.Add(new IsoAddedFile(NormalisePath(isoPath), contents, null, contents.Length, mode));

    /// <summary>Adds a local file, read when the image is written.</summary>
    public void AddFile(string isoPath, string localPath, int mode = 0x1A4) =>
        _added.Add(new IsoAddedFile(NormalisePath(isoPath), null, Path.GetFullPath(localPath), new FileInfo(localPath).Length, mode));

    /// <summary>Writes the image to <paramref name="output"/>, which may be a pipe: nothing is ever sought or read back.</summary>
    public async Task<IsoImageResult> WriteAsync(Stream output, CancellationToken cancellationToken = default)
    {
        var plan = Plan();
        using var sink = new ImageOutputStream(output, _options.ComputeSha256);

        await sink.WriteAsync(BuildSystemArea(plan), cancellationToken).ConfigureAwait(false);
        await sink.WriteAsync(BuildVolumeDescriptors(plan, 0), cancellationToken).ConfigureAwait(false);
        if (plan.PartitionOffset > 0)
        {
            await sink.PadToAsync((plan.PartitionOffset + 16L) * BlockSize, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(BuildVolumeDescriptors(plan, 1), cancellationToken).ConfigureAwait(false);
        }

        await sink.PadToAsync(plan.FirstDataBlock * BlockSize, cancellationToken).ConfigureAwait(false);
        if (plan.CatalogBlock is { } catalogBlock)
        {
            await sink.PadToAsync(catalogBlock * BlockSize, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(ElToritoCatalog.Build(plan.CatalogEntries), cancellationToken).ConfigureAwait(false);
        }

        for (var set = 0; set < plan.DescriptorSets; set++)
        {
            await WriteMetadataAsync(sink, plan, set, cancellationToken).ConfigureAwait(false);
        }

        foreach (var node in plan.AddedNodes.Where(n => n.Size > 0))
        {
            await sink.PadToAsync(node.DataBlock * BlockSize, cancellationToken).ConfigureAwait(false);
            await WriteAddedFileAsync(sink, plan, node, cancellationToken).ConfigureAwait(false);
        }

        await sink.PadToAsync(plan.TreeDataBlock * BlockSize, cancellationToken).ConfigureAwait(false);
        await WriteTreeDataAsync(sink, plan, cancellationToken).ConfigureAwait(false);

        await sink.PadToAsync(plan.IsoBlocks * BlockSize, cancellationToken).ConfigureAwait(false);
        foreach (var partition in plan.Appended)
        {
            await sink.PadToAsync(partition.StartBlock * BlockSize, cancellationToken).ConfigureAwait(false);
            await using var stream = new FileStream(partition.Source.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            if (stream.Length != partition.Length)
            {
                throw new IOException($"{partition.Source.LocalPath}: changed while the image was written");
            }

            await sink.CopyExactlyAsync(stream, partition.Length, partition.Source.LocalPath, cancellationToken).ConfigureAwait(false);
        }

        if (plan.Gpt is { } gpt)
        {
            var array = gpt.BuildEntryArray();
            await sink.PadToAsync(gpt.BackupEntriesLba * GptPartitionTable.SectorSize, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(array, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(gpt.BuildHeader(primary: false, Crc32.Compute(array)), cancellationToken).ConfigureAwait(false);
        }

        await sink.PadToAsync(plan.TotalBlocks * BlockSize, cancellationToken).ConfigureAwait(false);
        await sink.FlushAsync(cancellationToken).ConfigureAwait(false);

        var layout = new IsoImageLayout(plan.TotalBlocks, plan.IsoBlocks, plan.CatalogBlock,
            plan.AddedNodes.ToDictionary(n => n.Path, n => n.DataBlock, StringComparer.Ordinal),
            plan.Appended.ToDictionary(a => a.Source.Number, a => (a.StartBlock, a.Length)));
        return new IsoImageResult(sink.Position, sink.Sha256Hex(), layout);
    }

    // ------------------------------------------------------------------ planning

    private sealed record AppendedPlacement(AppendedPartition Source, long StartBlock, long Length);

    private sealed class ImagePlan
    {
        public required IsoTreeNode Root { get; init; }
        public List<IsoTreeNode> AddedNodes { get; } = [];
        public Dictionary<(int Source, string Path), IsoTreeNode> SourceFiles { get; } = [];

        /// <summary>Per source, its regular files in the order of its entries: the order their contents arrive.</summary>
        public List<List<IsoTreeNode>> DeliveryOrder { get; } = [];
        public List<IsoDirectoryExtent> IsoDirectories { get; set; } = [];
        public List<IsoDirectoryExtent> JolietDirectories { get; set; } = [];
        public int DescriptorSets { get; set; } = 1;
        public int PartitionOffset { get; set; }
        public long FirstDataBlock { get; set; }
        public long? CatalogBlock { get; set; }
        public List<ElToritoPlacedEntry> CatalogEntries { get; } = [];
        public long TreeDataBlock { get; set; }
        public long TreeDataBlocks { get; set; }
        public long MetadataBlock { get; set; }

        // Per descriptor set, relative to the set's metadata start.
        public long IsoPathTableBytes { get; set; }
        public long IsoPathTableBlocks { get; set; }
        public long IsoDirectoryStart { get; set; }
        public long ContinuationStart { get; set; }
        public int ContinuationBlocks { get; set; }
        public long JolietPathTableStart { get; set; }
        public long JolietPathTableBytes { get; set; }
        public long JolietPathTableBlocks { get; set; }
        public long JolietDirectoryStart { get; set; }
        public long MetadataBlocksPerSet { get; set; }

        public long IsoBlocks { get; set; }
        public List<AppendedPlacement> Appended { get; } = [];
        public GptPartitionTable? Gpt { get; set; }
        public long TotalBlocks { get; set; }
        public IsoTreeNode? MbrBootImage { get; set; }
        public Dictionary<IsoTreeNode, ElToritoBootEntry> Patches { get; } = [];

        public long SetMetadataBase(int set) => MetadataBlock + set * MetadataBlocksPerSet;

        /// <summary>Addresses written into descriptor set 1 are relative to the partition start.</summary>
        public long AddressOffset(int set) => set == 0 ? 0 : PartitionOffset;
    }

    private ImagePlan Plan()
    {
        var root = new IsoTreeNode
        {
            Name = "",
            Kind = FileTreeEntryKind.Directory,
            Mode = 0x1ED,
            ModificationTime = _options.Timestamp,
        };
        var plan = new ImagePlan { Root = root };
        BuildTree(plan);
        AssignSerialsAndLinks(root);

        // Descriptor sets and fixed blocks at the front.
        var descriptorsA = 2 + (_options.ElTorito is null ? 0 : 1) + (_options.Joliet ? 1 : 0);
        var next = SystemAreaBlocks + (long)descriptorsA;
        if (_options.Partitions is { } partitions)
        {
            plan.PartitionOffset = partitions.PartitionOffset;
            plan.DescriptorSets = 2;
            var descriptorsB = 2 + (_options.Joliet ? 1 : 0);
            next = Math.Max(next, partitions.PartitionOffset + 16L + descriptorsB);
        }

        plan.FirstDataBlock = next;
        if (_options.ElTorito is not null)
        {
            plan.CatalogBlock = next++;
        }

        plan.MetadataBlock = next;
        LayoutMetadata(plan);
        next += plan.DescriptorSets * plan.MetadataBlocksPerSet;

        foreach (var node in plan.AddedNodes)
        {
            node.DataBlock = node.Size == 0 ? 0 : next;
            next += BinaryFields.DivideRoundingUp(node.Size, BlockSize);
        }

        plan.TreeDataBlock = next;
        foreach (var node in plan.DeliveryOrder.SelectMany(d => d))
        {
            node.DataBlock = node.Size == 0 ? 0 : next;
            next += BinaryFields.DivideRoundingUp(node.Size, BlockSize);
        }

        plan.TreeDataBlocks = next - plan.TreeDataBlock;
        plan.IsoBlocks = next;

        var end = plan.IsoBlocks;
        if (_options.Partitions is { } hybrid)
        {
            foreach (var partition in hybrid.AppendedPartitions.OrderBy(p => p.Number))
            {
                if (partition.Number is < 2 or > 8 || hybrid.AppendedPartitions.Count(p => p.Number == partition.Number) > 1)
                {
                    throw new ArgumentException($"appended partition number {partition.Number} must be unique and within 2..8");
                }

                var length = new FileInfo(partition.LocalPath).Length;
                plan.Appended.Add(new AppendedPlacement(partition, end, length));
                end += BinaryFields.DivideRoundingUp(length, BlockSize);
            }

            // UEFI 2.10 §5.3.1: the backup entry array and header occupy the last LBAs of the disk.
            var entrySectors = GptPartitionTable.DefaultEntryCount * GptPartitionTable.EntrySize / GptPartitionTable.SectorSize;
            var totalSectors = BinaryFields.RoundUp(end * 4 + entrySectors + 1, 4);
            plan.TotalBlocks = totalSectors / 4;
            plan.Gpt = BuildGpt(plan, totalSectors);
        }
        else
        {
            plan.TotalBlocks = end;
        }

        PlanElTorito(plan);
        return plan;
    }

    private void BuildTree(ImagePlan plan)
    {
        var byPath = new Dictionary<string, IsoTreeNode>(StringComparer.Ordinal) { [""] = plan.Root };
        var hardlinks = new List<(IsoTreeNode Node, string Target)>();

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
                Mode = 0x1ED,
                ModificationTime = _options.Timestamp,
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

        for (var s = 0; s < _sources.Count; s++)
        {
            plan.DeliveryOrder.Add([]);
            foreach (var entry in _sources[s].Entries.OrderBy(e => e.Path, StringComparer.Ordinal))
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
                    plan.SourceFiles[(s, entry.Path)] = node;
                }
                else if (entry.Kind == FileTreeEntryKind.Hardlink)
                {
                    hardlinks.Add((node, NormalisePath(entry.LinkTarget ?? throw new ArgumentException($"{path}: hardlink without a target"))));
                }
            }
        }

        for (var s = 0; s < _sources.Count; s++)
        {
            plan.DeliveryOrder[s].AddRange(_sources[s].Entries
                .Where(e => e.Kind == FileTreeEntryKind.RegularFile)
                .Select(e => plan.SourceFiles[(s, e.Path)]));
        }

        foreach (var added in _added)
        {
            var node = Add(added.IsoPath, parent => new IsoTreeNode
            {
                Name = added.IsoPath[(added.IsoPath.LastIndexOf('/') + 1)..],
                Parent = parent,
                Kind = FileTreeEntryKind.RegularFile,
                Mode = added.Mode,
                ModificationTime = _options.Timestamp,
                Size = added.Size,
                Added = added,
            });
            node.DataOwner = node;
            plan.AddedNodes.Add(node);
        }

        if (_options.ElTorito is { } elTorito)
        {
            var catalog = Add(NormalisePath(elTorito.CatalogPath), parent => new IsoTreeNode
            {
                Name = NormalisePath(elTorito.CatalogPath)[(NormalisePath(elTorito.CatalogPath).LastIndexOf('/') + 1)..],
                Parent = parent,
                Kind = FileTreeEntryKind.RegularFile,
                Mode = 0x124,
                ModificationTime = _options.Timestamp,
                Size = BlockSize,
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

    private void LayoutMetadata(ImagePlan plan)
    {
        plan.IsoDirectories = LayoutTree(plan.Root, joliet: false, out var continuationBlocks);
        plan.ContinuationBlocks = continuationBlocks;
        plan.IsoPathTableBytes = PathTableBytes(plan.IsoDirectories);
        plan.IsoPathTableBlocks = BinaryFields.DivideRoundingUp(plan.IsoPathTableBytes, BlockSize);
        plan.IsoDirectoryStart = 2 * plan.IsoPathTableBlocks;
        var at = plan.IsoDirectoryStart;
        foreach (var dir in plan.IsoDirectories)
        {
            dir.RelativeBlock = at;
            at += dir.Bytes / BlockSize;
        }

        plan.ContinuationStart = at;
        at += continuationBlocks;
        if (_options.Joliet)
        {
            plan.JolietDirectories = LayoutTree(plan.Root, joliet: true, out _);
            plan.JolietPathTableBytes = PathTableBytes(plan.JolietDirectories);
            plan.JolietPathTableBlocks = BinaryFields.DivideRoundingUp(plan.JolietPathTableBytes, BlockSize);
            plan.JolietPathTableStart = at;
            at += 2 * plan.JolietPathTableBlocks;
            plan.JolietDirectoryStart = at;
            foreach (var dir in plan.JolietDirectories)
            {
                dir.RelativeBlock = at;
                at += dir.Bytes / BlockSize;
            }
        }

        plan.MetadataBlocksPerSet = at;
    }

    /// <summary>
    /// Lays out one directory tree breadth first — the path table order of ECMA-119 §6.9.1 (by level, then parent
    /// number, then identifier) — with records sorted by identifier (§9.3) and never crossing a block (§6.8.1.1).
    /// Deep hierarchies are kept in place, as xorriso does with Rock Ridge; every reader we target walks them.
    /// </summary>
    private List<IsoDirectoryExtent> LayoutTree(IsoTreeNode root, bool joliet, out int continuationBlocks)
    {
        var rockRidge = _options.RockRidge && !joliet;
        var directories = new List<IsoDirectoryExtent>();
        var continuation = new ContinuationAllocator();
        var rootExtent = new IsoDirectoryExtent { Node = root, Identifier = [0], Number = 1, ParentNumber = 1 };
        var queue = new Queue<IsoDirectoryExtent>();
        queue.Enqueue(rootExtent);
        while (queue.Count > 0)
        {
            var dir = queue.Dequeue();
            directories.Add(dir);
            if (directories.Count > ushort.MaxValue)
            {
                throw new InvalidOperationException($"more than {ushort.MaxValue} directories: ECMA-119 §9.4.4 path table parent numbers are 16-bit");
            }

            dir.Number = directories.Count;
            if (joliet)
            {
                dir.Node.JolietDirectory = dir;
            }
            else
            {
                dir.Node.IsoDirectory = dir;
            }

            var children = dir.Node.Children.Values
                .Where(c => !c.Hidden && (!joliet || c.IsDirectory || c.HasData))
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToList();
            if (joliet)
            {
                var names = IsoIdentifiers.AssignJoliet(children.Select(c => c.Name).ToList());
                for (var i = 0; i < children.Count; i++)
                {
                    children[i].JolietName = names[i];
                }

                children.Sort((a, b) => string.CompareOrdinal(a.JolietName, b.JolietName));
            }
            else
            {
                var ids = IsoIdentifiers.AssignIso(children.Select(c => (c.Name, c.IsDirectory)).ToList());
                for (var i = 0; i < children.Count; i++)
                {
                    children[i].IsoIdentifier = ids[i];
                }

                children.Sort((a, b) => IsoIdentifiers.CompareIso(a.IsoIdentifier, b.IsoIdentifier));
            }

            var parent = dir.Node.Parent ?? dir.Node;
            dir.Records.Add(PlanRecord(dir.Node, IsoRecordKind.Self, [0], 0, 1, rockRidge, continuation));
            dir.Records.Add(PlanRecord(parent, IsoRecordKind.Parent, [1], 0, 1, rockRidge, continuation));
            foreach (var child in children)
            {
                var identifier = joliet ? IsoIdentifiers.JolietBytes(child.JolietName) : IsoIdentifiers.IsoBytes(child.IsoIdentifier);
                if (child.IsDirectory)
                {
                    var childExtent = new IsoDirectoryExtent { Node = child, Identifier = identifier, ParentNumber = dir.Number };
                    queue.Enqueue(childExtent);
                }

                var size = child.HasData ? child.DataOwner!.Size : 0;
                var parts = (int)Math.Max(1, BinaryFields.DivideRoundingUp(size, MaxExtentLength));
                for (var part = 0; part < parts; part++)
                {
                    dir.Records.Add(PlanRecord(child, IsoRecordKind.Child, identifier, part, parts, rockRidge, continuation));
                }
            }

            long bytes = 0;
            foreach (var record in dir.Records)
            {
                if (bytes % BlockSize + record.Length > BlockSize)
                {
                    bytes = BinaryFields.RoundUp(bytes, BlockSize);
                }

                bytes += record.Length;
            }

            dir.Bytes = BinaryFields.RoundUp(Math.Max(bytes, 1), BlockSize);
        }

        continuationBlocks = continuation.Blocks;
        return directories;
    }

    private IsoDirectoryRecord PlanRecord(IsoTreeNode target, IsoRecordKind kind, byte[] identifier, int part, int parts, bool rockRidge, ContinuationAllocator continuation)
    {
        var record = new IsoDirectoryRecord { Target = target, Kind = kind, Identifier = identifier, Part = part, Parts = parts };
        var fixedLength = RecordHeaderLength + identifier.Length + (identifier.Length % 2 == 0 ? 1 : 0);
        if (rockRidge)
        {
            var entries = SystemUseEntries(target, kind);
            var available = MaxRecordLength - fixedLength;
            var total = entries.Sum(e => e.Length);
            if (total <= available)
            {
                record.InlineSystemUse = entries;
            }
            else
            {
                var i = 0;
                var used = 0;
                while (i < entries.Count && used + entries[i].Length + RockRidge.ContinuationEntryLength <= available)
                {
                    record.InlineSystemUse.Add(entries[i]);
                    used += entries[i++].Length;
                }

                IsoContinuationArea? previous = null;
                while (i < entries.Count)
                {
                    var area = new IsoContinuationArea();
                    var remaining = entries.Skip(i).Sum(e => e.Length);
                    var limit = remaining <= BlockSize ? BlockSize : BlockSize - RockRidge.ContinuationEntryLength;
                    var areaUsed = 0;
                    while (i < entries.Count && areaUsed + entries[i].Length <= limit)
                    {
                        area.Entries.Add(entries[i]);
                        areaUsed += entries[i++].Length;
                    }

                    if (previous is null)
                    {
                        record.Continuation = area;
                    }
                    else
                    {
                        previous.Next = area;
                    }

                    previous = area;
                }

                for (var area = record.Continuation; area is not null; area = area.Next)
                {
                    continuation.Place(area);
                }
            }
        }

        var length = fixedLength + record.InlineSystemUse.Sum(e => e.Length) + (record.Continuation is null ? 0 : RockRidge.ContinuationEntryLength);
        record.Length = length + (length % 2);
        return record;
    }

    /// <summary>The Rock Ridge entries of one record, in the order SUSP wants them (SP first in the root's "." record, §5.3).</summary>
    private List<byte[]> SystemUseEntries(IsoTreeNode target, IsoRecordKind kind)
    {
        var entries = new List<byte[]>();
        var isRoot = target.Parent is null;
        if (kind == IsoRecordKind.Self && isRoot)
        {
            entries.Add(RockRidge.SharingProtocolIndicator());
        }

        var inode = target.DataOwner ?? target;
        entries.Add(RockRidge.PosixAttributes(target.PosixType | (inode.Mode & 0xFFF), inode.LinkCount, inode.Uid, inode.Gid, inode.Serial));
        entries.Add(RockRidge.Timestamps(inode.ModificationTime));
        if (kind == IsoRecordKind.Child)
        {
            entries.AddRange(RockRidge.AlternateName(target.Name));
            switch (target.Kind)
            {
                case FileTreeEntryKind.Symlink:
                    entries.AddRange(RockRidge.SymbolicLink(target.LinkTarget ?? ""));
                    break;
                case FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice:
                    entries.Add(RockRidge.DeviceNumber(target.DeviceMajor, target.DeviceMinor));
                    break;
            }
        }

        if (kind == IsoRecordKind.Self && isRoot)
        {
            entries.Add(RockRidge.ExtensionReference());
        }

        return entries;
    }

    private sealed class ContinuationAllocator
    {
        private int _block;
        private int _offset;

        public int Blocks => _offset > 0 ? _block + 1 : _block;

        /// <summary>Linux (fs/isofs/rock.c) rejects an area crossing a block boundary, so each stays within one block.</summary>
        public void Place(IsoContinuationArea area)
        {
            if (_offset + area.Length > BlockSize)
            {
                _block++;
                _offset = 0;
            }

            area.Block = _block;
            area.Offset = _offset;
            _offset += area.Length;
        }
    }

    private static long PathTableBytes(List<IsoDirectoryExtent> directories) =>
        directories.Sum(d => 8L + d.Identifier.Length + (d.Identifier.Length % 2));

    private void PlanElTorito(ImagePlan plan)
    {
        if (_options.ElTorito is not { } elTorito)
        {
            return;
        }

        if (elTorito.Entries.Count == 0)
        {
            throw new ArgumentException("El Torito needs at least one boot entry");
        }

        foreach (var entry in elTorito.Entries)
        {
            if (entry.AppendedPartition is { } number)
            {
                var placed = plan.Appended.FirstOrDefault(a => a.Source.Number == number)
                    ?? throw new ArgumentException($"El Torito entry names appended partition {number}, which is not configured");
                if (entry.BootInfoTable || entry.Grub2BootInfo)
                {
                    throw new ArgumentException("boot images on appended partitions cannot be patched");
                }

                var sectors = (ushort)Math.Min(ushort.MaxValue, BinaryFields.DivideRoundingUp(placed.Length, 512));
                plan.CatalogEntries.Add(new ElToritoPlacedEntry(entry.Platform, entry.LoadSectors ?? sectors, checked((uint)placed.StartBlock)));
                continue;
            }

            var path = NormalisePath(entry.ImagePath ?? throw new ArgumentException("an El Torito entry needs an image path or an appended partition"));
            var node = plan.AddedNodes.FirstOrDefault(n => n.Path == path)
                ?? throw new ArgumentException($"El Torito image {path} must be added with AddFile (tree files are placed only as their source delivers them)");
            if (node.Size == 0)
            {
                throw new ArgumentException($"El Torito image {path} is empty");
            }

            var defaultSectors = entry.Platform == ElToritoPlatform.Bios ? (ushort)4 : (ushort)Math.Min(ushort.MaxValue, BinaryFields.DivideRoundingUp(node.Size, 512));
            plan.CatalogEntries.Add(new ElToritoPlacedEntry(entry.Platform, entry.LoadSectors ?? defaultSectors, checked((uint)node.DataBlock)));
            if (entry.BootInfoTable || entry.Grub2BootInfo)
            {
                plan.Patches[node] = entry;
            }

            if (entry.Platform == ElToritoPlatform.Bios && plan.MbrBootImage is null)
            {
                plan.MbrBootImage = node;
            }
        }
    }

    private GptPartitionTable BuildGpt(ImagePlan plan, long totalSectors)
    {
        // Deterministic GUIDs from the volume's own data, shaped as RFC 4122 version-4 GUIDs; partition GUIDs derive
        // from the disk GUID by decrementing byte 9 per partition number, as libisofs does.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"edgeforge-gpt|{_options.VolumeId}|{_options.Timestamp}|{totalSectors}|{plan.IsoBlocks}|{plan.TreeDataBlocks}"));
        foreach (var a in plan.Appended)
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"|{a.Source.Number}:{a.StartBlock}:{a.Length}"));
        }

        var bytes = sha.GetHashAndReset().AsSpan(0, 16).ToArray();
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        var disk = new Guid(bytes);
        Guid PartitionGuid(int index)
        {
            var b = (byte[])bytes.Clone();
            b[9] = (byte)(b[9] - index);
            return new Guid(b);
        }

        var partitions = new List<GptPartition>
        {
            new(1, GptPartitionTable.BasicDataPartitionType, PartitionGuid(1), plan.PartitionOffset * 4L, plan.IsoBlocks * 4 - 1,
                GptPartitionTable.ReadOnlyAttribute | GptPartitionTable.RequiredPartitionAttribute, "ISO9660"),
        };
        foreach (var a in plan.Appended)
        {
            var type = a.Source.MbrType == 0xEF ? GptPartitionTable.EfiSystemPartitionType : GptPartitionTable.BasicDataPartitionType;
            var sectors = Math.Max(1, BinaryFields.DivideRoundingUp(a.Length, 512));
            partitions.Add(new GptPartition(a.Source.Number, type, PartitionGuid(a.Source.Number), a.StartBlock * 4, a.StartBlock * 4 + sectors - 1, 0, $"Appended{a.Source.Number}"));
        }

        return new GptPartitionTable { DiskGuid = disk, TotalSectors = totalSectors, Partitions = partitions };
    }

    // ------------------------------------------------------------------ writing

    private byte[] BuildSystemArea(ImagePlan plan)
    {
        var area = new byte[SystemAreaBlocks * BlockSize];
        if (_options.Partitions is not { } hybrid || plan.Gpt is not { } gpt)
        {
            return area;
        }

        var mbr = area.AsSpan(0, 512);
        if (hybrid.MbrBootCode is { } code)
        {
            code.AsSpan(0, Math.Min(code.Length, MasterBootRecord.BootCodeLength)).CopyTo(mbr);
            if (plan.MbrBootImage is { } bootImage)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(mbr[ElToritoCatalog.Grub2MbrPatchOffset..],
                    (ulong)bootImage.DataBlock * 4 + ElToritoCatalog.Grub2MbrSectorDelta);
            }
        }

        // UEFI 2.10 §5.2.3: protective MBR, one 0xEE partition from LBA 1 to the end (capped at 2^32-1 sectors).
        MasterBootRecord.WritePartitionEntry(mbr, new MbrPartition(1, 0, MasterBootRecord.ProtectiveGptType, 1,
            (uint)Math.Min(uint.MaxValue, gpt.TotalSectors - 1)));
        if (hybrid.ForceBootable)
        {
            // xorriso mbr_force_bootable: an empty active entry at LBA 0, since 0xEE itself must not be active.
            MasterBootRecord.WritePartitionEntry(mbr, new MbrPartition(2, MasterBootRecord.ActiveStatus, 0, 0, 1));
        }

        MasterBootRecord.WriteSignature(mbr);
        var array = gpt.BuildEntryArray();
        gpt.BuildHeader(primary: true, Crc32.Compute(array)).CopyTo(area, 512);
        array.CopyTo(area, 1024);
        return area;
    }

    private byte[] BuildVolumeDescriptors(ImagePlan plan, int set)
    {
        var descriptors = new List<byte[]> { BuildVolumeDescriptor(plan, set, joliet: false) };
        if (set == 0 && plan.CatalogBlock is { } catalogBlock)
        {
            // El Torito §2.0: the boot record volume descriptor.
            var boot = new byte[BlockSize];
            boot[0] = 0;
            Encoding.ASCII.GetBytes("CD001").CopyTo(boot, 1);
            boot[6] = 1;
            Encoding.ASCII.GetBytes(ElToritoCatalog.BootSystemId).CopyTo(boot, 7);
            BinaryPrimitives.WriteUInt32LittleEndian(boot.AsSpan(ElToritoCatalog.BootRecordCatalogPointerOffset), (uint)catalogBlock);
            descriptors.Add(boot);
        }

        if (_options.Joliet)
        {
            descriptors.Add(BuildVolumeDescriptor(plan, set, joliet: true));
        }

        // ECMA-119 §8.3: the volume descriptor set terminator.
        var terminator = new byte[BlockSize];
        terminator[0] = 255;
        Encoding.ASCII.GetBytes("CD001").CopyTo(terminator, 1);
        terminator[6] = 1;
        descriptors.Add(terminator);
        return descriptors.SelectMany(d => d).ToArray();
    }

    /// <summary>ECMA-119 §8.4 (primary) and §8.5 with Joliet's escape sequence (supplementary).</summary>
    private byte[] BuildVolumeDescriptor(ImagePlan plan, int set, bool joliet)
    {
        var d = new byte[BlockSize];
        var span = d.AsSpan();
        var offset = plan.AddressOffset(set);
        var baseBlock = plan.SetMetadataBase(set);
        span[0] = (byte)(joliet ? 2 : 1);
        Encoding.ASCII.GetBytes("CD001").CopyTo(span[1..]);
        span[6] = 1;
        WriteText(span.Slice(8, 32), _options.SystemId, joliet);
        WriteText(span.Slice(40, 32), _options.VolumeId, joliet);
        BinaryFields.WriteBoth32(span[80..], plan.TotalBlocks - offset);
        if (joliet)
        {
            // Joliet §2.2: escape sequence "%/E" announces UCS-2 level 3.
            span[88] = (byte)'%';
            span[89] = (byte)'/';
            span[90] = (byte)'E';
        }

        BinaryFields.WriteBoth16(span[120..], 1);
        BinaryFields.WriteBoth16(span[124..], 1);
        BinaryFields.WriteBoth16(span[128..], BlockSize);
        var (tableBytes, tableStart, tableBlocks, directories) = joliet
            ? (plan.JolietPathTableBytes, plan.JolietPathTableStart, plan.JolietPathTableBlocks, plan.JolietDirectories)
            : (plan.IsoPathTableBytes, 0L, plan.IsoPathTableBlocks, plan.IsoDirectories);
        BinaryFields.WriteBoth32(span[132..], tableBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(span[140..], (uint)(baseBlock + tableStart - offset));
        BinaryPrimitives.WriteUInt32BigEndian(span[148..], (uint)(baseBlock + tableStart + tableBlocks - offset));
        var root = directories[0];
        WriteRecord(span.Slice(156, 34), [0], baseBlock + root.RelativeBlock - offset, root.Bytes, root.Node.ModificationTime, DirectoryFlag, null, null, 0);
        WriteText(span.Slice(190, 128), "", joliet);
        WriteText(span.Slice(318, 128), _options.PublisherId, joliet);
        WriteText(span.Slice(446, 128), "", joliet);
        WriteText(span.Slice(574, 128), _options.ApplicationId, joliet);
        WriteText(span.Slice(702, 37), "", joliet);
        WriteText(span.Slice(739, 37), "", joliet);
        WriteText(span.Slice(776, 37), "", joliet);
        IsoDates.WriteVolumeDate(span.Slice(813, 17), _options.Timestamp);
        IsoDates.WriteVolumeDate(span.Slice(830, 17), _options.Timestamp);
        IsoDates.WriteUnspecifiedVolumeDate(span.Slice(847, 17));
        IsoDates.WriteUnspecifiedVolumeDate(span.Slice(864, 17));
        span[881] = 1;
        return d;
    }

    private static void WriteText(Span<byte> field, string text, bool joliet)
    {
        if (joliet)
        {
            BinaryFields.WriteUcs2SpacePadded(field, text);
        }
        else
        {
            BinaryFields.WriteSpacePadded(field, text);
        }
    }

    private async Task WriteAddedFileAsync(ImageOutputStream sink, ImagePlan plan, IsoTreeNode node, CancellationToken cancellationToken)
    {
        var added = node.Added!;
        if (plan.Patches.TryGetValue(node, out var patch))
        {
            // Boot images are small; libisofs patches them in memory too (iso_patch_eltoritos): GRUB2 first, then
            // the boot-info table, whose checksum therefore covers the GRUB2 patch.
            var image = added.Contents is { } c ? (byte[])c.Clone() : await File.ReadAllBytesAsync(added.LocalPath!, cancellationToken).ConfigureAwait(false);
            if (image.Length != added.Size)
            {
                throw new IOException($"{added.LocalPath}: changed while the image was written");
            }

            if (patch.Grub2BootInfo)
            {
                ElToritoCatalog.PatchGrub2BootInfo(image, (uint)node.DataBlock);
            }

            if (patch.BootInfoTable)
            {
                ElToritoCatalog.PatchBootInfoTable(image, SystemAreaBlocks, (uint)node.DataBlock);
            }

            await sink.WriteAsync(image, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (added.Contents is { } contents)
        {
            await sink.WriteAsync(contents, cancellationToken).ConfigureAwait(false);
            return;
        }

        await using var stream = new FileStream(added.LocalPath!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        if (stream.Length != added.Size)
        {
            throw new IOException($"{added.LocalPath}: changed while the image was written");
        }

        await sink.CopyExactlyAsync(stream, added.Size, added.LocalPath!, cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteTreeDataAsync(ImageOutputStream sink, ImagePlan plan, CancellationToken cancellationToken)
    {
        var seeking = false;
        for (var s = 0; s < _sources.Count; s++)
        {
            var expected = plan.DeliveryOrder[s];
            var next = 0;
            await _sources[s].ReadContentsAsync(async (entry, stream, ct) =>
            {
                if (!plan.SourceFiles.TryGetValue((s, entry.Path), out var node) || node.Delivered)
                {
                    throw new IOException($"{entry.Path}: delivered twice, or not a regular file of the source's entries");
                }

                if (entry.Size != node.Size)
                {
                    throw new IOException($"{entry.Path}: delivered with {entry.Size} bytes, its entry said {node.Size}");
                }

                if (!seeking && !ReferenceEquals(node, expected[next]))
                {
                    // The directories already name every extent, laid out in the order of the entries. A source that
                    // delivers in another order can still be placed when the target is a file we may seek in.
                    if (!sink.CanSeek)
                    {
                        throw new IOException($"{entry.Path}: delivered out of the order of the source's entries (expected {expected[next].Path}); " +
                            "writing to a pipe or hashing while writing needs contents in that order");
                    }

                    seeking = true;
                }

                node.Delivered = true;
                while (next < expected.Count && expected[next].Delivered)
                {
                    next++;
                }

                if (node.Size == 0)
                {
                    return;
                }

                if (seeking)
                {
                    sink.Seek(node.DataBlock * BlockSize);
                }
                else
                {
                    await sink.PadToAsync(node.DataBlock * BlockSize, ct).ConfigureAwait(false);
                }

                await sink.CopyExactlyAsync(stream, node.Size, entry.Path, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }

        var missing = plan.SourceFiles.Values.FirstOrDefault(n => !n.Delivered);
        if (missing is not null)
        {
            throw new IOException($"{missing.Path}: the source never delivered its contents");
        }

        if (seeking)
        {
            sink.Seek(sink.HighWater);
        }
    }

    private async Task WriteMetadataAsync(ImageOutputStream sink, ImagePlan plan, int set, CancellationToken cancellationToken)
    {
        var baseBlock = plan.SetMetadataBase(set);
        var offset = plan.AddressOffset(set);
        await sink.PadToAsync(baseBlock * BlockSize, cancellationToken).ConfigureAwait(false);
        await WritePathTablesAsync(sink, plan.IsoDirectories, baseBlock, offset, plan.IsoPathTableBlocks, cancellationToken).ConfigureAwait(false);
        foreach (var dir in plan.IsoDirectories)
        {
            await sink.PadToAsync((baseBlock + dir.RelativeBlock) * BlockSize, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(SerializeDirectory(plan, dir, baseBlock, offset), cancellationToken).ConfigureAwait(false);
        }

        if (plan.ContinuationBlocks > 0)
        {
            await sink.PadToAsync((baseBlock + plan.ContinuationStart) * BlockSize, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(SerializeContinuations(plan, baseBlock, offset), cancellationToken).ConfigureAwait(false);
        }

        if (_options.Joliet)
        {
            await sink.PadToAsync((baseBlock + plan.JolietPathTableStart) * BlockSize, cancellationToken).ConfigureAwait(false);
            await WritePathTablesAsync(sink, plan.JolietDirectories, baseBlock, offset, plan.JolietPathTableBlocks, cancellationToken).ConfigureAwait(false);
            foreach (var dir in plan.JolietDirectories)
            {
                await sink.PadToAsync((baseBlock + dir.RelativeBlock) * BlockSize, cancellationToken).ConfigureAwait(false);
                await sink.WriteAsync(SerializeDirectory(plan, dir, baseBlock, offset), cancellationToken).ConfigureAwait(false);
            }
        }

        await sink.PadToAsync((baseBlock + plan.MetadataBlocksPerSet) * BlockSize, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>ECMA-119 §9.4: the type L (little-endian) then the type M (big-endian) path table, each on its own blocks.</summary>
    private static async Task WritePathTablesAsync(ImageOutputStream sink, List<IsoDirectoryExtent> directories, long baseBlock, long offset, long tableBlocks, CancellationToken cancellationToken)
    {
        foreach (var bigEndian in new[] { false, true })
        {
            var table = new byte[tableBlocks * BlockSize];
            var at = 0;
            foreach (var dir in directories)
            {
                table[at] = (byte)dir.Identifier.Length;
                var location = (uint)(baseBlock + dir.RelativeBlock - offset);
                if (bigEndian)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(table.AsSpan(at + 2), location);
                    BinaryPrimitives.WriteUInt16BigEndian(table.AsSpan(at + 6), (ushort)dir.ParentNumber);
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(at + 2), location);
                    BinaryPrimitives.WriteUInt16LittleEndian(table.AsSpan(at + 6), (ushort)dir.ParentNumber);
                }

                dir.Identifier.CopyTo(table, at + 8);
                at += 8 + dir.Identifier.Length + (dir.Identifier.Length % 2);
            }

            await sink.WriteAsync(table, cancellationToken).ConfigureAwait(false);
        }
    }

    private byte[] SerializeDirectory(ImagePlan plan, IsoDirectoryExtent dir, long baseBlock, long offset)
    {
        var bytes = new byte[dir.Bytes];
        var at = 0;
        var joliet = plan.JolietDirectories.Count > 0 && ReferenceEquals(dir.Node.JolietDirectory, dir);
        foreach (var record in dir.Records)
        {
            if (at % BlockSize + record.Length > BlockSize)
            {
                at = (int)BinaryFields.RoundUp(at, BlockSize);
            }

            long extent, length;
            byte flags = 0;
            var target = record.Target;
            if (target.IsDirectory)
            {
                var targetDir = (joliet ? target.JolietDirectory : target.IsoDirectory)!;
                extent = baseBlock + targetDir.RelativeBlock - offset;
                length = targetDir.Bytes;
                flags = DirectoryFlag;
            }
            else if (target.HasData)
            {
                var owner = target.DataOwner!;
                var sectionBlocks = MaxExtentLength / BlockSize;
                extent = owner.Size == 0 ? 0 : owner.DataBlock + record.Part * sectionBlocks - offset;
                length = Math.Min(MaxExtentLength, owner.Size - record.Part * MaxExtentLength);
                if (owner.IsCatalog)
                {
                    extent = plan.CatalogBlock!.Value - offset;
                    length = BlockSize;
                }

                if (record.Part + 1 < record.Parts)
                {
                    flags |= MultiExtentFlag;
                }
            }
            else
            {
                extent = 0;
                length = 0;
            }

            var inode = target.DataOwner ?? target;
            WriteRecord(bytes.AsSpan(at, record.Length), record.Identifier, extent, length, inode.ModificationTime, flags,
                record.InlineSystemUse, record.Continuation, baseBlock + plan.ContinuationStart - offset);
            at += record.Length;
        }

        return bytes;
    }

    private static byte[] SerializeContinuations(ImagePlan plan, long baseBlock, long offset)
    {
        var bytes = new byte[plan.ContinuationBlocks * BlockSize];
        var continuationBase = baseBlock + plan.ContinuationStart - offset;
        foreach (var record in plan.IsoDirectories.SelectMany(d => d.Records))
        {
            for (var area = record.Continuation; area is not null; area = area.Next)
            {
                var at = area.Block * BlockSize + area.Offset;
                foreach (var entry in area.Entries)
                {
                    entry.CopyTo(bytes, at);
                    at += entry.Length;
                }

                if (area.Next is { } next)
                {
                    RockRidge.WriteContinuation(bytes.AsSpan(at), continuationBase + next.Block, next.Offset, next.Length);
                }
            }
        }

        return bytes;
    }

    /// <summary>ECMA-119 §9.1: one directory record.</summary>
    private static void WriteRecord(Span<byte> r, byte[] identifier, long extent, long length, long modificationTime, byte flags,
        List<byte[]>? systemUse, IsoContinuationArea? continuation, long continuationBase)
    {
        r[0] = (byte)r.Length;
        BinaryFields.WriteBoth32(r[2..], extent);
        BinaryFields.WriteBoth32(r[10..], length);
        IsoDates.WriteRecordDate(r.Slice(18, 7), modificationTime);
        r[25] = flags;
        BinaryFields.WriteBoth16(r[28..], 1);
        r[32] = (byte)identifier.Length;
        identifier.CopyTo(r[33..]);
        var at = RecordHeaderLength + identifier.Length + (identifier.Length % 2 == 0 ? 1 : 0);
        if (systemUse is not null)
        {
            foreach (var entry in systemUse)
            {
                entry.CopyTo(r[at..]);
                at += entry.Length;
            }
        }

        if (continuation is not null)
        {
            RockRidge.WriteContinuation(r[at..], continuationBase + continuation.Block, continuation.Offset, continuation.Length);
        }
    }

    private static string NormalisePath(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
        {
            throw new ArgumentException($"'{path}' is not a valid image path");
        }

        return string.Join('/', parts);
    }
}
