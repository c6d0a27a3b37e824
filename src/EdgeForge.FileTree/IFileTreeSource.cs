namespace EdgeForge.FileTree;

/// <summary>
/// A file tree that filesystem writers (ISO 9660, SquashFS, FAT, tar) consume: a local directory, an archive, or the
/// flattened layers of an OCI image.
/// </summary>
/// <remarks>
/// Writers first lay out the whole tree from <see cref="Entries"/> (sizes are known), then receive every regular
/// file's contents exactly once, in the order that is cheapest for the source — for an image that is layer order and
/// tar order, so compressed layer blobs are read front to back and never seeked. Writers must therefore place file
/// data in the order it arrives, not in directory order; ISO 9660 and SquashFS both allow that.
/// </remarks>
public interface IFileTreeSource
{
    /// <summary>Every entry of the tree, parents not necessarily before children, each path once.</summary>
    IReadOnlyList<FileTreeEntry> Entries { get; }

    /// <summary>
    /// Calls <paramref name="consumer"/> once for each <see cref="FileTreeEntryKind.RegularFile"/> entry of
    /// <see cref="Entries"/>, with a stream of exactly <see cref="FileTreeEntry.Size"/> bytes that is valid only during
    /// the call. Hardlinks are not delivered: they share the contents of their target.
    /// </summary>
    Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default);
}
