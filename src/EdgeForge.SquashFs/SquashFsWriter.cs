using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeForge.FileTree;

namespace EdgeForge.SquashFs;

/// <summary>
/// Writes a SquashFS 4.0 image (what the Linux kernel mounts and squashfs-tools read) from an
/// <see cref="IFileTreeSource"/>: directories, regular files (data blocks, tail-end fragments, duplicates shared,
/// all-zero blocks as holes), symlinks, hardlinks, devices, fifos, sockets, owners, modes, mtimes and xattrs.
/// </summary>
/// <remarks>
/// <para>
/// The image is laid out as mksquashfs lays it out (format.adoc "Overview"): superblock, compressor options, data
/// and fragment blocks in the order the source delivers contents, inode table, directory table, fragment table,
/// export table, id table, xattr table, padding to 4 KiB. The kernel checks that order at mount time.
/// </para>
/// <para>
/// Output is reproducible: identical input and options give identical bytes, whatever the thread timing.
/// Memory is bounded by a few blocks per compressor thread plus ~150 bytes per entry of the tree.
/// </para>
/// </remarks>
public static class SquashFsWriter
{
    /// <summary>
    /// Writes the image of <paramref name="source"/> to <paramref name="output"/>, which must be seekable and
    /// writable; the image starts at offset 0 and the stream is truncated to the image's length. Callers that write
    /// a file should write to a temporary name and rename it when this returns, as <see cref="WriteFileAsync"/> does.
    /// </summary>
    /// <exception cref="InvalidDataException">The tree cannot be represented (bad path, hardlink to nothing, too many ids, …).</exception>
    /// <exception cref="IOException">Reading or writing failed, or a file's contents were not as long as its entry said.</exception>
    /// <exception cref="InvalidOperationException">The source broke its contract (a file delivered twice or never).</exception>
    public static async Task<SquashFsWriteResult> WriteAsync(IFileTreeSource source, Stream output, SquashFsOptions? options = null,
        IProgress<SquashFsProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanSeek || !output.CanWrite)
        {
            throw new ArgumentException("the output must be seekable and writable", nameof(output));
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("the SquashFS writer runs on little-endian machines only");
        }

        options ??= new SquashFsOptions();
        options.Validate();
        var compressor = BlockCompressor.Create(options);

        progress?.Report(new SquashFsProgress(SquashFsStage.Layout, 0, 0, 0, source.Entries.Count));
        var layout = TreeLayout.Build(source, options, cancellationToken);

        // Superblock placeholder, then the compressor options: one uncompressed metadata block.
        output.SetLength(0);
        output.Position = 0;
        output.Write(new byte[SquashFsFormat.SuperblockSize]);
        var optionsPayload = compressor.OptionsPayload;
        if (optionsPayload.Length > 0)
        {
            Span<byte> header = stackalloc byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(optionsPayload.Length | SquashFsFormat.MetadataUncompressedBit));
            output.Write(header);
            output.Write(optionsPayload);
        }

        progress?.Report(new SquashFsProgress(SquashFsStage.Data, 0, layout.ContentBytes, 0, layout.Files.Length));
        var data = new DataPipeline(output, output.Position, layout, compressor, options, progress, cancellationToken);
        try
        {
            await source.ReadContentsAsync(data.AddFileAsync, cancellationToken).ConfigureAwait(false);
            await data.CompleteAsync().ConfigureAwait(false);
        }
        finally
        {
            data.Shutdown();
        }

        progress?.Report(new SquashFsProgress(SquashFsStage.Metadata, layout.ContentBytes, layout.ContentBytes, layout.Files.Length, layout.Files.Length));
        output.Position = data.End;
        output.SetLength(data.End);
        var superblock = new Superblock
        {
            InodeCount = (uint)layout.InodeCount,
            ModificationTime = (uint)Math.Clamp(layout.ImageTime, 0, uint.MaxValue),
            BlockSize = (uint)options.BlockSize,
            FragmentCount = (uint)data.Fragments.Count,
            CompressionId = compressor.CompressionId,
            Flags = (ushort)(SquashFsFormat.FlagDuplicates
                | (options.ExportTable ? SquashFsFormat.FlagExportable : 0)
                | (options.ExtendedAttributes ? 0 : SquashFsFormat.FlagNoXattrs)
                | (optionsPayload.Length > 0 ? SquashFsFormat.FlagCompressorOptions : 0)),
            IdCount = (ushort)layout.Ids.Ids.Count,
            InodeTableStart = (ulong)data.End,
        };

        using (var directoryTable = new MemoryStream())
        {
            var inodes = new InodeTableWriter(output, directoryTable, layout, data, compressor, options.BlockSize);
            inodes.WriteAll(cancellationToken);
            superblock.RootInode = inodes.RootReference;
            superblock.DirectoryTableStart = (ulong)output.Position;
            directoryTable.Position = 0;
            directoryTable.CopyTo(output);

            superblock.FragmentTableStart = (ulong)MetadataWriter.WriteLookupTable(output, compressor, FragmentEntries(data.Fragments));
            superblock.ExportTableStart = options.ExportTable
                ? (ulong)MetadataWriter.WriteLookupTable(output, compressor, MemoryMarshal.AsBytes(inodes.InodeReferences.AsSpan()))
                : SquashFsFormat.InvalidTable;
        }

        superblock.IdTableStart = (ulong)MetadataWriter.WriteLookupTable(output, compressor, MemoryMarshal.AsBytes(layout.Ids.AsSpan()));
        superblock.XattrTableStart = WriteXattrTable(output, compressor, layout.Xattrs);
        superblock.BytesUsed = (ulong)output.Position;

        var padded = (output.Position + SquashFsFormat.DevicePadding - 1) / SquashFsFormat.DevicePadding * SquashFsFormat.DevicePadding;
        output.SetLength(padded);
        output.Position = 0;
        superblock.WriteTo(output);
        output.Position = padded;
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

        progress?.Report(new SquashFsProgress(SquashFsStage.Done, layout.ContentBytes, layout.ContentBytes, layout.Files.Length, layout.Files.Length));
        return new SquashFsWriteResult
        {
            ImageSize = padded,
            BytesUsed = (long)superblock.BytesUsed,
            InodeCount = layout.InodeCount,
            FragmentCount = data.Fragments.Count,
            DuplicateFiles = data.DuplicateFiles,
            ContentBytes = layout.ContentBytes,
            SkippedExtendedAttributes = layout.Xattrs.Skipped,
        };
    }

    /// <summary>
    /// Writes the image to <paramref name="path"/> through a temporary file in the same directory, renamed over the
    /// destination only when the image is complete — a failed or cancelled write leaves no partial image behind.
    /// </summary>
    public static async Task<SquashFsWriteResult> WriteFileAsync(IFileTreeSource source, string path, SquashFsOptions? options = null,
        IProgress<SquashFsProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            SquashFsWriteResult result;
            // Direct I/O: the image goes from one aligned window to the device, not through newly allocated page-cache
            // pages (DirectIoFileStream says why that matters). Readable, so that the data pipeline can read a file
            // back from the image to prove a later file its duplicate.
            await using (var stream = new DirectIoFileStream(temporary, FileMode.Create))
            {
                result = await WriteAsync(source, stream, options, progress, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temporary, full, overwrite: true);
            return result;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>struct squashfs_fragment_entry: start (u64), size (u32, bit 24 = raw), unused (u32).</summary>
    private static byte[] FragmentEntries(List<(long Start, uint Size)> fragments)
    {
        var entries = new byte[fragments.Count * 16];
        for (var i = 0; i < fragments.Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(entries.AsSpan(i * 16), fragments[i].Start);
            BinaryPrimitives.WriteUInt32LittleEndian(entries.AsSpan(i * 16 + 8), fragments[i].Size);
        }

        return entries;
    }

    /// <summary>
    /// The key/value metadata blocks of every distinct set, then the xattr id table (struct squashfs_xattr_id:
    /// reference, pair count, size) behind struct squashfs_xattr_table (kv start, id count, unused), which the
    /// superblock points at. No sets: no table, as mksquashfs does.
    /// </summary>
    private static ulong WriteXattrTable(Stream output, BlockCompressor compressor, XattrTable xattrs)
    {
        if (xattrs.Sets.Count == 0)
        {
            return SquashFsFormat.InvalidTable;
        }

        var keyValueStart = output.Position;
        var keyValues = new MetadataWriter(output, compressor);
        var ids = new byte[xattrs.Sets.Count * 16];
        for (var i = 0; i < xattrs.Sets.Count; i++)
        {
            var (entries, count, size) = xattrs.Sets[i];
            BinaryPrimitives.WriteUInt64LittleEndian(ids.AsSpan(i * 16), keyValues.Reference);
            BinaryPrimitives.WriteUInt32LittleEndian(ids.AsSpan(i * 16 + 8), (uint)count);
            BinaryPrimitives.WriteUInt32LittleEndian(ids.AsSpan(i * 16 + 12), (uint)size);
            keyValues.Write(entries);
        }

        keyValues.Finish();
        var header = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(header, keyValueStart);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)xattrs.Sets.Count);
        return (ulong)MetadataWriter.WriteLookupTable(output, compressor, ids, header);
    }

    /// <summary>struct squashfs_super_block, 96 bytes.</summary>
    private sealed class Superblock
    {
        public uint InodeCount;
        public uint ModificationTime;
        public uint BlockSize;
        public uint FragmentCount;
        public ushort CompressionId;
        public ushort Flags;
        public ushort IdCount;
        public ulong RootInode;
        public ulong BytesUsed;
        public ulong IdTableStart;
        public ulong XattrTableStart;
        public ulong InodeTableStart;
        public ulong DirectoryTableStart;
        public ulong FragmentTableStart;
        public ulong ExportTableStart;

        public void WriteTo(Stream output)
        {
            Span<byte> b = stackalloc byte[SquashFsFormat.SuperblockSize];
            BinaryPrimitives.WriteUInt32LittleEndian(b, SquashFsFormat.Magic);
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], InodeCount);
            BinaryPrimitives.WriteUInt32LittleEndian(b[8..], ModificationTime);
            BinaryPrimitives.WriteUInt32LittleEndian(b[12..], BlockSize);
            BinaryPrimitives.WriteUInt32LittleEndian(b[16..], FragmentCount);
            BinaryPrimitives.WriteUInt16LittleEndian(b[20..], CompressionId);
            BinaryPrimitives.WriteUInt16LittleEndian(b[22..], (ushort)System.Numerics.BitOperations.Log2(BlockSize));
            BinaryPrimitives.WriteUInt16LittleEndian(b[24..], Flags);
            BinaryPrimitives.WriteUInt16LittleEndian(b[26..], IdCount);
            BinaryPrimitives.WriteUInt16LittleEndian(b[28..], SquashFsFormat.VersionMajor);
            BinaryPrimitives.WriteUInt16LittleEndian(b[30..], SquashFsFormat.VersionMinor);
            BinaryPrimitives.WriteUInt64LittleEndian(b[32..], RootInode);
            BinaryPrimitives.WriteUInt64LittleEndian(b[40..], BytesUsed);
            BinaryPrimitives.WriteUInt64LittleEndian(b[48..], IdTableStart);
            BinaryPrimitives.WriteUInt64LittleEndian(b[56..], XattrTableStart);
            BinaryPrimitives.WriteUInt64LittleEndian(b[64..], InodeTableStart);
            BinaryPrimitives.WriteUInt64LittleEndian(b[72..], DirectoryTableStart);
            BinaryPrimitives.WriteUInt64LittleEndian(b[80..], FragmentTableStart);
            BinaryPrimitives.WriteUInt64LittleEndian(b[88..], ExportTableStart);
            output.Write(b);
        }
    }
}
