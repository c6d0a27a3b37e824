using System.Buffers.Binary;
using EdgeForge.Compression;

namespace EdgeForge.SquashFs.Tests;

/// <summary>
/// Reads back the inode table of an image (format.adoc "Inode Table"): the structures unsquashfs and the kernel use
/// but do not print, such as directory indexes, inode types and link counts.
/// </summary>
internal static class InodeTableReader
{
    public sealed record Inode(ushort Type, uint Number, uint LinkCount, IReadOnlyList<(uint Index, uint Start, string Name)> DirectoryIndex);

    public static List<Inode> Read(byte[] image)
    {
        var compression = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(20));
        var blockSize = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(12));
        var inodeCount = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(4));
        var inodeTableStart = (int)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(64));
        var directoryTableStart = (int)BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(72));
        var table = Unpack(image, inodeTableStart, directoryTableStart, compression);

        var inodes = new List<Inode>();
        var at = 0;
        for (var i = 0; i < inodeCount; i++)
        {
            var type = BinaryPrimitives.ReadUInt16LittleEndian(table.AsSpan(at));
            var number = BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(at + 12));
            var bodyStart = at + 16;
            var body = table.AsSpan(bodyStart);
            uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(bodyStart + offset));
            ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(bodyStart + offset));
            var index = new List<(uint, uint, string)>();
            uint links;
            int length;
            switch (type)
            {
                case 1:
                    links = U32(4);
                    length = 16;
                    break;
                case 8:
                    links = U32(0);
                    length = 24;
                    var count = BinaryPrimitives.ReadUInt16LittleEndian(body[16..]);
                    for (var e = 0; e < count; e++)
                    {
                        var nameLength = (int)U32(length + 8) + 1;
                        index.Add((U32(length), U32(length + 4), System.Text.Encoding.UTF8.GetString(body.Slice(length + 12, nameLength))));
                        length += 12 + nameLength;
                    }

                    break;
                case 2:
                    links = 1;
                    length = 16 + 4 * BlockCount(U32(12), U32(4), blockSize);
                    break;
                case 9:
                    links = U32(24);
                    length = 40 + 4 * BlockCount(U64(8), U32(28), blockSize);
                    break;
                case 3 or 10:
                    links = U32(0);
                    length = 8 + (int)U32(4) + (type == 10 ? 4 : 0);
                    break;
                case 4 or 5 or 11 or 12:
                    links = U32(0);
                    length = type > 7 ? 12 : 8;
                    break;
                case 6 or 7 or 13 or 14:
                    links = U32(0);
                    length = type > 7 ? 8 : 4;
                    break;
                default:
                    throw new InvalidDataException($"inode type {type} at {at}");
            }

            inodes.Add(new Inode(type, number, links, index));
            at += 16 + length;
        }

        at.ShouldBe(table.Length, "the inode table holds exactly the superblock's inode count");
        return inodes;
    }

    private static int BlockCount(ulong size, uint fragment, uint blockSize) =>
        (int)(fragment == uint.MaxValue ? (size + blockSize - 1) / blockSize : size / blockSize);

    /// <summary>Decompresses the metadata blocks between two offsets into one buffer.</summary>
    private static byte[] Unpack(byte[] image, int start, int end, ushort compression)
    {
        using var table = new MemoryStream();
        var block = new byte[8192];
        for (var at = start; at < end;)
        {
            var header = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(at));
            var stored = header & 0x7FFF;
            var payload = image.AsMemory(at + 2, stored);
            var length = (header & 0x8000) != 0 ? stored
                : compression == 6 ? Zstd.Decompress(payload.Span, block)
                : ZLib.Decompress(payload.Span, block);
            if ((header & 0x8000) != 0)
            {
                payload.Span.CopyTo(block);
            }

            table.Write(block, 0, length);
            at += 2 + stored;
        }

        return table.ToArray();
    }
}
