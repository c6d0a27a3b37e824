using EdgeForge.FileTree;

namespace EdgeForge.SquashFs;

/// <summary>
/// An upper bound of the image a tree makes, from its entries alone — for a caller that must reserve room before the
/// contents are read (the ISO's directory records, which depend on whether the file exceeds one 4 GiB extent).
/// </summary>
public static class SquashFsSizeBound
{
    /// <summary>
    /// Per entry, more than any inode (extended file inode: 56 bytes plus 4 per block, counted apart), its directory entry
    /// (8 bytes plus a name of at most 256) and its share of directory headers, id, export and fragment tables.
    /// </summary>
    private const long BytesPerEntry = 1024;

    /// <summary>Superblock, compressor options, table indexes and the 4 KiB device padding, with room to spare.</summary>
    private const long FixedBytes = 1 << 20;

    /// <summary>
    /// Every data block stored raw (a block that does not shrink is stored uncompressed, format.adoc "Packing File Data"),
    /// every tail in a fragment of its own size, every metadata block raw with its 2-byte header, extended attributes
    /// twice over (names and values).
    /// </summary>
    public static long Maximum(IReadOnlyList<FileTreeEntry> entries, SquashFsOptions? options = null)
    {
        var blockSize = (options ?? new SquashFsOptions()).BlockSize;
        long total = FixedBytes;
        foreach (var entry in entries)
        {
            var blocks = (entry.Size + blockSize - 1) / blockSize;
            var xattrs = 0L;
            foreach (var (name, value) in entry.ExtendedAttributes)
            {
                xattrs += 32 + name.Length + value.Length;
            }

            total += entry.Size + BytesPerEntry + 4 * blocks + 2 * xattrs + (entry.LinkTarget?.Length ?? 0);
        }

        // Metadata blocks are 8 KiB with a 2-byte header each; a whole extra block per 4 KiB of it bounds that generously.
        return total + total / (SquashFsFormat.MetadataBlockSize / 2) * 2;
    }
}
