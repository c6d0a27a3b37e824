using System.Buffers.Binary;
using System.Text;
using EdgeForge.DiskFormats.IO;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>A volume descriptor (ECMA-119 §8): type 0 boot record, 1 primary, 2 supplementary (Joliet when its escape is %/@, %/C or %/E), 255 terminator.</summary>
public sealed record IsoVolumeDescriptor(
    long Block, byte Type, string VolumeId, long VolumeSpaceBlocks, long RootBlock, long RootLength,
    long PathTableSize, long PathTableL, long PathTableM, bool IsJoliet, string? BootSystemId, long? CatalogBlock);

/// <summary>One name of an image as a reader sees it; Rock Ridge fields are null when the image carries none.</summary>
public sealed record IsoFileRecord(
    string Path, bool IsDirectory, long Size, IReadOnlyList<(long Block, long Length)> Extents, long ModificationTime,
    int? Mode, int? Links, int? Uid, int? Gid, long? Serial, string? SymlinkTarget, (int Major, int Minor)? Device);

/// <summary>Which directory tree to walk.</summary>
public enum IsoTreeKind { RockRidge, Joliet, Plain }

/// <summary>
/// Reads what <see cref="Iso9660Writer"/> writes — volume descriptors, the El Torito catalog, both directory trees with
/// Rock Ridge (SUSP entries, CE continuations) — for tests and <c>edgeforge iso inspect/verify</c>.
/// </summary>
public sealed class Iso9660Reader
{
    private const int BlockSize = Iso9660Writer.BlockSize;
    private readonly Stream _image;
    private readonly long _base;

    /// <param name="image">A seekable stream over the image.</param>
    /// <param name="baseOffset">Byte offset of the filesystem in the stream (a partition start for the second superblock).</param>
    public Iso9660Reader(Stream image, long baseOffset = 0)
    {
        _image = image;
        _base = baseOffset;
        Descriptors = ReadDescriptors();
        var primary = Descriptors.FirstOrDefault(d => d.Type == 1) ?? throw new InvalidDataException("no primary volume descriptor (ECMA-119 §8.4) at block 16 or later");
        Primary = primary;
        Joliet = Descriptors.FirstOrDefault(d => d.IsJoliet);
        CatalogBlock = Descriptors.FirstOrDefault(d => d.CatalogBlock is not null)?.CatalogBlock;
        HasRockRidge = DetectRockRidge();
    }

    public IReadOnlyList<IsoVolumeDescriptor> Descriptors { get; }
    public IsoVolumeDescriptor Primary { get; }
    public IsoVolumeDescriptor? Joliet { get; }
    public long? CatalogBlock { get; }
    public bool HasRockRidge { get; }

    /// <summary>The raw 2048-byte catalog block, or null without El Torito.</summary>
    public byte[]? ReadCatalog() => CatalogBlock is { } block ? ReadBlocks(block, 1) : null;

    public IReadOnlyList<ElToritoPlacedEntry> ReadBootEntries() => ReadCatalog() is { } catalog ? ElToritoCatalog.Parse(catalog) : [];

    public byte[] ReadBlocks(long block, int count)
    {
        var buffer = new byte[count * BlockSize];
        _image.Position = _base + block * BlockSize;
        _image.ReadExactly(buffer);
        return buffer;
    }

    /// <summary>Reads <paramref name="length"/> bytes of a file's data from its extents (for small files and boot images).</summary>
    public byte[] ReadFile(IsoFileRecord file)
    {
        var result = new byte[file.Size];
        var at = 0;
        foreach (var (block, length) in file.Extents)
        {
            _image.Position = _base + block * BlockSize;
            _image.ReadExactly(result.AsSpan(at, (int)length));
            at += (int)length;
        }

        return result;
    }

    /// <summary>Every name below the root, depth first in directory order; multi-extent files are merged into one record.</summary>
    public IEnumerable<IsoFileRecord> ListFiles(IsoTreeKind kind = IsoTreeKind.RockRidge)
    {
        var descriptor = kind == IsoTreeKind.Joliet ? Joliet ?? throw new InvalidDataException("the image has no Joliet tree") : Primary;
        var rockRidge = kind == IsoTreeKind.RockRidge && HasRockRidge;
        var pending = new Stack<(long Block, long Length, string Path)>();
        pending.Push((descriptor.RootBlock, descriptor.RootLength, ""));
        var visited = new HashSet<long>();
        while (pending.Count > 0)
        {
            var (block, length, path) = pending.Pop();
            if (!visited.Add(block))
            {
                throw new InvalidDataException($"directory loop at block {block}");
            }

            var children = new List<IsoFileRecord>();
            IsoFileRecord? partial = null;
            foreach (var record in ReadDirectory(block, length))
            {
                if (record.Identifier is [0] or [1])
                {
                    continue;
                }

                var rr = rockRidge ? ParseRockRidge(record.SystemUse) : null;
                var name = rr?.Name ?? (kind == IsoTreeKind.Joliet
                    ? Encoding.BigEndianUnicode.GetString(record.Identifier)
                    : Encoding.ASCII.GetString(record.Identifier));
                if (rr?.Name is null)
                {
                    var semicolon = name.IndexOf(';');
                    name = semicolon >= 0 ? name[..semicolon] : name;
                    if (kind == IsoTreeKind.Plain && name.EndsWith('.'))
                    {
                        name = name[..^1];
                    }
                }

                var childPath = path.Length == 0 ? name : path + "/" + name;
                var extents = new List<(long, long)> { (record.Extent, record.DataLength) };
                if (partial is not null)
                {
                    extents.InsertRange(0, partial.Extents);
                }

                var file = new IsoFileRecord(childPath, record.IsDirectory, extents.Sum(e => e.Item2), extents, record.ModificationTime,
                    rr?.Mode, rr?.Links, rr?.Uid, rr?.Gid, rr?.Serial, rr?.Symlink, rr?.Device);
                if (record.MultiExtent)
                {
                    partial = file;
                    continue;
                }

                partial = null;
                children.Add(file);
            }

            foreach (var child in children)
            {
                yield return child;
            }

            foreach (var child in Enumerable.Reverse(children).Where(c => c.IsDirectory))
            {
                pending.Push((child.Extents[0].Block, child.Extents[0].Length, child.Path));
            }
        }
    }

    private sealed record RawRecord(byte[] Identifier, long Extent, long DataLength, bool IsDirectory, bool MultiExtent, long ModificationTime, byte[] SystemUse);

    private IEnumerable<RawRecord> ReadDirectory(long block, long length)
    {
        var data = ReadBlocks(block, (int)BinaryFields.DivideRoundingUp(length, BlockSize));
        var at = 0;
        while (at < length)
        {
            var recordLength = data[at];
            if (recordLength == 0)
            {
                at = (int)BinaryFields.RoundUp(at + 1, BlockSize);
                continue;
            }

            if (recordLength < 34 || at + recordLength > data.Length || (at % BlockSize) + recordLength > BlockSize)
            {
                throw new InvalidDataException($"directory at block {block}: bad record length {recordLength} at offset {at} (ECMA-119 §9.1, §6.8.1.1)");
            }

            var r = data.AsSpan(at, recordLength);
            var idLength = r[32];
            var identifier = r.Slice(33, idLength).ToArray();
            var systemUseStart = 33 + idLength + (idLength % 2 == 0 ? 1 : 0);
            yield return new RawRecord(identifier, BinaryPrimitives.ReadUInt32LittleEndian(r[2..]), BinaryPrimitives.ReadUInt32LittleEndian(r[10..]),
                (r[25] & 0x02) != 0, (r[25] & 0x80) != 0, IsoDates.ReadRecordDate(r.Slice(18, 7)),
                systemUseStart < recordLength ? r[systemUseStart..].ToArray() : []);
            at += recordLength;
        }
    }

    private sealed class RockRidgeFields
    {
        public string? Name;
        public int? Mode, Links, Uid, Gid;
        public long? Serial;
        public string? Symlink;
        public (int, int)? Device;
    }

    private RockRidgeFields ParseRockRidge(byte[] systemUse)
    {
        var fields = new RockRidgeFields();
        var name = new StringBuilder();
        var nameBytes = new List<byte>();
        var link = new StringBuilder();
        var linkComponent = new List<byte>();
        var linkSeparatorPending = false;
        var hasName = false;
        var hasLink = false;
        var area = systemUse;
        for (var hops = 0; area is not null && hops < 64; hops++)
        {
            byte[]? next = null;
            foreach (var (signature, data) in RockRidge.Parse(area))
            {
                switch (signature)
                {
                    case "PX" when data.Length >= 32:
                        fields.Mode = (int)RockRidge.ReadBoth32(data);
                        fields.Links = (int)RockRidge.ReadBoth32(data.AsSpan(8));
                        fields.Uid = (int)RockRidge.ReadBoth32(data.AsSpan(16));
                        fields.Gid = (int)RockRidge.ReadBoth32(data.AsSpan(24));
                        fields.Serial = data.Length >= 40 ? RockRidge.ReadBoth32(data.AsSpan(32)) : null;
                        break;
                    case "NM" when data.Length >= 1:
                        hasName = true;
                        if ((data[0] & 0x06) == 0)
                        {
                            nameBytes.AddRange(data.Skip(1));
                        }

                        break;
                    case "SL" when data.Length >= 1:
                        hasLink = true;
                        var at = 1;
                        while (at + 2 <= data.Length)
                        {
                            var flags = data[at];
                            var length = data[at + 1];
                            if (linkSeparatorPending)
                            {
                                link.Append('/');
                                linkSeparatorPending = false;
                            }

                            switch (flags & ~RockRidge.ComponentContinue)
                            {
                                case RockRidge.ComponentRoot:
                                    link.Append('/');
                                    break;
                                case RockRidge.ComponentCurrent:
                                    link.Append('.');
                                    linkSeparatorPending = true;
                                    break;
                                case RockRidge.ComponentParent:
                                    link.Append("..");
                                    linkSeparatorPending = true;
                                    break;
                                default:
                                    linkComponent.AddRange(data.Skip(at + 2).Take(length));
                                    if ((flags & RockRidge.ComponentContinue) == 0)
                                    {
                                        link.Append(Encoding.UTF8.GetString(linkComponent.ToArray()));
                                        linkComponent.Clear();
                                        linkSeparatorPending = true;
                                    }

                                    break;
                            }

                            at += 2 + length;
                        }

                        break;
                    case "PN" when data.Length >= 16:
                        var dev = ((ulong)RockRidge.ReadBoth32(data) << 32) | RockRidge.ReadBoth32(data.AsSpan(8));
                        var major = (int)(((dev >> 32) & 0xFFFFF000) | ((dev >> 8) & 0xFFF));
                        var minor = (int)(((dev >> 12) & 0xFFFFFF00) | (dev & 0xFF));
                        fields.Device = (major, minor);
                        break;
                    case "CE" when data.Length >= 24:
                        var block = RockRidge.ReadBoth32(data);
                        var offset = (int)RockRidge.ReadBoth32(data.AsSpan(8));
                        var size = (int)RockRidge.ReadBoth32(data.AsSpan(16));
                        if (offset + size > BlockSize)
                        {
                            throw new InvalidDataException($"SUSP CE area at block {block} offset {offset} length {size} crosses a block");
                        }

                        next = ReadBlocks(block, 1).AsSpan(offset, size).ToArray();
                        break;
                }
            }

            area = next;
        }

        if (hasName)
        {
            name.Append(Encoding.UTF8.GetString(nameBytes.ToArray()));
            fields.Name = name.ToString();
        }

        if (hasLink)
        {
            fields.Symlink = link.ToString();
        }

        return fields;
    }

    private List<IsoVolumeDescriptor> ReadDescriptors()
    {
        var result = new List<IsoVolumeDescriptor>();
        for (long block = 16; block < 16 + 64; block++)
        {
            if (_base + (block + 1) * BlockSize > _image.Length)
            {
                throw new InvalidDataException("the image ends before its volume descriptor set terminator");
            }

            var d = ReadBlocks(block, 1);
            if (Encoding.ASCII.GetString(d, 1, 5) != "CD001")
            {
                throw new InvalidDataException($"block {block}: no CD001 standard identifier (ECMA-119 §8.1)");
            }

            var type = d[0];
            if (type == 255)
            {
                result.Add(new IsoVolumeDescriptor(block, type, "", 0, 0, 0, 0, 0, 0, false, null, null));
                return result;
            }

            if (type == 0)
            {
                var system = BinaryFields.ReadTrimmedAscii(d.AsSpan(7, 32));
                long? catalog = system == ElToritoCatalog.BootSystemId ? BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(ElToritoCatalog.BootRecordCatalogPointerOffset)) : null;
                result.Add(new IsoVolumeDescriptor(block, type, "", 0, 0, 0, 0, 0, 0, false, system, catalog));
                continue;
            }

            var joliet = type == 2 && d[88] == '%' && d[89] == '/' && d[90] is (byte)'@' or (byte)'C' or (byte)'E';
            var volumeId = joliet ? BinaryFields.ReadTrimmedUcs2(d.AsSpan(40, 32)) : BinaryFields.ReadTrimmedAscii(d.AsSpan(40, 32));
            result.Add(new IsoVolumeDescriptor(block, type, volumeId,
                BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(80)),
                BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(156 + 2)),
                BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(156 + 10)),
                BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(132)),
                BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(140)),
                BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(148)),
                joliet, null, null));
        }

        throw new InvalidDataException("no volume descriptor set terminator within 64 blocks");
    }

    /// <summary>SUSP §5.3: an SP entry at the start of the root's "." record announces SUSP (and with it Rock Ridge).</summary>
    private bool DetectRockRidge()
    {
        var first = ReadDirectory(Primary.RootBlock, Primary.RootLength).FirstOrDefault();
        return first is not null && first.SystemUse.Length >= 7 && first.SystemUse[0] == 'S' && first.SystemUse[1] == 'P'
            && first.SystemUse[4] == RockRidge.SpCheck1 && first.SystemUse[5] == RockRidge.SpCheck2;
    }
}
