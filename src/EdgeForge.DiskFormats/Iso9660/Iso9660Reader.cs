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
        var primary = Descriptors.FirstOrDefault(d => d.Type == VolumeDescriptorFields.PrimaryType) ?? throw new InvalidDataException("no primary volume descriptor (ECMA-119 §8.4) at block 16 or later");
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
                if (record.Identifier is [DirectoryRecordFields.SelfIdentifier] or [DirectoryRecordFields.ParentIdentifier])
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
            var recordLength = data[at + DirectoryRecordFields.Length];
            if (recordLength == 0)
            {
                at = (int)BinaryFields.RoundUp(at + 1, BlockSize);
                continue;
            }

            if (recordLength < DirectoryRecordFields.MinLength || at + recordLength > data.Length || (at % BlockSize) + recordLength > BlockSize)
            {
                throw new InvalidDataException($"directory at block {block}: bad record length {recordLength} at offset {at} (ECMA-119 §9.1, §6.8.1.1)");
            }

            var r = data.AsSpan(at, recordLength);
            var idLength = r[DirectoryRecordFields.FileIdentifierLength];
            var identifier = r.Slice(DirectoryRecordFields.FileIdentifier, idLength).ToArray();
            var systemUseStart = DirectoryRecordFields.SystemUse(idLength);
            var flags = r[DirectoryRecordFields.FileFlags];
            yield return new RawRecord(identifier, BinaryFields.ReadLsb32(r[DirectoryRecordFields.ExtentLocation..]), BinaryFields.ReadLsb32(r[DirectoryRecordFields.DataLength..]),
                (flags & DirectoryRecordFlags.Directory) != 0, (flags & DirectoryRecordFlags.MultiExtent) != 0,
                IsoDates.ReadRecordDate(r.Slice(DirectoryRecordFields.RecordingDate, DirectoryRecordFields.RecordingDateLength)),
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
            foreach (var (signature, entry) in RockRidge.Parse(area))
            {
                switch (signature)
                {
                    // RRIP 1.10's PX ends before the serial number.
                    case SuspSignatures.PosixAttributes when entry.Length >= PosixAttributesFields.SerialNumber:
                        fields.Mode = (int)RockRidge.ReadBoth32(entry.AsSpan(PosixAttributesFields.FileMode));
                        fields.Links = (int)RockRidge.ReadBoth32(entry.AsSpan(PosixAttributesFields.Links));
                        fields.Uid = (int)RockRidge.ReadBoth32(entry.AsSpan(PosixAttributesFields.Uid));
                        fields.Gid = (int)RockRidge.ReadBoth32(entry.AsSpan(PosixAttributesFields.Gid));
                        fields.Serial = entry.Length >= PosixAttributesFields.EntryLength ? RockRidge.ReadBoth32(entry.AsSpan(PosixAttributesFields.SerialNumber)) : null;
                        break;
                    case SuspSignatures.AlternateName when entry.Length >= AlternateNameFields.Name:
                        hasName = true;
                        if ((entry[AlternateNameFields.Flags] & (AlternateNameFields.Current | AlternateNameFields.Parent)) == 0)
                        {
                            nameBytes.AddRange(entry.Skip(AlternateNameFields.Name));
                        }

                        break;
                    case SuspSignatures.SymbolicLink when entry.Length >= SymbolicLinkFields.Components:
                        hasLink = true;
                        var at = SymbolicLinkFields.Components;
                        while (at + SymbolicLinkFields.ComponentContent <= entry.Length)
                        {
                            var flags = entry[at + SymbolicLinkFields.ComponentFlags];
                            var length = entry[at + SymbolicLinkFields.ComponentLength];
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
                                    linkComponent.AddRange(entry.Skip(at + SymbolicLinkFields.ComponentContent).Take(length));
                                    if ((flags & RockRidge.ComponentContinue) == 0)
                                    {
                                        link.Append(Encoding.UTF8.GetString(linkComponent.ToArray()));
                                        linkComponent.Clear();
                                        linkSeparatorPending = true;
                                    }

                                    break;
                            }

                            at += SymbolicLinkFields.ComponentContent + length;
                        }

                        break;
                    case SuspSignatures.DeviceNumber when entry.Length >= DeviceNumberFields.EntryLength:
                        var dev = ((ulong)RockRidge.ReadBoth32(entry.AsSpan(DeviceNumberFields.High)) << 32) | RockRidge.ReadBoth32(entry.AsSpan(DeviceNumberFields.Low));
                        var major = (int)(((dev >> 32) & 0xFFFFF000) | ((dev >> 8) & 0xFFF));
                        var minor = (int)(((dev >> 12) & 0xFFFFFF00) | (dev & 0xFF));
                        fields.Device = (major, minor);
                        break;
                    case SuspSignatures.ContinuationArea when entry.Length >= ContinuationAreaFields.EntryLength:
                        var block = RockRidge.ReadBoth32(entry.AsSpan(ContinuationAreaFields.Block));
                        var offset = (int)RockRidge.ReadBoth32(entry.AsSpan(ContinuationAreaFields.Offset));
                        var size = (int)RockRidge.ReadBoth32(entry.AsSpan(ContinuationAreaFields.AreaLength));
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
        const int maxDescriptors = 64;
        for (long block = VolumeDescriptorFields.FirstDescriptorBlock; block < VolumeDescriptorFields.FirstDescriptorBlock + maxDescriptors; block++)
        {
            if (_base + (block + 1) * BlockSize > _image.Length)
            {
                throw new InvalidDataException("the image ends before its volume descriptor set terminator");
            }

            var d = ReadBlocks(block, 1);
            var standardIdentifier = VolumeDescriptorFields.StandardIdentifierText;
            if (Encoding.ASCII.GetString(d, VolumeDescriptorFields.StandardIdentifier, standardIdentifier.Length) != standardIdentifier)
            {
                throw new InvalidDataException($"block {block}: no CD001 standard identifier (ECMA-119 §8.1)");
            }

            var type = d[VolumeDescriptorFields.Type];
            if (type == VolumeDescriptorFields.TerminatorType)
            {
                result.Add(new IsoVolumeDescriptor(block, type, "", 0, 0, 0, 0, 0, 0, false, null, null));
                return result;
            }

            if (type == VolumeDescriptorFields.BootRecordType)
            {
                var system = BinaryFields.ReadTrimmedAscii(d.AsSpan(BootRecordFields.BootSystemIdentifier, BootRecordFields.BootSystemIdentifierLength));
                long? catalog = system == ElToritoCatalog.BootSystemId ? BinaryFields.ReadLsb32(d.AsSpan(BootRecordFields.BootSystemUse)) : null;
                result.Add(new IsoVolumeDescriptor(block, type, "", 0, 0, 0, 0, 0, 0, false, system, catalog));
                continue;
            }

            const int escape = PrimaryVolumeDescriptorFields.EscapeSequences;
            var joliet = type == VolumeDescriptorFields.SupplementaryType && d[escape] == '%' && d[escape + 1] == '/' && d[escape + 2] is (byte)'@' or (byte)'C' or (byte)'E';
            var volumeIdField = d.AsSpan(PrimaryVolumeDescriptorFields.VolumeIdentifier, PrimaryVolumeDescriptorFields.VolumeIdentifierLength);
            var volumeId = joliet ? BinaryFields.ReadTrimmedUcs2(volumeIdField) : BinaryFields.ReadTrimmedAscii(volumeIdField);
            var root = d.AsSpan(PrimaryVolumeDescriptorFields.RootDirectoryRecord, PrimaryVolumeDescriptorFields.RootDirectoryRecordLength);
            result.Add(new IsoVolumeDescriptor(block, type, volumeId,
                BinaryFields.ReadLsb32(d.AsSpan(PrimaryVolumeDescriptorFields.VolumeSpaceSize)),
                BinaryFields.ReadLsb32(root[DirectoryRecordFields.ExtentLocation..]),
                BinaryFields.ReadLsb32(root[DirectoryRecordFields.DataLength..]),
                BinaryFields.ReadLsb32(d.AsSpan(PrimaryVolumeDescriptorFields.PathTableSize)),
                BinaryFields.ReadLsb32(d.AsSpan(PrimaryVolumeDescriptorFields.TypeLPathTable)),
                BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(PrimaryVolumeDescriptorFields.TypeMPathTable)),
                joliet, null, null));
        }

        throw new InvalidDataException($"no volume descriptor set terminator within {maxDescriptors} blocks");
    }

    /// <summary>SUSP §5.3: an SP entry at the start of the root's "." record announces SUSP (and with it Rock Ridge).</summary>
    private bool DetectRockRidge()
    {
        var first = ReadDirectory(Primary.RootBlock, Primary.RootLength).FirstOrDefault();
        if (first is null || first.SystemUse.Length < SharingProtocolIndicatorFields.EntryLength)
        {
            return false;
        }

        var sp = first.SystemUse;
        return Encoding.ASCII.GetString(sp, SuspEntryFields.Signature, 2) == SuspSignatures.SharingProtocolIndicator
            && sp[SharingProtocolIndicatorFields.CheckBytes] == SharingProtocolIndicatorFields.Check1
            && sp[SharingProtocolIndicatorFields.CheckBytes + 1] == SharingProtocolIndicatorFields.Check2;
    }
}
