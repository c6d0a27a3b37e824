namespace EdgeForge.SquashFs;

/// <summary>
/// On-disk constants of SquashFS 4.0, as defined by Linux <c>fs/squashfs/squashfs_fs.h</c> and described in the
/// community "SquashFS binary format" document (squashfs-tools-ng doc/format.adoc). Every integer is little-endian.
/// </summary>
internal static class SquashFsFormat
{
    /// <summary>"hsqs" read as a little-endian u32 (SQUASHFS_MAGIC).</summary>
    public const uint Magic = 0x73717368;

    public const ushort VersionMajor = 4, VersionMinor = 0;

    /// <summary>The superblock is 96 bytes (struct squashfs_super_block).</summary>
    public const int SuperblockSize = 96;

    /// <summary>Metadata (inodes, directories, tables) is cut into blocks of 8 KiB before compression (SQUASHFS_METADATA_SIZE).</summary>
    public const int MetadataBlockSize = 8192;

    /// <summary>Bit 15 of a metadata block's 2-byte header: the block is stored uncompressed (SQUASHFS_COMPRESSED_BIT).</summary>
    public const ushort MetadataUncompressedBit = 0x8000;

    /// <summary>Bit 24 of a data/fragment block size: the block is stored uncompressed (SQUASHFS_COMPRESSED_BIT_BLOCK).</summary>
    public const uint DataBlockUncompressedBit = 1u << 24;

    /// <summary>Absent optional tables (xattr, fragment, export) and "no fragment" use all bits set (SQUASHFS_INVALID_BLK / _FRAG).</summary>
    public const ulong InvalidTable = ulong.MaxValue;
    public const uint InvalidFragment = uint.MaxValue;
    public const uint InvalidXattr = uint.MaxValue;

    /// <summary>Data block sizes allowed by the format: powers of two from 4 KiB to 1 MiB (SQUASHFS_FILE_MAX_SIZE).</summary>
    public const int MinBlockSize = 4096, MaxBlockSize = 1 << 20;

    /// <summary>The kernel refuses names longer than 256 bytes (SQUASHFS_NAME_LEN).</summary>
    public const int MaxNameLength = 256;

    /// <summary>A directory header covers at most 256 entries (SQUASHFS_DIR_COUNT).</summary>
    public const int MaxEntriesPerDirectoryHeader = 256;

    /// <summary>Images are padded to a multiple of 4 KiB so they can sit on a block device (mksquashfs's default).</summary>
    public const int DevicePadding = 4096;

    /// <summary>Superblock compression ids (SQUASHFS's ZLIB_COMPRESSION … ZSTD_COMPRESSION).</summary>
    public const ushort CompressionGzip = 1, CompressionZstd = 6;

    /// <summary>Superblock flag bits (SQUASHFS_NOI … SQUASHFS_COMP_OPT).</summary>
    public const ushort FlagDuplicates = 0x0040, FlagExportable = 0x0080, FlagNoXattrs = 0x0200, FlagCompressorOptions = 0x0400;

    /// <summary>Xattr key prefixes the format can name (SQUASHFS_XATTR_USER/TRUSTED/SECURITY).</summary>
    public const ushort XattrUser = 0, XattrTrusted = 1, XattrSecurity = 2;
}

/// <summary>Inode types (squashfs_fs.h SQUASHFS_DIR_TYPE … SQUASHFS_LSOCKET_TYPE): basic 1–7, extended = basic + 7.</summary>
internal enum InodeType : ushort
{
    Directory = 1,
    File = 2,
    Symlink = 3,
    BlockDevice = 4,
    CharacterDevice = 5,
    Fifo = 6,
    Socket = 7,
    ExtendedDirectory = 8,
    ExtendedFile = 9,
    ExtendedSymlink = 10,
    ExtendedBlockDevice = 11,
    ExtendedCharacterDevice = 12,
    ExtendedFifo = 13,
    ExtendedSocket = 14,
}
