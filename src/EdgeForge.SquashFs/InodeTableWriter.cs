using System.Buffers.Binary;
using EdgeForge.FileTree;

namespace EdgeForge.SquashFs;

/// <summary>
/// Phase three of writing an image: the inode table (straight to the image, right after the data) and the directory
/// table (held compressed in memory, since it follows the inode table on disk but is produced alongside it). Inodes
/// are written in post-order, so every directory listing can name its children's inode positions, and every
/// directory inode its listing's position.
/// </summary>
internal sealed class InodeTableWriter
{
    /// <summary>struct squashfs_dir_header: count − 1, inode block start, base inode number.</summary>
    private const int DirectoryHeaderSize = 12;

    /// <summary>struct squashfs_dir_entry without its name: offset, inode number delta, type, name size − 1.</summary>
    private const int DirectoryEntrySize = 8;

    private readonly TreeLayout _layout;
    private readonly DataPipeline _data;
    private readonly int _blockSize;
    private readonly MetadataWriter _inodes;
    private readonly MetadataWriter _directories;
    /// <summary>Room for the largest fixed-size record: an extended inode header, or a directory index entry with its name.</summary>
    private readonly byte[] _scratch = new byte[64 + SquashFsFormat.MaxNameLength];

    /// <summary>One directory run's entries, assembled before its header (which holds their count) is written.</summary>
    private readonly byte[] _run = new byte[SquashFsFormat.MaxEntriesPerDirectoryHeader * (DirectoryEntrySize + SquashFsFormat.MaxNameLength)];
    private readonly List<(uint Index, uint Start, int Child)> _directoryIndex = [];
    private uint _inodesWritten;

    public InodeTableWriter(Stream image, MemoryStream directoryTable, TreeLayout layout, DataPipeline data, BlockCompressor compressor, int blockSize)
    {
        _layout = layout;
        _data = data;
        _blockSize = blockSize;
        _inodes = new MetadataWriter(image, compressor);
        _directories = new MetadataWriter(directoryTable, compressor);
        InodeReferences = new ulong[layout.InodeCount];
    }

    /// <summary>Inode number − 1 → inode reference: the export table, and how listings find their children.</summary>
    public ulong[] InodeReferences { get; }

    public ulong RootReference => InodeReferences[_layout[TreeLayout.Root].InodeNumber - 1];

    public void WriteAll(CancellationToken cancellationToken)
    {
        _layout.VisitPostOrder(
            name =>
            {
                // Inode numbers follow this very walk, so an inode is written iff its number is already reached.
                var owner = _layout[name].InodeOwner;
                if (_layout[owner].InodeNumber > _inodesWritten)
                {
                    WriteInode(owner);
                }

                if ((_inodesWritten & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            },
            WriteDirectory);
        _inodes.Finish();
        _directories.Finish();
    }

    private void BeginInode(ref TreeNode n)
    {
        if (n.InodeNumber != ++_inodesWritten)
        {
            throw new InvalidOperationException($"inode {n.InodeNumber} written as the {_inodesWritten}th");
        }

        InodeReferences[n.InodeNumber - 1] = _inodes.Reference;
    }

    private void WriteInode(int node)
    {
        ref var n = ref _layout[node];
        BeginInode(ref n);
        var hasXattrs = n.XattrIndex != SquashFsFormat.InvalidXattr;
        var buffer = _scratch.AsSpan();
        int length;
        switch (n.Kind)
        {
            case FileTreeEntryKind.RegularFile:
                WriteFileInode(ref n);
                return;
            case FileTreeEntryKind.Symlink:
                // Targets may be longer than the scratch buffer: header, target and xattr index go separately.
                var target = _layout.Names.Get(n.Payload, n.PayloadLength);
                WriteHeader(buffer, ref n, hasXattrs ? InodeType.ExtendedSymlink : InodeType.Symlink);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], n.LinkCount);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], (uint)target.Length);
                _inodes.Write(buffer[..24]);
                _inodes.Write(target);
                length = 0;
                if (hasXattrs)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(buffer, n.XattrIndex);
                    length = 4;
                }

                break;
            case FileTreeEntryKind.CharacterDevice or FileTreeEntryKind.BlockDevice:
                var block = n.Kind == FileTreeEntryKind.BlockDevice;
                WriteHeader(buffer, ref n, (block, hasXattrs) switch
                {
                    (true, false) => InodeType.BlockDevice,
                    (true, true) => InodeType.ExtendedBlockDevice,
                    (false, false) => InodeType.CharacterDevice,
                    (false, true) => InodeType.ExtendedCharacterDevice,
                });
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], n.LinkCount);
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], (uint)n.Payload);
                length = 24;
                if (hasXattrs)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..], n.XattrIndex);
                    length += 4;
                }

                break;
            case FileTreeEntryKind.Fifo or FileTreeEntryKind.Socket:
                var fifo = n.Kind == FileTreeEntryKind.Fifo;
                WriteHeader(buffer, ref n, (fifo, hasXattrs) switch
                {
                    (true, false) => InodeType.Fifo,
                    (true, true) => InodeType.ExtendedFifo,
                    (false, false) => InodeType.Socket,
                    (false, true) => InodeType.ExtendedSocket,
                });
                BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], n.LinkCount);
                length = 20;
                if (hasXattrs)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], n.XattrIndex);
                    length += 4;
                }

                break;
            default:
                throw new InvalidOperationException($"no inode for a {n.Kind}");
        }

        _inodes.Write(buffer[..length]);
    }

    /// <summary>
    /// The basic file inode holds 32-bit positions and sizes and nothing else; larger files, data beyond 4 GiB,
    /// hardlinked files, files with holes or xattrs take the extended inode (squashfs_fs.h squashfs_lreg_inode).
    /// </summary>
    private void WriteFileInode(ref TreeNode n)
    {
        ref var file = ref _layout.Files[n.Payload];
        var blockCount = (int)(file.Size / _blockSize);
        var hasTail = file.Size % _blockSize != 0;
        var fragment = hasTail ? file.FragmentIndex : SquashFsFormat.InvalidFragment;
        var fragmentOffset = hasTail ? file.FragmentOffset : 0;
        var blocksStart = blockCount > 0 ? file.BlocksStart : 0;
        var extended = n.XattrIndex != SquashFsFormat.InvalidXattr || n.LinkCount > 1 || file.SparseBytes != 0
            || blocksStart > uint.MaxValue || (ulong)file.Size > uint.MaxValue;
        var buffer = _scratch.AsSpan();
        int length;
        if (extended)
        {
            WriteHeader(buffer, ref n, InodeType.ExtendedFile);
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[16..], blocksStart);
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[24..], (ulong)file.Size);
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[32..], file.SparseBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[40..], n.LinkCount);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[44..], fragment);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[48..], fragmentOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[52..], n.XattrIndex);
            length = 56;
        }
        else
        {
            WriteHeader(buffer, ref n, InodeType.File);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], (uint)blocksStart);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], fragment);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..], fragmentOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[28..], (uint)file.Size);
            length = 32;
        }

        _inodes.Write(buffer[..length]);
        var sizes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_data.BlockSizes).Slice(file.BlockListStart, blockCount);
        Span<byte> one = stackalloc byte[4];
        foreach (var size in sizes)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(one, size);
            _inodes.Write(one);
        }
    }

    /// <summary>
    /// Writes a directory's listing — runs of at most 256 entries behind a header naming their inode block and a
    /// base inode number — and then its inode. A new run also starts when 8 KiB of listing have passed since the
    /// last index point; the extended inode's index then points at that run, so a lookup in a large directory reads
    /// one metadata block (format.adoc "Directory Index", as mksquashfs places them).
    /// </summary>
    private void WriteDirectory(int directory)
    {
        var listingBlock = _directories.BlockStart;
        var listingOffset = _directories.Offset;
        long listingSize = 0, sinceIndexPoint = 0;
        var runLength = 0;
        var runCount = 0;
        uint runBlock = 0, runBase = 0;
        _directoryIndex.Clear();

        void FlushRun()
        {
            if (runCount == 0)
            {
                return;
            }

            Span<byte> header = stackalloc byte[DirectoryHeaderSize];
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(runCount - 1));
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], runBlock);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], runBase);
            _directories.Write(header);
            _directories.Write(_run.AsSpan(0, runLength));
            listingSize += DirectoryHeaderSize + runLength;
            sinceIndexPoint += DirectoryHeaderSize + runLength;
            runLength = 0;
            runCount = 0;
        }

        foreach (var child in _layout.ChildrenOf(directory))
        {
            var owner = _layout[child].InodeOwner;
            var number = _layout[owner].InodeNumber;
            var reference = InodeReferences[number - 1];
            var block = (uint)(reference >> 16);
            var name = _layout.NameOf(child);
            var entrySize = DirectoryEntrySize + name.Length;
            if (runCount > 0 && sinceIndexPoint + DirectoryHeaderSize + runLength + entrySize > SquashFsFormat.MetadataBlockSize)
            {
                FlushRun();
                _directoryIndex.Add(((uint)listingSize, (uint)_directories.BlockStart, child));
                sinceIndexPoint = 0;
            }
            else if (runCount == SquashFsFormat.MaxEntriesPerDirectoryHeader || (runCount > 0 && (block != runBlock || (long)number - runBase is < short.MinValue or > short.MaxValue)))
            {
                FlushRun();
            }

            if (runCount == 0)
            {
                runBlock = block;
                runBase = number;
            }

            var entry = _run.AsSpan(runLength);
            BinaryPrimitives.WriteUInt16LittleEndian(entry, (ushort)(reference & 0xFFFF));
            BinaryPrimitives.WriteInt16LittleEndian(entry[2..], (short)(number - runBase));
            BinaryPrimitives.WriteUInt16LittleEndian(entry[4..], (ushort)BasicTypeOf(owner));
            BinaryPrimitives.WriteUInt16LittleEndian(entry[6..], (ushort)(name.Length - 1));
            name.CopyTo(entry[8..]);
            runLength += entrySize;
            runCount++;
        }

        FlushRun();
        WriteDirectoryInode(directory, listingBlock, listingOffset, listingSize);
    }

    private void WriteDirectoryInode(int directory, long listingBlock, int listingOffset, long listingSize)
    {
        ref var n = ref _layout[directory];
        BeginInode(ref n);

        // The kernel presents "." and ".." at positions 0–2 of a directory, so file_size is the listing plus 3.
        var fileSize = listingSize + 3;
        var parent = directory == TreeLayout.Root ? (uint)_layout.InodeCount + 1 : _layout[n.Parent].InodeNumber;
        var hasXattrs = n.XattrIndex != SquashFsFormat.InvalidXattr;
        if (listingBlock > uint.MaxValue || fileSize > uint.MaxValue || _directoryIndex.Count > ushort.MaxValue)
        {
            throw new SquashFsTreeException("a directory listing or the directory table exceeds what SquashFS can address");
        }

        var buffer = _scratch.AsSpan();
        if (!hasXattrs && fileSize <= ushort.MaxValue && _directoryIndex.Count == 0)
        {
            WriteHeader(buffer, ref n, InodeType.Directory);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], (uint)listingBlock);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], n.LinkCount);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[24..], (ushort)fileSize);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[26..], (ushort)listingOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[28..], parent);
            _inodes.Write(buffer[..32]);
            return;
        }

        WriteHeader(buffer, ref n, InodeType.ExtendedDirectory);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], n.LinkCount);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], (uint)fileSize);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..], (uint)listingBlock);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[28..], parent);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[32..], (ushort)_directoryIndex.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[34..], (ushort)listingOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[36..], n.XattrIndex);
        _inodes.Write(buffer[..40]);
        foreach (var (index, start, child) in _directoryIndex)
        {
            // struct squashfs_dir_index: offset of the run in the listing, its directory block, first name.
            var name = _layout.NameOf(child);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer, index);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], start);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], (uint)(name.Length - 1));
            name.CopyTo(buffer[12..]);
            _inodes.Write(buffer[..(12 + name.Length)]);
        }
    }

    /// <summary>The common inode header (struct squashfs_base_inode).</summary>
    private static void WriteHeader(Span<byte> buffer, ref TreeNode n, InodeType type)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)type);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[2..], n.Mode);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[4..], n.UidIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[6..], n.GidIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], n.ModificationTime);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[12..], n.InodeNumber);
    }

    /// <summary>Directory entries carry the basic type even for extended inodes (format.adoc "Directory Table").</summary>
    private InodeType BasicTypeOf(int owner) => _layout[owner].Kind switch
    {
        FileTreeEntryKind.Directory => InodeType.Directory,
        FileTreeEntryKind.RegularFile => InodeType.File,
        FileTreeEntryKind.Symlink => InodeType.Symlink,
        FileTreeEntryKind.BlockDevice => InodeType.BlockDevice,
        FileTreeEntryKind.CharacterDevice => InodeType.CharacterDevice,
        FileTreeEntryKind.Fifo => InodeType.Fifo,
        FileTreeEntryKind.Socket => InodeType.Socket,
        var kind => throw new InvalidOperationException($"no inode type for a {kind}"),
    };
}
