using System.Formats.Tar;
using EdgeForge.Compression;
using EdgeForge.DiskFormats.Iso9660;

namespace EdgeForge.Content.Bundles;

/// <summary>
/// Reads bundles of every format (zstd tar, tar, ISO 9660), recognised by content rather than by name: zstd frame
/// magic (RFC 8878 §3.1.1), <c>ustar</c> at offset 257 (POSIX pax), <c>CD001</c> in the first volume descriptor
/// (ECMA-119 §8.1). Tar bundles are read strictly forwards as a stream; nothing is loaded whole.
/// </summary>
public static class ContentBundleReader
{
    public static BundleFormat DetectFormat(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[264];
        var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD)
        {
            return BundleFormat.Zst;
        }

        if (read >= 262 && head[257..262].SequenceEqual("ustar"u8))
        {
            return BundleFormat.Tar;
        }

        Span<byte> volume = stackalloc byte[6];
        if (file.Length > 16 * Iso9660Writer.BlockSize + 6)
        {
            file.Position = 16 * Iso9660Writer.BlockSize;
            file.ReadExactly(volume);
            if (volume[1..6].SequenceEqual("CD001"u8))
            {
                return BundleFormat.Iso;
            }
        }

        throw new InvalidDataException($"{path}: not a content bundle (neither zstd, tar nor ISO 9660)");
    }

    /// <summary>Reads <c>bundle-definition.yaml</c>; a tar bundle is read only up to that entry (it is the first).</summary>
    public static async Task<BundleDefinition> ReadDefinitionAsync(string path, CancellationToken cancellationToken = default)
    {
        await foreach (var (name, content) in EntriesAsync(path, cancellationToken).ConfigureAwait(false))
        {
            if (name == BundleDefinition.FileName && content is not null)
            {
                using var reader = new StreamReader(content);
                return BundleDefinition.Parse(await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false), path);
            }
        }

        throw new InvalidDataException($"{path}: no {BundleDefinition.FileName}: not a content bundle");
    }

    /// <summary>
    /// Extracts every file below <paramref name="directory"/>. Only plain files and directories are accepted, and
    /// a name that is absolute or climbs out with <c>..</c> refuses the whole bundle (CVE-2007-4559-style path
    /// traversal); nothing outside <paramref name="directory"/> is ever written. A symbolic link already inside
    /// <paramref name="directory"/> is never followed: an entry whose path runs through one is refused.
    /// </summary>
    public static async Task<int> ExtractAsync(string path, string directory, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        var checkedDirectories = new HashSet<string>(StringComparer.Ordinal);
        var count = 0;
        await foreach (var (name, content) in EntriesAsync(path, cancellationToken).ConfigureAwait(false))
        {
            var target = Path.GetFullPath(Path.Combine(root, name));
            if (content is null)
            {
                CreateDirectories(root, name, checkedDirectories, path);
                continue;
            }

            CreateDirectories(root, Path.GetDirectoryName(name) ?? "", checkedDirectories, path);
            if (new FileInfo(target).LinkTarget is not null)
            {
                throw new InvalidDataException($"{path}: refusing to write {name} through the symbolic link {target}");
            }

            await using (var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(output, 1 << 20, cancellationToken).ConfigureAwait(false);
            }

            count++;
        }

        return count;
    }

    /// <summary>Creates root/relative one level at a time, refusing any level that exists as a symbolic link.</summary>
    private static void CreateDirectories(string root, string relative, HashSet<string> checkedDirectories, string bundle)
    {
        var current = root;
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            if (!checkedDirectories.Add(current))
            {
                continue;
            }

            var info = new DirectoryInfo(current);
            if (info.LinkTarget is not null)
            {
                throw new InvalidDataException($"{bundle}: refusing to extract through the symbolic link {current}");
            }

            info.Create();
        }
    }

    /// <summary>Every entry, its name checked as safe: (relative path, content stream or null for a directory).</summary>
    internal static async IAsyncEnumerable<(string Name, Stream? Content)> EntriesAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var format = DetectFormat(path);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        if (format == BundleFormat.Iso)
        {
            var reader = new Iso9660Reader(file);
            foreach (var record in reader.ListFiles().ToList())
            {
                var name = SafeName(path, record.Path);
                if (record.IsDirectory)
                {
                    yield return (name, null);
                }
                else if (record.SymlinkTarget is not null || record.Device is not null)
                {
                    throw new InvalidDataException($"{path}: {name} is not a regular file; a content bundle holds only files and directories");
                }
                else
                {
                    await using var content = new ExtentReadStream(file, record.Extents, Iso9660Writer.BlockSize);
                    yield return (name, content);
                }
            }

            yield break;
        }

        Stream tarStream = format == BundleFormat.Zst ? new ZstdDecompressStream(file, leaveOpen: true) : file;
        try
        {
            await using var tar = new TarReader(tarStream, leaveOpen: true);
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                var name = SafeName(path, entry.Name);
                switch (entry.EntryType)
                {
                    case TarEntryType.Directory:
                        yield return (name, null);
                        break;
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                        yield return (name, entry.DataStream ?? new MemoryStream([], writable: false));
                        break;
                    default:
                        throw new InvalidDataException($"{path}: {name} is a {entry.EntryType}; a content bundle holds only files and directories");
                }
            }
        }
        finally
        {
            if (!ReferenceEquals(tarStream, file))
            {
                await tarStream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static string SafeName(string bundle, string name)
    {
        var trimmed = name.TrimEnd('/');
        if (trimmed.StartsWith('/') || trimmed.Length == 0 || trimmed.Contains('\\') || trimmed.Contains('\0')
            || trimmed.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new InvalidDataException($"{bundle}: refusing unsafe entry name \"{name}\" (absolute, empty or containing ..)");
        }

        return trimmed;
    }

    /// <summary>A file's data in an ISO image: its extents in order, read on demand.</summary>
    private sealed class ExtentReadStream(Stream image, IReadOnlyList<(long Block, long Length)> extents, int blockSize) : Stream
    {
        private int _extent;
        private long _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => extents.Sum(e => e.Length);

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (_extent < extents.Count && _offset == extents[_extent].Length)
            {
                _extent++;
                _offset = 0;
            }

            if (_extent == extents.Count || buffer.Length == 0)
            {
                return 0;
            }

            var (block, length) = extents[_extent];
            image.Position = block * blockSize + _offset;
            var read = image.Read(buffer[..(int)Math.Min(buffer.Length, length - _offset)]);
            if (read == 0)
            {
                throw new EndOfStreamException("the ISO image ends inside a file");
            }

            _offset += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
