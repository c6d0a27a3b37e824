namespace EdgeForge.SquashFs;

/// <summary>The compressors this writer supports: the kernel's default ("gzip", zlib streams) and zstd.</summary>
public enum SquashFsCompressor
{
    Gzip,
    Zstd,
}

/// <summary>How to write a SquashFS image. The defaults match <c>mksquashfs -comp zstd -Xcompression-level 3 -b 1M</c>.</summary>
public sealed record SquashFsOptions
{
    public SquashFsCompressor Compressor { get; init; } = SquashFsCompressor.Zstd;

    /// <summary>Compression level; null for the compressor's default (<see cref="DefaultLevel"/>): gzip 9, zstd 3.</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>Data block size in bytes: a power of two from 4 KiB to 1 MiB.</summary>
    public int BlockSize { get; init; } = 1 << 20;

    /// <summary>Write the NFS export table (inode number → inode), as mksquashfs does unless told -no-exports.</summary>
    public bool ExportTable { get; init; } = true;

    /// <summary>Store extended attributes (user.*, trusted.*, security.*; other namespaces cannot be represented).</summary>
    public bool ExtendedAttributes { get; init; } = true;

    /// <summary>Compressor threads; null for one per processor.</summary>
    public int? Processors { get; init; }

    /// <summary>
    /// The image's modification time and the root directory's mtime, in seconds since the epoch; null for the newest
    /// mtime in the tree, so the same tree always gives the same image.
    /// </summary>
    public long? ModificationTime { get; init; }

    /// <summary>Permission bits of the root directory (the tree has no entry for it).</summary>
    public int RootMode { get; init; } = Convert.ToInt32("755", 8);

    public int RootUid { get; init; }

    public int RootGid { get; init; }

    /// <summary>The level used when <see cref="CompressionLevel"/> is null.</summary>
    public static int DefaultLevel(SquashFsCompressor compressor) => compressor == SquashFsCompressor.Gzip ? 9 : 3;

    internal int EffectiveLevel => CompressionLevel ?? DefaultLevel(Compressor);

    internal int EffectiveProcessors => Processors ?? Environment.ProcessorCount;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (BlockSize < SquashFsFormat.MinBlockSize || BlockSize > SquashFsFormat.MaxBlockSize || (BlockSize & (BlockSize - 1)) != 0)
        {
            throw new ArgumentException($"block size {BlockSize}: must be a power of two from 4096 to 1048576", nameof(BlockSize));
        }

        var (min, max) = Compressor == SquashFsCompressor.Gzip ? (1, 9) : (1, 22);
        if (EffectiveLevel < min || EffectiveLevel > max)
        {
            throw new ArgumentException($"compression level {EffectiveLevel}: {Compressor.ToString().ToLowerInvariant()} levels run from {min} to {max}", nameof(CompressionLevel));
        }

        if (EffectiveProcessors < 1)
        {
            throw new ArgumentException($"processors {EffectiveProcessors}: must be at least 1", nameof(Processors));
        }

        if ((RootMode & ~0xFFF) != 0)
        {
            throw new ArgumentException($"root mode {Convert.ToString(RootMode, 8)}: only permission bits are allowed", nameof(RootMode));
        }
    }
}

/// <summary>The stages of writing an image, in order; what a progress display shows.</summary>
public enum SquashFsStage
{
    /// <summary>Reading the tree's entries: names, owners, links.</summary>
    Layout,

    /// <summary>Reading, compressing and writing file contents.</summary>
    Data,

    /// <summary>Writing inodes, directories and lookup tables.</summary>
    Metadata,

    Done,
}

/// <summary>A progress report: during <see cref="SquashFsStage.Data"/>, bytes of file contents written so far.</summary>
public readonly record struct SquashFsProgress(SquashFsStage Stage, long BytesDone, long BytesTotal, long FilesDone, long FilesTotal);

/// <summary>What was written.</summary>
public sealed record SquashFsWriteResult
{
    /// <summary>Bytes of the image including the padding to 4 KiB (the output's length).</summary>
    public required long ImageSize { get; init; }

    /// <summary>The superblock's bytes_used: the image without the padding.</summary>
    public required long BytesUsed { get; init; }

    public required int InodeCount { get; init; }

    public required int FragmentCount { get; init; }

    /// <summary>Regular files whose contents equal an earlier file's and share its blocks.</summary>
    public required int DuplicateFiles { get; init; }

    /// <summary>Total size of the regular files' contents.</summary>
    public required long ContentBytes { get; init; }

    /// <summary>Extended attributes dropped because SquashFS cannot name their namespace (e.g. <c>system.posix_acl_access</c>).</summary>
    public required int SkippedExtendedAttributes { get; init; }
}
