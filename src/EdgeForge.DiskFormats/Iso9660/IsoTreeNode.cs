using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>A file added to an image besides the trees: in memory or a local file (boot images, generated configs).</summary>
/// <param name="Placement">Where its data goes: before the trees' files, or after the tail file (see <see cref="IsoFilePlacement"/>).</param>
internal sealed record IsoAddedFile(string IsoPath, byte[]? Contents, string? LocalPath, long Size, int Mode, IsoFilePlacement Placement = IsoFilePlacement.Front);

/// <summary>
/// Where an added file's data is placed. The tail file (<see cref="Iso9660Writer.AddTailFile"/>) is written before the
/// rest of the image, so everything before it must have a size known up front; a file made only after the tail's
/// contents (a boot file captured on the way, an ESP built from it) goes after the tail and is sized when the image is
/// written.
/// </summary>
internal enum IsoFilePlacement
{
    Front,
    Tail,
    AfterTail,
}

/// <summary>One name of the image being written: what Rock Ridge describes, and where each tree puts it.</summary>
internal sealed class IsoTreeNode
{
    public required string Name { get; init; }
    public IsoTreeNode? Parent { get; init; }
    public required FileTreeEntryKind Kind { get; init; }
    public int Mode { get; set; }
    public int Uid { get; set; }
    public int Gid { get; set; }
    public long ModificationTime { get; set; }
    public long Size { get; set; }
    public string? LinkTarget { get; init; }
    public int DeviceMajor { get; init; }
    public int DeviceMinor { get; init; }

    /// <summary>Children by name (directories only).</summary>
    public Dictionary<string, IsoTreeNode> Children { get; } = new(StringComparer.Ordinal);

    /// <summary>For a hardlink, the regular file whose extent and inode it shares; for a regular file, itself.</summary>
    public IsoTreeNode? DataOwner { get; set; }

    public int LinkCount { get; set; } = 1;
    public long Serial { get; set; }
    public IsoAddedFile? Added { get; init; }
    public bool IsCatalog { get; init; }
    public bool Hidden { get; init; }

    /// <summary>Absolute 2048-byte block of the data (0 for empty files and non-files).</summary>
    public long DataBlock { get; set; }

    public string IsoIdentifier { get; set; } = "";
    public string JolietName { get; set; } = "";
    public IsoDirectoryExtent? IsoDirectory { get; set; }
    public IsoDirectoryExtent? JolietDirectory { get; set; }

    public bool IsDirectory => Kind == FileTreeEntryKind.Directory;

    /// <summary>Whether this name has file contents (its own or shared through a hardlink).</summary>
    public bool HasData => Kind is FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink;

    public string Path => Parent is null ? "" : Parent.Parent is null ? Name : Parent.Path + "/" + Name;

    public int PosixType => Kind switch
    {
        FileTreeEntryKind.Directory => RockRidge.TypeDirectory,
        FileTreeEntryKind.RegularFile or FileTreeEntryKind.Hardlink => RockRidge.TypeRegular,
        FileTreeEntryKind.Symlink => RockRidge.TypeSymlink,
        FileTreeEntryKind.CharacterDevice => RockRidge.TypeCharacter,
        FileTreeEntryKind.BlockDevice => RockRidge.TypeBlock,
        FileTreeEntryKind.Fifo => RockRidge.TypeFifo,
        FileTreeEntryKind.Socket => RockRidge.TypeSocket,
        _ => 0,
    };
}

/// <summary>One directory of one tree (ISO 9660 or Joliet) as laid out: its records and its place.</summary>
internal sealed class IsoDirectoryExtent
{
    public required IsoTreeNode Node { get; init; }
    public required byte[] Identifier { get; init; }
    public List<IsoDirectoryRecord> Records { get; } = [];
    public int Number { get; set; }
    public int ParentNumber { get; set; }
    public long Bytes { get; set; }

    /// <summary>Block offset from the start of this tree's directory area.</summary>
    public long RelativeBlock { get; set; }
}

internal enum IsoRecordKind { Self, Parent, Child }

/// <summary>One directory record as planned: target, identifier, its System Use entries and its length (ECMA-119 §9.1).</summary>
internal sealed class IsoDirectoryRecord
{
    public required IsoTreeNode Target { get; init; }
    public required IsoRecordKind Kind { get; init; }
    public required byte[] Identifier { get; init; }
    public int Part { get; init; }
    public int Parts { get; init; } = 1;
    public List<byte[]> InlineSystemUse { get; set; } = [];
    public IsoContinuationArea? Continuation { get; set; }
    public int Length { get; set; }
}

/// <summary>A SUSP continuation area (SUSP §5.1): entries that did not fit the record, within one block.</summary>
internal sealed class IsoContinuationArea
{
    public List<byte[]> Entries { get; } = [];
    public IsoContinuationArea? Next { get; set; }
    public int Block { get; set; }
    public int Offset { get; set; }
    public int Length => Entries.Sum(e => e.Length) + (Next is null ? 0 : RockRidge.ContinuationEntryLength);
}
