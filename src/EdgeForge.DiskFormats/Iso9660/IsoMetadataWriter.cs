using System.Buffers.Binary;
using System.Text;
using EdgeForge.DiskFormats.IO;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Serialises what describes the files, from the plan alone: volume descriptors (ECMA-119 §8, El Torito §2.0), the
/// boot catalog, path tables (§9.4), directory records (§9.1) with their Rock Ridge entries and SUSP continuation
/// areas, and the Joliet hierarchy. Nothing here depends on file contents having been written.
/// </summary>
internal sealed class IsoMetadataWriter(IsoImagePlan plan)
{
    private const int BlockSize = IsoImagePlan.BlockSize;

    /// <summary>Joliet §2.2: the escape sequence announcing UCS-2 level 3.</summary>
    private static readonly byte[] JolietLevel3Escape = "%/E"u8.ToArray();

    private IsoImageOptions Options => plan.Options;

    /// <summary>The descriptors of one set, in order: primary, boot record (set 0 with El Torito), Joliet, terminator.</summary>
    public byte[] BuildVolumeDescriptors(IsoDescriptorSet set)
    {
        var descriptors = new List<byte[]> { BuildVolumeDescriptor(set, plan.Metadata.Iso) };
        if (set.HasBootRecord)
        {
            descriptors.Add(BuildBootRecord(plan.CatalogBlock!.Value));
        }

        if (plan.Metadata.Joliet is { } joliet)
        {
            descriptors.Add(BuildVolumeDescriptor(set, joliet));
        }

        descriptors.Add(NewDescriptor(VolumeDescriptorFields.TerminatorType));
        return descriptors.SelectMany(d => d).ToArray();
    }

    public byte[] BuildBootCatalog() => ElToritoCatalog.Build(plan.CatalogEntries);

    /// <summary>
    /// Writes the metadata area of <paramref name="set"/> from the sink's position, which must be the area's start
    /// (<see cref="DirectoryMetadataRegion"/>): path tables, directories and continuation areas, Joliet's after them.
    /// </summary>
    public async Task WriteDirectoryMetadataAsync(ImageOutputStream sink, IsoDescriptorSet set, CancellationToken cancellationToken)
    {
        var area = sink.Position;
        var layout = plan.Metadata;
        await WriteTreeAsync(sink, area, set, layout.Iso, cancellationToken).ConfigureAwait(false);
        if (layout.ContinuationBlocks > 0)
        {
            await sink.PadToAsync(area + layout.ContinuationStart * BlockSize, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(SerializeContinuations(set), cancellationToken).ConfigureAwait(false);
        }

        if (layout.Joliet is { } joliet)
        {
            await WriteTreeAsync(sink, area, set, joliet, cancellationToken).ConfigureAwait(false);
        }

        await sink.PadToAsync(area + layout.Blocks * BlockSize, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An address as written into <paramref name="set"/>: relative to the set's partition.</summary>
    private static long Address(IsoDescriptorSet set, long block) => block - set.AddressOffset;

    private static long Address(IsoDescriptorSet set, long relativeBlock, bool inMetadata) =>
        Address(set, inMetadata ? set.MetadataBlock + relativeBlock : relativeBlock);

    private async Task WriteTreeAsync(ImageOutputStream sink, long area, IsoDescriptorSet set, IsoDirectoryTree tree, CancellationToken cancellationToken)
    {
        await sink.PadToAsync(area + tree.PathTableStart * BlockSize, cancellationToken).ConfigureAwait(false);
        foreach (var bigEndian in new[] { false, true })
        {
            await sink.WriteAsync(BuildPathTable(set, tree, bigEndian), cancellationToken).ConfigureAwait(false);
        }

        foreach (var dir in tree.Directories)
        {
            await sink.PadToAsync(area + dir.RelativeBlock * BlockSize, cancellationToken).ConfigureAwait(false);
            await sink.WriteAsync(SerializeDirectory(set, tree, dir), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>ECMA-119 §8.4 (primary) and §8.5 with Joliet's escape sequence (supplementary).</summary>
    private byte[] BuildVolumeDescriptor(IsoDescriptorSet set, IsoDirectoryTree tree)
    {
        var joliet = tree.Joliet;
        var d = NewDescriptor(joliet ? VolumeDescriptorFields.SupplementaryType : VolumeDescriptorFields.PrimaryType);
        var span = d.AsSpan();
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.SystemIdentifier, PrimaryVolumeDescriptorFields.SystemIdentifierLength), Options.SystemId, joliet);
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.VolumeIdentifier, PrimaryVolumeDescriptorFields.VolumeIdentifierLength), Options.VolumeId, joliet);
        BinaryFields.WriteBoth32(span[PrimaryVolumeDescriptorFields.VolumeSpaceSize..], Address(set, plan.TotalBlocks));
        if (joliet)
        {
            JolietLevel3Escape.CopyTo(span[PrimaryVolumeDescriptorFields.EscapeSequences..]);
        }

        BinaryFields.WriteBoth16(span[PrimaryVolumeDescriptorFields.VolumeSetSize..], 1);
        BinaryFields.WriteBoth16(span[PrimaryVolumeDescriptorFields.VolumeSequenceNumber..], 1);
        BinaryFields.WriteBoth16(span[PrimaryVolumeDescriptorFields.LogicalBlockSize..], BlockSize);
        BinaryFields.WriteBoth32(span[PrimaryVolumeDescriptorFields.PathTableSize..], tree.PathTableBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(span[PrimaryVolumeDescriptorFields.TypeLPathTable..], (uint)Address(set, tree.PathTableStart, inMetadata: true));
        BinaryPrimitives.WriteUInt32BigEndian(span[PrimaryVolumeDescriptorFields.TypeMPathTable..], (uint)Address(set, tree.PathTableStart + tree.PathTableBlocks, inMetadata: true));
        var root = tree.Root;
        WriteRecord(span.Slice(PrimaryVolumeDescriptorFields.RootDirectoryRecord, PrimaryVolumeDescriptorFields.RootDirectoryRecordLength),
            [DirectoryRecordFields.SelfIdentifier], Address(set, root.RelativeBlock, inMetadata: true), root.Bytes, root.Node.ModificationTime,
            DirectoryRecordFlags.Directory, null, null, 0);
        var longIdentifier = PrimaryVolumeDescriptorFields.LongIdentifierLength;
        var fileIdentifier = PrimaryVolumeDescriptorFields.FileIdentifierLength;
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.VolumeSetIdentifier, longIdentifier), "", joliet);
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.PublisherIdentifier, longIdentifier), Options.PublisherId, joliet);
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.DataPreparerIdentifier, longIdentifier), "", joliet);
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.ApplicationIdentifier, longIdentifier), Options.ApplicationId, joliet);
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.CopyrightFileIdentifier, fileIdentifier), "", joliet);
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.AbstractFileIdentifier, fileIdentifier), "", joliet);
        WriteText(span.Slice(PrimaryVolumeDescriptorFields.BibliographicFileIdentifier, fileIdentifier), "", joliet);
        var dateLength = PrimaryVolumeDescriptorFields.VolumeDateLength;
        IsoDates.WriteVolumeDate(span.Slice(PrimaryVolumeDescriptorFields.VolumeCreationDate, dateLength), Options.Timestamp);
        IsoDates.WriteVolumeDate(span.Slice(PrimaryVolumeDescriptorFields.VolumeModificationDate, dateLength), Options.Timestamp);
        IsoDates.WriteUnspecifiedVolumeDate(span.Slice(PrimaryVolumeDescriptorFields.VolumeExpirationDate, dateLength));
        IsoDates.WriteUnspecifiedVolumeDate(span.Slice(PrimaryVolumeDescriptorFields.VolumeEffectiveDate, dateLength));
        span[PrimaryVolumeDescriptorFields.FileStructureVersion] = 1;
        return d;
    }

    /// <summary>El Torito §2.0: the boot record volume descriptor, pointing at the catalog by its absolute block.</summary>
    private static byte[] BuildBootRecord(long catalogBlock)
    {
        var boot = NewDescriptor(VolumeDescriptorFields.BootRecordType);
        Encoding.ASCII.GetBytes(ElToritoCatalog.BootSystemId).CopyTo(boot, BootRecordFields.BootSystemIdentifier);
        BinaryPrimitives.WriteUInt32LittleEndian(boot.AsSpan(BootRecordFields.BootSystemUse), (uint)catalogBlock);
        return boot;
    }

    /// <summary>ECMA-119 §8.1: a descriptor block with its type, "CD001" and version 1.</summary>
    private static byte[] NewDescriptor(byte type)
    {
        var d = new byte[BlockSize];
        d[VolumeDescriptorFields.Type] = type;
        Encoding.ASCII.GetBytes(VolumeDescriptorFields.StandardIdentifierText).CopyTo(d, VolumeDescriptorFields.StandardIdentifier);
        d[VolumeDescriptorFields.Version] = VolumeDescriptorFields.CurrentVersion;
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

    /// <summary>ECMA-119 §9.4: one path table (type L little-endian or type M big-endian), padded to whole blocks.</summary>
    private static byte[] BuildPathTable(IsoDescriptorSet set, IsoDirectoryTree tree, bool bigEndian)
    {
        var table = new byte[tree.PathTableBlocks * BlockSize];
        var at = 0;
        foreach (var dir in tree.Directories)
        {
            var record = table.AsSpan(at);
            record[PathTableRecordFields.DirectoryIdentifierLength] = (byte)dir.Identifier.Length;
            var location = (uint)Address(set, dir.RelativeBlock, inMetadata: true);
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(record[PathTableRecordFields.ExtentLocation..], location);
                BinaryPrimitives.WriteUInt16BigEndian(record[PathTableRecordFields.ParentDirectoryNumber..], (ushort)dir.ParentNumber);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(record[PathTableRecordFields.ExtentLocation..], location);
                BinaryPrimitives.WriteUInt16LittleEndian(record[PathTableRecordFields.ParentDirectoryNumber..], (ushort)dir.ParentNumber);
            }

            dir.Identifier.CopyTo(record[PathTableRecordFields.DirectoryIdentifier..]);
            at += PathTableRecordFields.RecordLength(dir.Identifier.Length);
        }

        return table;
    }

    private byte[] SerializeDirectory(IsoDescriptorSet set, IsoDirectoryTree tree, IsoDirectoryExtent dir)
    {
        var bytes = new byte[dir.Bytes];
        var at = 0;
        var continuationBase = Address(set, plan.Metadata.ContinuationStart, inMetadata: true);
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
                var targetDir = (tree.Joliet ? target.JolietDirectory : target.IsoDirectory)!;
                extent = Address(set, targetDir.RelativeBlock, inMetadata: true);
                length = targetDir.Bytes;
                flags = DirectoryRecordFlags.Directory;
            }
            else if (target.HasData)
            {
                var (block, size) = plan.FileExtent(target);
                var sectionBlocks = Iso9660Writer.MaxExtentLength / BlockSize;
                extent = size == 0 ? 0 : Address(set, block + record.Part * sectionBlocks);
                length = Math.Min(Iso9660Writer.MaxExtentLength, size - record.Part * Iso9660Writer.MaxExtentLength);
                if (record.Part + 1 < record.Parts)
                {
                    flags |= DirectoryRecordFlags.MultiExtent;
                }
            }
            else
            {
                extent = 0;
                length = 0;
            }

            var inode = target.DataOwner ?? target;
            WriteRecord(bytes.AsSpan(at, record.Length), record.Identifier, extent, length, inode.ModificationTime, flags,
                record.InlineSystemUse, record.Continuation, continuationBase);
            at += record.Length;
        }

        return bytes;
    }

    private byte[] SerializeContinuations(IsoDescriptorSet set)
    {
        var layout = plan.Metadata;
        var bytes = new byte[layout.ContinuationBlocks * BlockSize];
        var continuationBase = Address(set, layout.ContinuationStart, inMetadata: true);
        foreach (var record in layout.Iso.Directories.SelectMany(d => d.Records))
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

    /// <summary>ECMA-119 §9.1: one directory record; unit size, interleave gap and extended attribute length stay 0.</summary>
    private static void WriteRecord(Span<byte> r, byte[] identifier, long extent, long length, long modificationTime, byte flags,
        List<byte[]>? systemUse, IsoContinuationArea? continuation, long continuationBase)
    {
        r[DirectoryRecordFields.Length] = (byte)r.Length;
        BinaryFields.WriteBoth32(r[DirectoryRecordFields.ExtentLocation..], extent);
        BinaryFields.WriteBoth32(r[DirectoryRecordFields.DataLength..], length);
        IsoDates.WriteRecordDate(r.Slice(DirectoryRecordFields.RecordingDate, DirectoryRecordFields.RecordingDateLength), modificationTime);
        r[DirectoryRecordFields.FileFlags] = flags;
        BinaryFields.WriteBoth16(r[DirectoryRecordFields.VolumeSequenceNumber..], 1);
        r[DirectoryRecordFields.FileIdentifierLength] = (byte)identifier.Length;
        identifier.CopyTo(r[DirectoryRecordFields.FileIdentifier..]);
        var at = DirectoryRecordFields.SystemUse(identifier.Length);
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
}
