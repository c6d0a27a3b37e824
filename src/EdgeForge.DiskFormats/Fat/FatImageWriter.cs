using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EdgeForge.DiskFormats.IO;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Fat;

public enum FatType { Fat12, Fat16, Fat32 }

public sealed record FatImageOptions
{
    /// <summary>Volume label (at most 11 characters, upper-cased), e.g. <c>EFI_LIVE</c>.</summary>
    public string Label { get; init; } = "NO NAME";

    /// <summary>Image size in bytes; null sizes the image to fit its contents with a small margin.</summary>
    public long? Size { get; init; }

    /// <summary>Timestamp of added files and directories without their own (seconds since the Unix epoch).</summary>
    public long Timestamp { get; init; } = SourceDateEpoch.FromEnvironment();

    /// <summary>Volume serial number; null derives it from the label, timestamp and file list, so builds repeat exactly.</summary>
    public uint? VolumeId { get; init; }
}

/// <summary>The geometry a FAT image was written with.</summary>
public sealed record FatGeometry(FatType Type, long TotalSectors, int SectorsPerCluster, int ReservedSectors, int FatSectors, int RootEntries, long Clusters)
{
    public const int SectorSize = 512;
    public int ClusterBytes => SectorsPerCluster * SectorSize;
    public int RootDirectorySectors => RootEntries * FatDirectoryEntryFields.Length / SectorSize;
    public long FirstDataSector => ReservedSectors + 2L * FatSectors + RootDirectorySectors;
}

public sealed record FatImageResult(long Length, FatGeometry Geometry, uint VolumeId);

/// <summary>
/// Writes a FAT12/16/32 image (Microsoft fatgen103) front to back: geometry and every cluster are planned from the
/// file list first, then boot sector, FATs, directories and file contents are written in one pass. Directories with
/// VFAT long names; files are contiguous. The FAT type follows from the cluster count as the specification says.
/// </summary>
public sealed class FatImageWriter
{
    private const int SectorSize = FatGeometry.SectorSize;
    private const byte DirectoryAttribute = 0x10, ArchiveAttribute = 0x20, VolumeLabelAttribute = 0x08;
    private const byte MediaFixedDisk = 0xF8;
    private const byte FatCount = 2;
    private const ushort FsInfoSector = 1, BackupBootSector = 6;

    /// <summary>fatgen103 §4: FAT entries 0 and 1 are reserved; cluster 2 is the first of the data region (and FAT32's root).</summary>
    private const uint FirstDataCluster = 2;

    /// <summary>fatgen103 §3.5: below 4085 clusters a volume is FAT12, below 65525 FAT16, otherwise FAT32.</summary>
    public const int MaxFat12Clusters = 4084, MaxFat16Clusters = 65524;

    private readonly FatImageOptions _options;
    private readonly List<IFileTreeSource> _sources = [];
    private readonly List<(string Path, byte[]? Contents, string? LocalPath, long Size)> _added = [];
    private readonly List<string> _directories = [];

    public FatImageWriter(FatImageOptions options)
    {
        _options = options;
    }

    public void AddFileTree(IFileTreeSource source) => _sources.Add(source);

    public void AddFile(string path, byte[] contents) => _added.Add((Normalise(path), contents, null, contents.Length));

    public void AddFile(string path, string localPath) => _added.Add((Normalise(path), null, Path.GetFullPath(localPath), new FileInfo(localPath).Length));

    public void AddDirectory(string path) => _directories.Add(Normalise(path));

    private sealed class Node
    {
        public required string Name;
        public Node? Parent;
        public bool IsDirectory;
        public long Size;
        public long ModificationTime;
        public List<Node> Children = [];
        public byte[] ShortName = [];
        public List<byte[]> LongEntries = [];
        public long FirstCluster;
        public long Clusters;
        public (byte[]? Contents, string? LocalPath)? Added;
        public FileTreeEntry? Entry;

        public string Path => Parent is null ? "" : Parent.Parent is null ? Name : Parent.Path + "/" + Name;
    }

    public async Task<FatImageResult> WriteAsync(Stream output, CancellationToken cancellationToken = default)
    {
        var root = new Node { Name = "", IsDirectory = true, ModificationTime = _options.Timestamp };
        var delivery = BuildTree(root);
        var directories = new List<Node>();
        var queue = new Queue<Node>([root]);
        while (queue.Count > 0)
        {
            var dir = queue.Dequeue();
            directories.Add(dir);
            dir.Children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var taken = new HashSet<string>(StringComparer.Ordinal);
            var nextTail = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var child in dir.Children)
            {
                var (shortName, needsLong) = FatShortNames.Generate(child.Name, taken, nextTail);
                child.ShortName = shortName;
                child.LongEntries = needsLong ? FatShortNames.LongNameEntries(child.Name, FatShortNames.Checksum(shortName)) : [];
                if (child.IsDirectory)
                {
                    queue.Enqueue(child);
                }
            }
        }

        var files = root.Children.Count == 0 ? [] : Flatten(root).Where(n => !n.IsDirectory).ToList();
        var addedFiles = files.Where(f => f.Added is not null).ToList();
        var orderedFiles = addedFiles.Concat(delivery.SelectMany(d => d)).ToList();
        var label = (_options.Label.Length == 0 ? "NO NAME" : _options.Label).ToUpperInvariant();
        if (label.Length > 11 || label.Any(c => c < 0x20 || c > 0x7E || "\"*+,./:;<=>?[\\]|".Contains(c)))
        {
            throw new ArgumentException($"FAT volume label '{_options.Label}' must be at most 11 printable characters without \"*+,./:;<=>?[\\]|");
        }

        var geometry = _options.Size is { } size ? ComputeGeometry(size / SectorSize) : AutoSize(directories, orderedFiles);
        var needed = ClustersNeeded(geometry, directories, orderedFiles);
        if (needed > geometry.Clusters)
        {
            throw new ArgumentException($"{needed} clusters of {geometry.ClusterBytes} bytes are needed but a {geometry.TotalSectors * SectorSize}-byte {geometry.Type} image has {geometry.Clusters}");
        }

        // Clusters: directories first (breadth first; FAT32's root is one of them), then files in the order their
        // contents are written — added files, then each source's files in the order of its entries.
        var nextCluster = 2L;
        foreach (var dir in directories)
        {
            if (dir.Parent is null && geometry.Type != FatType.Fat32)
            {
                continue;
            }

            dir.Clusters = DirectoryClusters(geometry, dir);
            dir.FirstCluster = nextCluster;
            nextCluster += dir.Clusters;
        }

        foreach (var file in orderedFiles)
        {
            file.Clusters = BinaryFields.DivideRoundingUp(file.Size, geometry.ClusterBytes);
            file.FirstCluster = file.Clusters == 0 ? 0 : nextCluster;
            nextCluster += file.Clusters;
        }

        var volumeId = _options.VolumeId ?? DeriveVolumeId(label, orderedFiles);
        using var sink = new ImageOutputStream(output, computeSha256: false);
        await sink.WriteAsync(BuildReservedArea(geometry, label, volumeId, nextCluster), cancellationToken).ConfigureAwait(false);
        var fat = BuildFat(geometry, directories.Concat(orderedFiles));
        for (var copy = 0; copy < FatCount; copy++)
        {
            await sink.WriteAsync(fat, cancellationToken).ConfigureAwait(false);
        }

        if (geometry.Type != FatType.Fat32)
        {
            var rootBytes = new byte[geometry.RootDirectorySectors * SectorSize];
            var entries = DirectoryEntries(geometry, root, label);
            if (entries.Length > rootBytes.Length)
            {
                throw new ArgumentException($"the root directory needs {entries.Length / FatDirectoryEntryFields.Length} entries; {geometry.Type} has room for {geometry.RootEntries}");
            }

            entries.CopyTo(rootBytes, 0);
            await sink.WriteAsync(rootBytes, cancellationToken).ConfigureAwait(false);
        }

        long ClusterOffset(long cluster) => (geometry.FirstDataSector + (cluster - 2) * geometry.SectorsPerCluster) * SectorSize;

        foreach (var dir in directories.Where(d => d.FirstCluster != 0))
        {
            await sink.PadToAsync(ClusterOffset(dir.FirstCluster), cancellationToken).ConfigureAwait(false);
            var bytes = new byte[dir.Clusters * geometry.ClusterBytes];
            DirectoryEntries(geometry, dir, label).CopyTo(bytes, 0);
            await sink.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        foreach (var file in addedFiles.Where(f => f.Size > 0))
        {
            await sink.PadToAsync(ClusterOffset(file.FirstCluster), cancellationToken).ConfigureAwait(false);
            if (file.Added!.Value.Contents is { } contents)
            {
                await sink.WriteAsync(contents, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await using var stream = File.OpenRead(file.Added.Value.LocalPath!);
                await sink.CopyExactlyAsync(stream, file.Size, file.Added.Value.LocalPath!, cancellationToken).ConfigureAwait(false);
            }
        }

        for (var s = 0; s < _sources.Count; s++)
        {
            var expected = delivery[s];
            var next = 0;
            await _sources[s].ReadContentsAsync(async (entry, stream, ct) =>
            {
                if (next >= expected.Count || !ReferenceEquals(expected[next].Entry, entry))
                {
                    throw new IOException($"{entry.Path}: delivered out of the order of the source's entries");
                }

                var node = expected[next++];
                if (node.Size > 0)
                {
                    await sink.PadToAsync(ClusterOffset(node.FirstCluster), ct).ConfigureAwait(false);
                    await sink.CopyExactlyAsync(stream, node.Size, entry.Path, ct).ConfigureAwait(false);
                }
            }, cancellationToken).ConfigureAwait(false);
            if (next != expected.Count)
            {
                throw new IOException($"{expected[next].Path}: the source never delivered its contents");
            }
        }

        await sink.PadToAsync(geometry.TotalSectors * SectorSize, cancellationToken).ConfigureAwait(false);
        await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new FatImageResult(sink.Position, geometry, volumeId);
    }

    /// <summary>
    /// The geometry for a volume of <paramref name="totalSectors"/>: sectors per cluster from fatgen103's tables
    /// (DskTableFAT16 / DskTableFAT32, and FAT12 up to 4.1 MB), the FAT size iterated until it covers every cluster, and
    /// the type from the resulting cluster count (§3.5).
    /// </summary>
    public static FatGeometry ComputeGeometry(long totalSectors)
    {
        if (totalSectors < 128)
        {
            throw new ArgumentException($"a FAT image of {totalSectors * SectorSize} bytes is too small");
        }

        var (type, sectorsPerCluster) = totalSectors switch
        {
            <= 8400 => (FatType.Fat12, totalSectors <= 4084 ? 1 : totalSectors <= 8168 ? 2 : 4),
            <= 32680 => (FatType.Fat16, 2),
            <= 262144 => (FatType.Fat16, 4),
            < 1048576 => (FatType.Fat16, 8),
            <= 16777216 => (FatType.Fat32, 8),
            <= 33554432 => (FatType.Fat32, 16),
            <= 67108864 => (FatType.Fat32, 32),
            _ => (FatType.Fat32, 64),
        };
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var reserved = type == FatType.Fat32 ? 32 : 1;
            var rootEntries = type == FatType.Fat32 ? 0 : 512;
            var rootSectors = rootEntries * FatDirectoryEntryFields.Length / SectorSize;
            var fatSectors = 1;
            long clusters;
            while (true)
            {
                var dataSectors = totalSectors - reserved - 2L * fatSectors - rootSectors;
                clusters = dataSectors / sectorsPerCluster;
                var bits = type switch { FatType.Fat12 => 12, FatType.Fat16 => 16, _ => 32 };
                var needed = (int)BinaryFields.DivideRoundingUp((clusters + 2) * bits, 8 * SectorSize);
                if (needed <= fatSectors)
                {
                    break;
                }

                fatSectors = needed;
            }

            var actual = clusters <= MaxFat12Clusters ? FatType.Fat12 : clusters <= MaxFat16Clusters ? FatType.Fat16 : FatType.Fat32;
            if (actual == type)
            {
                return new FatGeometry(type, totalSectors, sectorsPerCluster, reserved, fatSectors, rootEntries, clusters);
            }

            // The table's cluster size gave a count outside its type's range: take the type the count says (§3.5).
            type = actual;
            if (type == FatType.Fat32 && clusters <= MaxFat16Clusters)
            {
                break;
            }
        }

        throw new ArgumentException($"no consistent FAT geometry for {totalSectors} sectors");
    }

    private FatGeometry AutoSize(List<Node> directories, List<Node> files)
    {
        var contentBytes = files.Sum(f => f.Size) + directories.Sum(d => (d.Children.Sum(c => c.LongEntries.Count + 1) + 2) * (long)FatDirectoryEntryFields.Length);
        var sectors = Math.Max(2048, BinaryFields.RoundUp((long)(contentBytes * 1.05) + (256 << 10), 1 << 16) / SectorSize);
        for (var i = 0; i < 200; i++)
        {
            var geometry = ComputeGeometry(sectors);
            var needed = ClustersNeeded(geometry, directories, files);
            var margin = Math.Max(8, needed / 50);
            var rootFits = geometry.Type == FatType.Fat32 || DirectoryEntryCount(directories[0], isRoot: true) <= geometry.RootEntries;
            if (needed + margin <= geometry.Clusters && rootFits)
            {
                return geometry;
            }

            sectors = BinaryFields.RoundUp((long)(sectors * 1.1), 128);
        }

        throw new InvalidOperationException("could not size the FAT image");
    }

    private static long ClustersNeeded(FatGeometry geometry, List<Node> directories, List<Node> files) =>
        directories.Where(d => d.Parent is not null || geometry.Type == FatType.Fat32).Sum(d => DirectoryClusters(geometry, d))
        + files.Sum(f => BinaryFields.DivideRoundingUp(f.Size, geometry.ClusterBytes));

    private static int DirectoryEntryCount(Node dir, bool isRoot) =>
        (isRoot ? 1 : 2) + dir.Children.Sum(c => c.LongEntries.Count + 1);

    private static long DirectoryClusters(FatGeometry geometry, Node dir) =>
        Math.Max(1, BinaryFields.DivideRoundingUp(DirectoryEntryCount(dir, dir.Parent is null) * (long)FatDirectoryEntryFields.Length, geometry.ClusterBytes));

    private byte[] DirectoryEntries(FatGeometry geometry, Node dir, string label)
    {
        var entries = new List<byte[]>();
        if (dir.Parent is null)
        {
            // fatgen103 §6: the volume label is a root directory entry with ATTR_VOLUME_ID, besides the BPB copy.
            entries.Add(ShortEntry(Encoding.ASCII.GetBytes(label.PadRight(11)), VolumeLabelAttribute, 0, 0, _options.Timestamp));
        }
        else
        {
            entries.Add(ShortEntry(Encoding.ASCII.GetBytes(".          "), DirectoryAttribute, dir.FirstCluster, 0, dir.ModificationTime));
            var parentCluster = dir.Parent.Parent is null ? 0 : dir.Parent.FirstCluster;
            entries.Add(ShortEntry(Encoding.ASCII.GetBytes("..         "), DirectoryAttribute, parentCluster, 0, dir.Parent.ModificationTime));
        }

        foreach (var child in dir.Children)
        {
            entries.AddRange(child.LongEntries);
            entries.Add(ShortEntry(child.ShortName, child.IsDirectory ? DirectoryAttribute : ArchiveAttribute, child.FirstCluster,
                child.IsDirectory ? 0 : child.Size, child.ModificationTime));
        }

        return entries.SelectMany(e => e).ToArray();
    }

    /// <summary>fatgen103 §6: a 32-byte short directory entry; creation, access and write times are all the modification time.</summary>
    private static byte[] ShortEntry(byte[] name, byte attributes, long firstCluster, long size, long modificationTime)
    {
        var e = new byte[FatDirectoryEntryFields.Length];
        name.AsSpan(0, FatDirectoryEntryFields.NameLength).CopyTo(e.AsSpan(FatDirectoryEntryFields.Name));
        e[FatDirectoryEntryFields.Attributes] = attributes;
        var (date, time) = DosDateTime(modificationTime);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(FatDirectoryEntryFields.CreationTime), time);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(FatDirectoryEntryFields.CreationDate), date);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(FatDirectoryEntryFields.LastAccessDate), date);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(FatDirectoryEntryFields.FirstClusterHigh), (ushort)(firstCluster >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(FatDirectoryEntryFields.WriteTime), time);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(FatDirectoryEntryFields.WriteDate), date);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(FatDirectoryEntryFields.FirstClusterLow), (ushort)firstCluster);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(FatDirectoryEntryFields.FileSize), checked((uint)size));
        return e;
    }

    /// <summary>fatgen103 §6.4: DOS dates count from 1980 and reach 2107; earlier and later times are clamped.</summary>
    private static (ushort Date, ushort Time) DosDateTime(long seconds)
    {
        var t = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 315532800L, 4354819198L)).UtcDateTime;
        var date = (ushort)(((t.Year - 1980) << 9) | (t.Month << 5) | t.Day);
        var time = (ushort)((t.Hour << 11) | (t.Minute << 5) | (t.Second / 2));
        return (date, time);
    }

    private byte[] BuildReservedArea(FatGeometry g, string label, uint volumeId, long nextFreeCluster)
    {
        var area = new byte[g.ReservedSectors * SectorSize];
        var boot = area.AsSpan(0, SectorSize);
        var fat32 = g.Type == FatType.Fat32;
        var ext = fat32 ? Fat32BootSectorFields.ExtendedBootSector : FatBootSectorFields.Fat16ExtendedBootSector;

        // fatgen103 §3.1/§3.2/§3.3: jump, OEM name, BPB, extended BPB. The jump's displacement counts from the
        // instruction after it (offset 2) to the boot code.
        boot[FatBootSectorFields.JumpBoot] = 0xEB;
        boot[FatBootSectorFields.JumpBoot + 1] = (byte)(ext + FatExtendedBootSectorFields.BootCode - 2);
        boot[FatBootSectorFields.JumpBoot + 2] = 0x90;
        Encoding.ASCII.GetBytes("MSWIN4.1").CopyTo(boot[FatBootSectorFields.OemName..]);
        BinaryPrimitives.WriteUInt16LittleEndian(boot[FatBootSectorFields.BytesPerSector..], SectorSize);
        boot[FatBootSectorFields.SectorsPerCluster] = (byte)g.SectorsPerCluster;
        BinaryPrimitives.WriteUInt16LittleEndian(boot[FatBootSectorFields.ReservedSectorCount..], (ushort)g.ReservedSectors);
        boot[FatBootSectorFields.NumberOfFats] = FatCount;
        BinaryPrimitives.WriteUInt16LittleEndian(boot[FatBootSectorFields.RootEntryCount..], (ushort)g.RootEntries);
        if (!fat32 && g.TotalSectors < 0x10000)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(boot[FatBootSectorFields.TotalSectors16..], (ushort)g.TotalSectors);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(boot[FatBootSectorFields.TotalSectors32..], (uint)g.TotalSectors);
        }

        boot[FatBootSectorFields.Media] = MediaFixedDisk;
        BinaryPrimitives.WriteUInt16LittleEndian(boot[FatBootSectorFields.SectorsPerTrack..], 32);
        BinaryPrimitives.WriteUInt16LittleEndian(boot[FatBootSectorFields.NumberOfHeads..], 64);
        if (fat32)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(boot[Fat32BootSectorFields.FatSize32..], (uint)g.FatSectors);
            BinaryPrimitives.WriteUInt32LittleEndian(boot[Fat32BootSectorFields.RootCluster..], FirstDataCluster);
            BinaryPrimitives.WriteUInt16LittleEndian(boot[Fat32BootSectorFields.FsInfoSector..], FsInfoSector);
            BinaryPrimitives.WriteUInt16LittleEndian(boot[Fat32BootSectorFields.BackupBootSector..], BackupBootSector);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(boot[FatBootSectorFields.FatSize16..], (ushort)g.FatSectors);
        }

        var extended = boot[ext..];
        extended[FatExtendedBootSectorFields.DriveNumber] = 0x80;
        extended[FatExtendedBootSectorFields.BootSignature] = FatExtendedBootSectorFields.ExtendedBootSignature;
        BinaryPrimitives.WriteUInt32LittleEndian(extended[FatExtendedBootSectorFields.VolumeId..], volumeId);
        Encoding.ASCII.GetBytes(label.PadRight(11)).CopyTo(extended[FatExtendedBootSectorFields.VolumeLabel..]);
        Encoding.ASCII.GetBytes(g.Type switch { FatType.Fat12 => "FAT12   ", FatType.Fat16 => "FAT16   ", _ => "FAT32   " })
            .CopyTo(extended[FatExtendedBootSectorFields.FileSystemType..]);
        // Not a boot disk: the boot code asks the BIOS for the next device (INT 18h) and halts.
        byte[] code = [0xCD, 0x18, 0xF4, 0xEB, 0xFD];
        code.CopyTo(extended[FatExtendedBootSectorFields.BootCode..]);
        boot[FatBootSectorFields.Signature] = 0x55;
        boot[FatBootSectorFields.Signature + 1] = 0xAA;
        if (fat32)
        {
            // fatgen103 §5: FSInfo at sector 1, backup boot sector at 6 and its FSInfo at 7.
            var info = area.AsSpan(FsInfoSector * SectorSize, SectorSize);
            BinaryPrimitives.WriteUInt32LittleEndian(info[FsInfoFields.LeadSignature..], FsInfoFields.LeadSignatureValue);
            BinaryPrimitives.WriteUInt32LittleEndian(info[FsInfoFields.StructureSignature..], FsInfoFields.StructureSignatureValue);
            BinaryPrimitives.WriteUInt32LittleEndian(info[FsInfoFields.FreeCount..], (uint)(g.Clusters - (nextFreeCluster - 2)));
            BinaryPrimitives.WriteUInt32LittleEndian(info[FsInfoFields.NextFree..], (uint)nextFreeCluster);
            BinaryPrimitives.WriteUInt32LittleEndian(info[FsInfoFields.TrailSignature..], FsInfoFields.TrailSignatureValue);
            area.AsSpan(0, (FsInfoSector + 1) * SectorSize).CopyTo(area.AsSpan(BackupBootSector * SectorSize));
        }

        return area;
    }

    private static byte[] BuildFat(FatGeometry g, IEnumerable<Node> allocations)
    {
        var fat = new byte[g.FatSectors * SectorSize];
        var (endOfChain, first) = g.Type switch
        {
            FatType.Fat12 => (0xFFFu, 0xF00u | MediaFixedDisk),
            FatType.Fat16 => (0xFFFFu, 0xFF00u | MediaFixedDisk),
            _ => (0x0FFFFFFFu, 0x0FFFFF00u | MediaFixedDisk),
        };
        Set(0, first);
        Set(1, endOfChain);
        foreach (var node in allocations)
        {
            for (var i = 0L; i < node.Clusters; i++)
            {
                var cluster = node.FirstCluster + i;
                Set(cluster, i + 1 < node.Clusters ? (uint)(cluster + 1) : endOfChain);
            }
        }

        return fat;

        void Set(long cluster, uint value)
        {
            switch (g.Type)
            {
                case FatType.Fat12:
                    // fatgen103 §4: 12-bit entries packed two in three bytes.
                    var offset = (int)(cluster + cluster / 2);
                    var word = BinaryPrimitives.ReadUInt16LittleEndian(fat.AsSpan(offset));
                    word = (cluster & 1) == 0 ? (ushort)((uint)(word & 0xF000) | (value & 0xFFF)) : (ushort)((uint)(word & 0x000F) | ((value & 0xFFF) << 4));
                    BinaryPrimitives.WriteUInt16LittleEndian(fat.AsSpan(offset), word);
                    break;
                case FatType.Fat16:
                    BinaryPrimitives.WriteUInt16LittleEndian(fat.AsSpan((int)cluster * 2), (ushort)value);
                    break;
                default:
                    BinaryPrimitives.WriteUInt32LittleEndian(fat.AsSpan((int)cluster * 4), value & 0x0FFFFFFF);
                    break;
            }
        }
    }

    private uint DeriveVolumeId(string label, List<Node> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"edgeforge-fat|{label}|{_options.Timestamp}"));
        foreach (var file in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes($"|{file.Path}:{file.Size}"));
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(sha.GetHashAndReset());
    }

    private List<List<Node>> BuildTree(Node root)
    {
        var byPath = new Dictionary<string, Node>(StringComparer.Ordinal) { [""] = root };

        Node Directory(string path)
        {
            if (byPath.TryGetValue(path, out var existing))
            {
                return existing.IsDirectory ? existing : throw new ArgumentException($"{path}: is a file but has entries below it");
            }

            var slash = path.LastIndexOf('/');
            var parent = Directory(slash < 0 ? "" : path[..slash]);
            var node = new Node { Name = path[(slash + 1)..], Parent = parent, IsDirectory = true, ModificationTime = _options.Timestamp };
            parent.Children.Add(node);
            byPath[path] = node;
            return node;
        }

        Node File(string path, long size, long time)
        {
            if (size > uint.MaxValue)
            {
                throw new ArgumentException($"{path}: {size} bytes; a FAT file holds at most 4 GiB - 1 (fatgen103 §6, DIR_FileSize is 32-bit)");
            }

            if (byPath.ContainsKey(path))
            {
                throw new ArgumentException($"{path}: appears twice in the image");
            }

            var slash = path.LastIndexOf('/');
            var parent = Directory(slash < 0 ? "" : path[..slash]);
            var node = new Node { Name = path[(slash + 1)..], Parent = parent, Size = size, ModificationTime = time };
            if (parent.Children.Any(c => string.Equals(c.Name, node.Name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new ArgumentException($"{path}: FAT names are case-insensitive and another name in the directory differs only in case");
            }

            parent.Children.Add(node);
            byPath[path] = node;
            return node;
        }

        foreach (var dir in _directories)
        {
            Directory(dir);
        }

        var delivery = new List<List<Node>>();
        foreach (var source in _sources)
        {
            var list = new List<Node>();
            foreach (var entry in source.Entries.Where(e => e.Kind == FileTreeEntryKind.Directory).OrderBy(e => e.Path, StringComparer.Ordinal))
            {
                Directory(Normalise(entry.Path)).ModificationTime = entry.ModificationTime;
            }

            foreach (var entry in source.Entries)
            {
                switch (entry.Kind)
                {
                    case FileTreeEntryKind.Directory:
                        break;
                    case FileTreeEntryKind.RegularFile:
                        var node = File(Normalise(entry.Path), entry.Size, entry.ModificationTime);
                        node.Entry = entry;
                        list.Add(node);
                        break;
                    default:
                        throw new ArgumentException($"{entry.Path}: a {entry.Kind} cannot be stored on FAT, which has only files and directories");
                }
            }

            delivery.Add(list);
        }

        foreach (var (path, contents, localPath, size) in _added)
        {
            File(path, size, _options.Timestamp).Added = (contents, localPath);
        }

        return delivery;
    }

    private static IEnumerable<Node> Flatten(Node dir)
    {
        foreach (var child in dir.Children)
        {
            yield return child;
            if (child.IsDirectory)
            {
                foreach (var grandchild in Flatten(child))
                {
                    yield return grandchild;
                }
            }
        }
    }

    private static string Normalise(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
        {
            throw new ArgumentException($"'{path}' is not a valid path in a FAT image");
        }

        return string.Join('/', parts);
    }
}
