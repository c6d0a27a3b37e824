using System.Buffers.Binary;

namespace EdgeForge.SquashFs;

/// <summary>
/// Writes a stream of records as SquashFS metadata blocks: 8 KiB of records, compressed, behind a 2-byte header
/// holding the stored size with bit 15 set when the block is stored raw (format.adoc "Packing Metadata"). Records
/// may straddle blocks; blocks follow each other without gaps.
/// </summary>
internal sealed class MetadataWriter(Stream sink, BlockCompressor compressor)
{
    private readonly byte[] _pending = new byte[SquashFsFormat.MetadataBlockSize];
    private readonly byte[] _compressed = new byte[SquashFsFormat.MetadataBlockSize];
    private int _pendingLength;

    /// <summary>Bytes written to the sink so far: the start, relative to the table, of the block being filled.</summary>
    public long BlockStart { get; private set; }

    /// <summary>
    /// Where the next record will be: block start (relative to the table) in the upper 48 bits, offset into the
    /// uncompressed block in the lower 16 — the form of every inode and xattr reference. Blocks are flushed as soon
    /// as they fill, so the offset is always below 8192.
    /// </summary>
    public ulong Reference => ((ulong)BlockStart << 16) | (uint)_pendingLength;

    public int Offset => _pendingLength;

    public void Write(ReadOnlySpan<byte> record)
    {
        while (!record.IsEmpty)
        {
            var take = Math.Min(record.Length, _pending.Length - _pendingLength);
            record[..take].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += take;
            record = record[take..];
            if (_pendingLength == _pending.Length)
            {
                FlushBlock();
            }
        }
    }

    /// <summary>Writes the last, partial block.</summary>
    public void Finish()
    {
        if (_pendingLength > 0)
        {
            FlushBlock();
        }
    }

    private void FlushBlock()
    {
        Span<byte> header = stackalloc byte[2];
        var source = _pending.AsSpan(0, _pendingLength);
        var compressedLength = compressor.Compress(source, _compressed);
        if (compressedLength < 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(_pendingLength | SquashFsFormat.MetadataUncompressedBit));
            sink.Write(header);
            sink.Write(source);
            BlockStart += 2 + _pendingLength;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)compressedLength);
            sink.Write(header);
            sink.Write(_compressed.AsSpan(0, compressedLength));
            BlockStart += 2 + compressedLength;
        }

        _pendingLength = 0;
    }

    /// <summary>
    /// Writes a lookup table (fragment, export, id, xattr id): the entries as metadata blocks, then — after
    /// <paramref name="prefix"/>, which only the xattr id table has — the uncompressed list of each block's absolute
    /// position (format.adoc "Storing Lookup Tables"). Returns the list's position, which the superblock records.
    /// </summary>
    public static long WriteLookupTable(Stream output, BlockCompressor compressor, ReadOnlySpan<byte> entries, ReadOnlySpan<byte> prefix = default)
    {
        var tableStart = output.Position;
        var blockPositions = new List<long>();
        var writer = new MetadataWriter(output, compressor);
        for (var offset = 0; offset < entries.Length; offset += SquashFsFormat.MetadataBlockSize)
        {
            blockPositions.Add(tableStart + writer.BlockStart);
            writer.Write(entries.Slice(offset, Math.Min(SquashFsFormat.MetadataBlockSize, entries.Length - offset)));
        }

        writer.Finish();
        var listStart = output.Position;
        output.Write(prefix);
        Span<byte> position = stackalloc byte[8];
        foreach (var blockPosition in blockPositions)
        {
            BinaryPrimitives.WriteInt64LittleEndian(position, blockPosition);
            output.Write(position);
        }

        return listStart;
    }
}
