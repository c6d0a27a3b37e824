namespace EdgeForge.FileTree;

/// <summary>The kinds of entry a POSIX file tree holds (the set tar, SquashFS and Rock Ridge all carry).</summary>
public enum FileTreeEntryKind
{
    Directory,
    RegularFile,
    Symlink,
    /// <summary>A second name for a regular file; <see cref="FileTreeEntry.LinkTarget"/> is the path of the first name.</summary>
    Hardlink,
    CharacterDevice,
    BlockDevice,
    Fifo,
    Socket,
}

/// <summary>
/// One entry of a file tree: metadata only. Contents of regular files are delivered separately, by
/// <see cref="IFileTreeSource.ReadContentsAsync"/>, so a tree of any size can be described in memory while its
/// data is streamed once.
/// </summary>
public sealed record FileTreeEntry
{
    /// <summary>Relative, '/'-separated, normalised path without a leading '/', e.g. <c>usr/bin/env</c>. The root itself is not an entry.</summary>
    public required string Path { get; init; }

    public required FileTreeEntryKind Kind { get; init; }

    /// <summary>Permission bits including set-uid, set-gid and sticky (the low 12 bits of st_mode).</summary>
    public int Mode { get; init; }

    public int Uid { get; init; }

    public int Gid { get; init; }

    /// <summary>Modification time in whole seconds since the Unix epoch (UTC).</summary>
    public long ModificationTime { get; init; }

    /// <summary>Size in bytes of a regular file's contents; 0 for every other kind.</summary>
    public long Size { get; init; }

    /// <summary>Target of a symlink (as stored, may be relative) or, for a hardlink, the tree path of the file it names.</summary>
    public string? LinkTarget { get; init; }

    public int DeviceMajor { get; init; }

    public int DeviceMinor { get; init; }

    /// <summary>Extended attributes (e.g. <c>security.capability</c>, <c>user.*</c>), name → raw value.</summary>
    public IReadOnlyDictionary<string, byte[]> ExtendedAttributes { get; init; } = EmptyAttributes;

    /// <summary>The last path component.</summary>
    public string Name => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>The parent's path, "" for entries directly under the root.</summary>
    public string ParentPath => Path.LastIndexOf('/') is var i and >= 0 ? Path[..i] : "";

    private static readonly IReadOnlyDictionary<string, byte[]> EmptyAttributes = new Dictionary<string, byte[]>();
}
