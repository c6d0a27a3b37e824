using EdgeForge.FileTree;

namespace EdgeForge.SquashFs.SyntheticTree;

/// <summary>
/// A deterministic file tree generated on the fly: <c>directories</c> directories of <c>filesPerDirectory</c> regular
/// files each. Entries and contents are computed from their index, never stored, so a million-entry, multi-GiB tree
/// costs the test nothing and the writer's own memory use can be measured.
/// </summary>
/// <remarks>
/// File sizes mix what real root filesystems have: about a quarter empty files, a third copies of one of 64 shared
/// contents (duplicates), small unique files, and every <see cref="BigFileInterval"/>th file a large one with an
/// all-zero middle block (a hole). Contents are pseudo-random nibbles: compressible roughly by half, like binaries.
/// </remarks>
public sealed class SyntheticFileTreeSource : IFileTreeSource
{
    public const int BigFileInterval = 10_007;

    private readonly int _directories;
    private readonly int _filesPerDirectory;
    private readonly long _bigFileSize;
    private readonly ulong _seed;

    public SyntheticFileTreeSource(int directories, int filesPerDirectory, long bigFileSize, ulong seed = 1)
    {
        _directories = directories;
        _filesPerDirectory = filesPerDirectory;
        _bigFileSize = bigFileSize;
        _seed = seed;
        Entries = new EntryList(this);
        for (var file = 0; file < FileCount; file++)
        {
            TotalBytes += SizeOf(file);
        }
    }

    public IReadOnlyList<FileTreeEntry> Entries { get; }

    public int FileCount => _directories * _filesPerDirectory;

    public long TotalBytes { get; }

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        // Deliberately not directory order: odd files first, then even ones, as an image source might.
        for (var pass = 1; pass >= 0; pass--)
        {
            for (var file = pass; file < FileCount; file += 2)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await using var content = new ContentStream(ContentSeedOf(file), SizeOf(file), SizeOf(file) >= _bigFileSize ? HoleOf(file) : null);
                await consumer(Entries[_directories + file], content, cancellationToken);
            }
        }
    }

    /// <summary>The bytes of file <paramref name="file"/>, as the tests compare them.</summary>
    public Stream OpenContent(int file) => new ContentStream(ContentSeedOf(file), SizeOf(file), SizeOf(file) >= _bigFileSize ? HoleOf(file) : null);

    public string PathOf(int file) => $"{DirectoryName(file / _filesPerDirectory)}/f{file:D7}-{(Mix(file) % 100_000):D5}.dat";

    public long SizeOf(int file)
    {
        var h = Mix(file);
        if (file % BigFileInterval == BigFileInterval - 1)
        {
            return _bigFileSize + (long)(h % 65_536);
        }

        return (h % 100) switch
        {
            < 25 => 0,
            < 60 => SharedContentSize((int)((h >> 8) % 64)),
            _ => (long)((h >> 16) % 6_000),
        };
    }

    private static long SharedContentSize(int shared) => 700 + shared * 97;

    private ulong ContentSeedOf(int file)
    {
        var h = Mix(file);
        return file % BigFileInterval != BigFileInterval - 1 && h % 100 is >= 25 and < 60 ? 1_000_000_007UL * ((h >> 8) % 64 + 1) : h;
    }

    private static (long Start, long Length) HoleOf(int file) => (1 << 20, 1 << 20);

    private ulong Mix(int file)
    {
        // SplitMix64 (Steele, Lea, Flood 2014): a fixed, well-spread function of the index.
        var z = _seed * 0x9E3779B97F4A7C15UL + (ulong)file + 1;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static string DirectoryName(int directory) => $"d{directory:D4}";

    private FileTreeEntry EntryAt(int index)
    {
        if (index < _directories)
        {
            return new FileTreeEntry { Path = DirectoryName(index), Kind = FileTreeEntryKind.Directory, Mode = Convert.ToInt32("755", 8), ModificationTime = 1_700_000_000 };
        }

        var file = index - _directories;
        return new FileTreeEntry
        {
            Path = PathOf(file),
            Kind = FileTreeEntryKind.RegularFile,
            Mode = Convert.ToInt32("644", 8),
            Uid = file % 3 == 0 ? 1000 : 0,
            Gid = file % 5 == 0 ? 100 : 0,
            ModificationTime = 1_700_000_000 + file % 86_400,
            Size = SizeOf(file),
        };
    }

    private sealed class EntryList(SyntheticFileTreeSource tree) : IReadOnlyList<FileTreeEntry>
    {
        public int Count => tree._directories + tree.FileCount;

        public FileTreeEntry this[int index] => (uint)index < (uint)Count ? tree.EntryAt(index) : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<FileTreeEntry> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// Byte p is byte p % 8 of word p / 8, a SplitMix64 value of (seed, p / 8) with its high nibbles cleared — a pure
    /// function of the position, so any read pattern sees the same bytes — and zero inside the hole.
    /// </summary>
    private sealed class ContentStream(ulong seed, long length, (long Start, long Length)? hole) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, length - _position);
            Span<byte> word = stackalloc byte[8];
            var done = 0;
            while (done < count)
            {
                var inWord = (int)(_position & 7);
                var take = Math.Min(8 - inWord, count - done);
                if (hole is { } h && _position >= h.Start && _position < h.Start + h.Length)
                {
                    word.Clear();
                }
                else
                {
                    var z = (seed ^ 0x5851F42D4C957F2DUL) + (ulong)(_position >> 3) * 0x9E3779B97F4A7C15UL;
                    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(word, (z ^ (z >> 31)) & 0x0F0F0F0F0F0F0F0FUL);
                }

                word.Slice(inWord, take).CopyTo(buffer[done..]);
                done += take;
                _position += take;
            }

            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
