using EdgeForge.Configuration.Inputs;
using EdgeForge.FileTree;

namespace EdgeForge.Build.Installer;

/// <summary>
/// The embedded content bundles as ISO files <c>opt/spectrocloud/content/NAME_partNN</c> (EDGEFORGE.md §6): each bundle
/// cut into parts of at most <see cref="DefaultPartSize"/> bytes — the installer reassembles them by name — and every
/// part streamed straight from its range of the bundle file, never copied.
/// </summary>
public sealed class ContentBundleParts : IFileTreeSource
{
    /// <summary>3 GB, the part size CanvOS uses (decimal: 3,000,000,000 bytes).</summary>
    public const long DefaultPartSize = ProjectInputs.MaxPartSize;

    public const string Directory = "opt/spectrocloud/content";

    private readonly List<FileTreeEntry> _entries = [];
    private readonly List<(FileTreeEntry Entry, string Path, long Offset)> _parts = [];

    public ContentBundleParts(IEnumerable<ContentBundleFile> bundles, long partSize = DefaultPartSize, long modificationTime = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partSize, 1);
        _entries.Add(Dir("opt", modificationTime));
        _entries.Add(Dir("opt/spectrocloud", modificationTime));
        _entries.Add(Dir(Directory, modificationTime));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var bundle in bundles)
        {
            var name = System.IO.Path.GetFileName(bundle.Path);
            // Configuration refuses both cases (validate reports them); reaching here is a defect of the caller.
            if (!names.Add(name))
            {
                throw new InvalidOperationException($"two content bundles are named {name} ({bundle.DisplayName}); the ISO holds them side by side, so rename one");
            }

            var size = new FileInfo(bundle.Path).Length;
            var count = Math.Max(1, (size + partSize - 1) / partSize);
            if (count > ProjectInputs.MaxParts)
            {
                throw new InvalidOperationException($"{bundle.DisplayName}: {count} parts of {partSize} bytes do not fit the two-digit _partNN names");
            }

            for (var index = 0; index < count; index++)
            {
                var offset = index * partSize;
                var entry = new FileTreeEntry
                {
                    Path = $"{Directory}/{name}_part{index:D2}",
                    Kind = FileTreeEntryKind.RegularFile,
                    Mode = 0x1A4,
                    Size = Math.Min(partSize, size - offset),
                    ModificationTime = modificationTime,
                };
                _entries.Add(entry);
                _parts.Add((entry, bundle.Path, offset));
            }
        }
    }

    public IReadOnlyList<FileTreeEntry> Entries => _entries;

    /// <summary>The part paths in order, for reports.</summary>
    public IEnumerable<string> PartPaths => _parts.Select(p => "/" + p.Entry.Path);

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        foreach (var (entry, path, offset) in _parts)
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            if (file.Length < offset + entry.Size)
            {
                throw new IOException($"{path}: shrank while the ISO was written");
            }

            file.Position = offset;
            await consumer(entry, new RangeReadStream(file, entry.Size), cancellationToken).ConfigureAwait(false);
        }
    }

    private static FileTreeEntry Dir(string path, long time) =>
        new() { Path = path, Kind = FileTreeEntryKind.Directory, Mode = 0x1ED, ModificationTime = time };

    /// <summary>The next <c>length</c> bytes of a stream, as a stream of its own.</summary>
    private sealed class RangeReadStream(Stream source, long length) : Stream
    {
        private readonly long _length = length;
        private long _remaining = length;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;

        public override long Position
        {
            get => _length - _remaining;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_remaining == 0)
            {
                return 0;
            }

            var read = source.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
            _remaining -= read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_remaining == 0)
            {
                return 0;
            }

            var read = await source.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
            _remaining -= read;
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
