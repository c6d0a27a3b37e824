using EdgeForge.DiskFormats.IO;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Lays out the metadata area of a descriptor set (<see cref="IsoMetadataLayout"/>): every directory record with its
/// identifier and Rock Ridge entries, the directories' sizes and places, the continuation areas, the path tables.
/// Only sizes are decided here; addresses are filled in when the records are written.
/// </summary>
internal static class IsoDirectoryLayout
{
    private const int BlockSize = Iso9660Writer.BlockSize;

    public static IsoMetadataLayout Plan(IsoTreeNode root, IsoImageOptions options)
    {
        var isoDirectories = LayoutTree(root, joliet: false, options.RockRidge, out var continuationBlocks);
        var iso = PlaceTree(isoDirectories, joliet: false, pathTableStart: 0);
        var at = iso.PathTableStart + 2 * iso.PathTableBlocks + DirectoryBlocks(isoDirectories);
        var continuationStart = at;
        at += continuationBlocks;
        IsoDirectoryTree? joliet = null;
        if (options.Joliet)
        {
            joliet = PlaceTree(LayoutTree(root, joliet: true, rockRidge: false, out _), joliet: true, pathTableStart: at);
            at = joliet.PathTableStart + 2 * joliet.PathTableBlocks + DirectoryBlocks(joliet.Directories);
        }

        return new IsoMetadataLayout { Iso = iso, Joliet = joliet, ContinuationStart = continuationStart, ContinuationBlocks = continuationBlocks, Blocks = at };
    }

    /// <summary>The type L and type M path tables (each on its own blocks), then the directories one after another.</summary>
    private static IsoDirectoryTree PlaceTree(List<IsoDirectoryExtent> directories, bool joliet, long pathTableStart)
    {
        var pathTableBytes = directories.Sum(d => (long)PathTableRecordFields.RecordLength(d.Identifier.Length));
        var pathTableBlocks = BinaryFields.DivideRoundingUp(pathTableBytes, BlockSize);
        var at = pathTableStart + 2 * pathTableBlocks;
        foreach (var dir in directories)
        {
            dir.RelativeBlock = at;
            at += dir.Bytes / BlockSize;
        }

        return new IsoDirectoryTree
        {
            Joliet = joliet,
            Directories = directories,
            PathTableStart = pathTableStart,
            PathTableBytes = pathTableBytes,
            PathTableBlocks = pathTableBlocks,
        };
    }

    private static long DirectoryBlocks(IEnumerable<IsoDirectoryExtent> directories) => directories.Sum(d => d.Bytes / BlockSize);

    /// <summary>
    /// Lays out one directory tree breadth first — the path table order of ECMA-119 §6.9.1 (by level, then parent
    /// number, then identifier) — with records sorted by identifier (§9.3) and never crossing a block (§6.8.1.1).
    /// Deep hierarchies are kept in place, as xorriso does with Rock Ridge; every reader we target walks them.
    /// </summary>
    private static List<IsoDirectoryExtent> LayoutTree(IsoTreeNode root, bool joliet, bool rockRidge, out int continuationBlocks)
    {
        var directories = new List<IsoDirectoryExtent>();
        var continuation = new ContinuationAllocator();
        var rootExtent = new IsoDirectoryExtent { Node = root, Identifier = [DirectoryRecordFields.SelfIdentifier], Number = 1, ParentNumber = 1 };
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
            dir.Records.Add(PlanRecord(dir.Node, IsoRecordKind.Self, [DirectoryRecordFields.SelfIdentifier], 0, 1, rockRidge, continuation));
            dir.Records.Add(PlanRecord(parent, IsoRecordKind.Parent, [DirectoryRecordFields.ParentIdentifier], 0, 1, rockRidge, continuation));
            foreach (var child in children)
            {
                var identifier = joliet ? IsoIdentifiers.JolietBytes(child.JolietName) : IsoIdentifiers.IsoBytes(child.IsoIdentifier);
                if (child.IsDirectory)
                {
                    var childExtent = new IsoDirectoryExtent { Node = child, Identifier = identifier, ParentNumber = dir.Number };
                    queue.Enqueue(childExtent);
                }

                var size = child.HasData ? child.DataOwner!.Size : 0;
                var parts = (int)Math.Max(1, BinaryFields.DivideRoundingUp(size, Iso9660Writer.MaxExtentLength));
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

    private static IsoDirectoryRecord PlanRecord(IsoTreeNode target, IsoRecordKind kind, byte[] identifier, int part, int parts, bool rockRidge, ContinuationAllocator continuation)
    {
        var record = new IsoDirectoryRecord { Target = target, Kind = kind, Identifier = identifier, Part = part, Parts = parts };
        var fixedLength = DirectoryRecordFields.SystemUse(identifier.Length);
        if (rockRidge)
        {
            var entries = SystemUseEntries(target, kind);
            var available = DirectoryRecordFields.MaxLength - fixedLength;
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
    private static List<byte[]> SystemUseEntries(IsoTreeNode target, IsoRecordKind kind)
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
}
