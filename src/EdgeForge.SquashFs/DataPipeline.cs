using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using EdgeForge.FileTree;

namespace EdgeForge.SquashFs;

/// <summary>
/// Phase two of writing an image: file contents, in the order the source delivers them, become data blocks and
/// fragment blocks. A bounded pipeline — the reader (the source's callback) cuts blocks and queues them in order;
/// compressor threads compress them in any order; one writer takes them back in queue order and appends them to the
/// image — so the output depends only on the input, never on thread timing, and memory stays at a few blocks per
/// thread however large the tree.
/// </summary>
/// <remarks>
/// <para>
/// Duplicates: only a file whose size another file shares can have one, and among those the reader takes a cheap
/// fingerprint of the first block (the whole file when it is shorter) and groups files by (size, fingerprint).
/// The first file of a group is not hashed at all: most groups stay single (same-sized files rarely start alike).
/// Every later member is SHA-256-hashed as it streams by, and at the group's first collision the first file's digest
/// is computed after the fact by reading its stored blocks and fragment back from the output and decompressing them.
/// A file is merged only with an earlier file of equal (size, SHA-256), so the fingerprint decides what gets hashed,
/// never what gets merged. Outputs that cannot be read back get every same-sized file hashed, as before.
/// </para>
/// <para>
/// A duplicate's tail never enters a fragment, and the writer rewinds over the blocks it had already written for it
/// and points the file at the first copy's blocks — as mksquashfs does, since a file's blocks are compressed before
/// its end is read.
/// </para>
/// </remarks>
internal sealed class DataPipeline
{
    /// <summary>Markers and blocks queued at most (a marker is ~100 bytes).</summary>
    private const int MaxItemsInFlight = 1 << 16;

    private readonly Stream _output;
    private readonly TreeLayout _layout;
    private readonly BlockCompressor _compressor;
    private readonly int _blockSize;
    private readonly IProgress<SquashFsProgress>? _progress;
    private readonly Channel<PipelineItem> _inOrder;
    private readonly SemaphoreSlim _blockSlots;
    private readonly BlockingCollection<PipelineItem> _toCompress = new(new ConcurrentQueue<PipelineItem>());
    private readonly ConcurrentBag<byte[]> _buffers = [];
    private readonly CancellationTokenSource _failed;
    private readonly Thread[] _compressors;
    private readonly Thread _writer;
    private readonly TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Reader state (one file at a time, on the source's callback).
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _readBackSha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly bool _canReadBack;
    private readonly Dictionary<PrefixKey, ContentGroup> _groups = [];
    private readonly Dictionary<ContentKey, int> _firstFileWithContent = [];
    private int _filesDelivered;

    // The fragment block last read back from the image, decompressed: duplicates tend to come in runs (a copied
    // directory), whose first copies' tails sit side by side in the same fragments.
    private byte[]? _readBackFragment;
    private uint _readBackFragmentIndex = SquashFsFormat.InvalidFragment;
    private byte[] _fragment;
    private int _fragmentLength;
    private uint _fragmentIndex;

    // Writer state. The writer updates it and uses the output under _outputLock, so that the reader can read a file
    // back from the image (duplicate proof) between two of the writer's blocks.
    private readonly object _outputLock = new();
    private long _position;
    private long _bytesDone;
    private long _lastReportedBytes;
    private int _filesDone;

    public DataPipeline(Stream output, long dataStart, TreeLayout layout, BlockCompressor compressor, SquashFsOptions options,
        IProgress<SquashFsProgress>? progress, CancellationToken cancellationToken)
    {
        _output = output;
        _layout = layout;
        _compressor = compressor;
        _blockSize = options.BlockSize;
        _progress = progress;
        _position = dataStart;
        _canReadBack = output.CanRead;
        _fragment = RentBuffer();
        _failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Blocks in flight: enough to keep every compressor busy while the writer waits for the oldest one, capped so
        // that buffers (an input and an output block each) stay under ~96 MiB whatever the processor count. Only
        // blocks count: the end-of-file markers of small files are cheap, and if they counted, the reader would stop
        // at every fragment block until it is compressed — serialising trees of many small files.
        var workers = options.EffectiveProcessors;
        var blocksInFlight = Math.Min(Math.Max(2 * workers + 2, 8), Math.Max(4, (96 << 20) / (2 * _blockSize)));
        _blockSlots = new SemaphoreSlim(blocksInFlight, blocksInFlight);
        _inOrder = Channel.CreateBounded<PipelineItem>(new BoundedChannelOptions(MaxItemsInFlight) { SingleReader = true, SingleWriter = true });
        _compressors = new Thread[workers];
        for (var i = 0; i < workers; i++)
        {
            _compressors[i] = new Thread(CompressLoop) { IsBackground = true, Name = $"squashfs-compress-{i}" };
            _compressors[i].Start();
        }

        // The writer is a thread of its own, like the compressors: waking a blocked thread is cheaper than a thread
        // pool hop per block, which matters on a busy machine.
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "squashfs-write" };
        _writer.Start();
    }

    /// <summary>Block sizes of every file's data blocks, as they will appear in the file inodes (bit 24: stored raw; 0: a hole).</summary>
    public List<uint> BlockSizes { get; } = [];

    /// <summary>Each fragment block's position and stored size, in fragment index order.</summary>
    public List<(long Start, uint Size)> Fragments { get; } = [];

    public int DuplicateFiles { get; private set; }

    /// <summary>The image offset after the last data or fragment block.</summary>
    public long End => _position;

    /// <summary>Reads one regular file's contents and queues its blocks; called once per file by the source.</summary>
    public async ValueTask AddFileAsync(FileTreeEntry entry, Stream content, CancellationToken cancellationToken)
    {
        if (entry.Kind != FileTreeEntryKind.RegularFile || !_layout.Paths.TryGet(entry.Path, out var node) || _layout[node].Kind != FileTreeEntryKind.RegularFile)
        {
            throw new InvalidOperationException($"{entry.Path}: the source delivered contents for something that is not a regular file of its tree");
        }

        var fileIndex = (int)_layout[node].Payload;
        ref var file = ref _layout.Files[fileIndex];
        if (file.Delivered)
        {
            throw new InvalidOperationException($"{entry.Path}: the source delivered its contents twice");
        }

        file.Delivered = true;
        var size = file.Size;
        var candidate = file.SizeShared;
        var ordinal = _filesDelivered++;
        var prefix = default(PrefixKey);
        var hashed = false;
        try
        {
            var fullBlocks = size / _blockSize;
            for (long block = 0; block < fullBlocks; block++)
            {
                var input = RentBuffer();
                ReadExactly(content, input, 0, _blockSize, entry);
                if (candidate && block == 0)
                {
                    prefix = new PrefixKey(size, Fingerprint(input.AsSpan(0, _blockSize)));
                    hashed = JoinGroup(prefix, fileIndex, ordinal);
                }

                if (hashed)
                {
                    _sha256.AppendData(input, 0, _blockSize);
                }

                var item = new PipelineItem { Kind = ItemKind.DataBlock, FileIndex = fileIndex, FirstBlockOfFile = block == 0 };
                if (input.AsSpan(0, _blockSize).IndexOfAnyExcept((byte)0) < 0)
                {
                    // An all-zero block is a hole: block size 0, nothing stored (format.adoc "Data and Fragment Blocks").
                    item.Kind = ItemKind.SparseBlock;
                    ReturnBuffer(input);
                }
                else
                {
                    item.Input = input;
                    item.InputLength = _blockSize;
                }

                await EnqueueAsync(item).ConfigureAwait(false);
            }

            // A tail that fits is read straight into the fragment being filled, past its end, and taken in (by moving
            // the fragment's length) only if the file is not a duplicate: no copy for most small files. A tail that
            // does not fit waits in a buffer of its own, as the fragment is flushed only for a file that is not.
            var tailLength = (int)(size % _blockSize);
            byte[]? tail = null;
            var tailOffset = 0;
            var ownTail = false;
            if (tailLength > 0)
            {
                ownTail = _fragmentLength + tailLength > _blockSize;
                tail = ownTail ? RentBuffer() : _fragment;
                tailOffset = ownTail ? 0 : _fragmentLength;
                ReadExactly(content, tail, tailOffset, tailLength, entry);
                if (candidate && fullBlocks == 0)
                {
                    prefix = new PrefixKey(size, Fingerprint(tail.AsSpan(tailOffset, tailLength)));
                    hashed = JoinGroup(prefix, fileIndex, ordinal);
                }

                if (hashed)
                {
                    _sha256.AppendData(tail, tailOffset, tailLength);
                }
            }

            Span<byte> probe = stackalloc byte[1];
            if (content.Read(probe) != 0)
            {
                throw new IOException($"{entry.Path}: the contents are longer than the {size} bytes the tree declares (changed while read?)");
            }

            var end = new PipelineItem { Kind = ItemKind.FileEnd, FileIndex = fileIndex, DuplicateOf = -1, FragmentIndex = SquashFsFormat.InvalidFragment };
            if (hashed)
            {
                Span<byte> digest = stackalloc byte[32];
                _sha256.GetHashAndReset(digest);
                end.DuplicateOf = FindOriginal(prefix, fileIndex, new ContentKey(size, digest));
            }

            if (end.DuplicateOf < 0)
            {
                if (tail is not null)
                {
                    if (ownTail)
                    {
                        await FlushFragmentAsync().ConfigureAwait(false);
                        tail.AsSpan(0, tailLength).CopyTo(_fragment);
                    }

                    end.FragmentIndex = _fragmentIndex;
                    end.FragmentOffset = (uint)_fragmentLength;
                    _fragmentLength += tailLength;
                }

                if (candidate)
                {
                    ref var group = ref CollectionsMarshal.GetValueRefOrNullRef(_groups, prefix);
                    if (group.FirstFile == fileIndex)
                    {
                        group.FragmentIndex = end.FragmentIndex;
                        group.FragmentOffset = end.FragmentOffset;
                    }
                }
            }

            if (ownTail)
            {
                ReturnBuffer(tail!);
            }

            await EnqueueAsync(end).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_written.Task.IsFaulted)
        {
            await _written.Task.ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Writes the last fragment block and waits until everything is on disk.</summary>
    public async Task CompleteAsync()
    {
        try
        {
            if (_fragmentLength > 0)
            {
                await FlushFragmentAsync().ConfigureAwait(false);
            }

            _inOrder.Writer.TryComplete();
            await _written.Task.ConfigureAwait(false);
        }
        finally
        {
            Shutdown();
        }

        for (var i = 0; i < _layout.Files.Length; i++)
        {
            if (!_layout.Files[i].Delivered)
            {
                throw new InvalidOperationException($"the source did not deliver the contents of {PathOf(_layout.Files[i].Node)}");
            }
        }
    }

    /// <summary>Stops the compressor threads; also what a failed or cancelled write ends with.</summary>
    public void Shutdown()
    {
        _inOrder.Writer.TryComplete();
        if (!_toCompress.IsAddingCompleted)
        {
            _toCompress.CompleteAdding();
        }

        _failed.Cancel();
        foreach (var thread in _compressors)
        {
            thread.Join();
        }

        _writer.Join();

        _sha256.Dispose();
        _readBackSha256.Dispose();
    }

    /// <summary>
    /// A cheap 64-bit fingerprint (four multiply-rotate lanes over 64-bit words): equal bytes give equal
    /// fingerprints, which is all the duplicate search relies on — it only picks the files worth a SHA-256.
    /// </summary>
    internal static ulong Fingerprint(ReadOnlySpan<byte> bytes)
    {
        const ulong Prime1 = 0x9E3779B185EBCA87, Prime2 = 0xC2B2AE3D27D4EB4F;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        ulong lane0 = Prime1, lane1 = Prime2, lane2 = ~Prime1, lane3 = ~Prime2;
        var i = 0;
        for (; i + 4 <= words.Length; i += 4)
        {
            lane0 = BitOperations.RotateLeft(lane0 + words[i] * Prime2, 31) * Prime1;
            lane1 = BitOperations.RotateLeft(lane1 + words[i + 1] * Prime2, 31) * Prime1;
            lane2 = BitOperations.RotateLeft(lane2 + words[i + 2] * Prime2, 31) * Prime1;
            lane3 = BitOperations.RotateLeft(lane3 + words[i + 3] * Prime2, 31) * Prime1;
        }

        for (; i < words.Length; i++)
        {
            lane0 = BitOperations.RotateLeft(lane0 ^ words[i] * Prime2, 27) * Prime1;
        }

        foreach (var b in bytes[(words.Length * sizeof(ulong))..])
        {
            lane1 = (lane1 ^ b) * Prime1;
        }

        var hash = lane0 ^ BitOperations.RotateLeft(lane1, 17) ^ BitOperations.RotateLeft(lane2, 34) ^ BitOperations.RotateLeft(lane3, 51);
        return (hash ^ (hash >> 29)) * Prime2;
    }

    /// <summary>
    /// Puts the file into its (size, fingerprint) group and says whether to SHA-256 it: yes for every member after
    /// the first, and for the first too when the output cannot be read back to hash it later.
    /// </summary>
    private bool JoinGroup(PrefixKey prefix, int fileIndex, int ordinal)
    {
        ref var group = ref CollectionsMarshal.GetValueRefOrAddDefault(_groups, prefix, out var exists);
        if (exists)
        {
            return true;
        }

        group = new ContentGroup { FirstFile = fileIndex, FirstOrdinal = ordinal, FirstHashed = !_canReadBack, FragmentIndex = SquashFsFormat.InvalidFragment };
        return !_canReadBack;
    }

    /// <summary>
    /// The earliest file with the same size and SHA-256 as this one, or -1 (this file is then recorded as the first
    /// with its contents). At a group's first collision the group's first file is hashed from the image first, so
    /// that it is found as what it is — the earliest copy.
    /// </summary>
    private int FindOriginal(PrefixKey prefix, int fileIndex, ContentKey key)
    {
        ref var group = ref CollectionsMarshal.GetValueRefOrNullRef(_groups, prefix);
        if (!group.FirstHashed)
        {
            Span<byte> digest = stackalloc byte[32];
            ReadBackDigest(group, prefix.Size, digest);
            _firstFileWithContent.TryAdd(new ContentKey(prefix.Size, digest), group.FirstFile);
            group.FirstHashed = true;
        }

        if (_firstFileWithContent.TryGetValue(key, out var original))
        {
            return original;
        }

        _firstFileWithContent.Add(key, fileIndex);
        return -1;
    }

    /// <summary>
    /// The SHA-256 of a file already handed to the writer, from what the image holds: its data blocks (holes as
    /// zeros, raw blocks as they are, the rest decompressed) and its tail — from the fragment still being filled, or
    /// from the fragment block in the image. Waits until the writer has written what it needs.
    /// </summary>
    private void ReadBackDigest(in ContentGroup group, long size, Span<byte> digest)
    {
        var fullBlocks = (int)(size / _blockSize);
        var tailLength = (int)(size % _blockSize);
        var stored = RentBuffer();
        var plain = RentBuffer();
        try
        {
            if (fullBlocks > 0)
            {
                var firstOrdinal = group.FirstOrdinal;
                WaitForWriter(() => _filesDone > firstOrdinal);
                long position;
                int listStart;
                lock (_outputLock)
                {
                    position = (long)_layout.Files[group.FirstFile].BlocksStart;
                    listStart = _layout.Files[group.FirstFile].BlockListStart;
                }

                for (var block = 0; block < fullBlocks; block++)
                {
                    uint entry;
                    lock (_outputLock)
                    {
                        entry = BlockSizes[listStart + block];
                    }

                    if (entry == 0)
                    {
                        plain.AsSpan(0, _blockSize).Clear();
                        _readBackSha256.AppendData(plain, 0, _blockSize);
                        continue;
                    }

                    var (contents, length, storedLength) = ReadStoredBlock(position, entry, stored, plain);
                    if (length != _blockSize)
                    {
                        throw new InvalidDataException($"reading back a data block at {position}: {length} bytes instead of {_blockSize}");
                    }

                    _readBackSha256.AppendData(contents, 0, length);
                    position += storedLength;
                }
            }

            if (tailLength > 0)
            {
                var fragmentIndex = group.FragmentIndex;
                if (fragmentIndex == _fragmentIndex)
                {
                    _readBackSha256.AppendData(_fragment, (int)group.FragmentOffset, tailLength);
                }
                else
                {
                    if (fragmentIndex != _readBackFragmentIndex)
                    {
                        WaitForWriter(() => Fragments.Count > fragmentIndex);
                        (long Start, uint Size) fragment;
                        lock (_outputLock)
                        {
                            fragment = Fragments[(int)fragmentIndex];
                        }

                        _readBackFragment ??= new byte[_blockSize];
                        var (contents, length, _) = ReadStoredBlock(fragment.Start, fragment.Size, stored, _readBackFragment);
                        if (contents != _readBackFragment)
                        {
                            contents.AsSpan(0, length).CopyTo(_readBackFragment);
                        }

                        _readBackFragmentIndex = fragmentIndex;
                    }

                    _readBackSha256.AppendData(_readBackFragment!, (int)group.FragmentOffset, tailLength);
                }
            }

            _readBackSha256.GetHashAndReset(digest);
        }
        finally
        {
            ReturnBuffer(stored);
            ReturnBuffer(plain);
        }
    }

    /// <summary>
    /// Reads the block stored at <paramref name="position"/> with size field <paramref name="entry"/> (bit 24: stored
    /// raw) and decompresses it into <paramref name="plain"/> unless raw; returns where its contents are, their length
    /// and the stored length.
    /// </summary>
    private (byte[] Contents, int Length, int StoredLength) ReadStoredBlock(long position, uint entry, byte[] stored, byte[] plain)
    {
        var length = (int)(entry & ~SquashFsFormat.DataBlockUncompressedBit);
        lock (_outputLock)
        {
            var writerPosition = _output.Position;
            _output.Position = position;
            _output.ReadExactly(stored, 0, length);
            _output.Position = writerPosition;
        }

        return (entry & SquashFsFormat.DataBlockUncompressedBit) != 0
            ? (stored, length, length)
            : (plain, _compressor.Decompress(stored, length, plain), length);
    }

    /// <summary>Blocks the reader until the writer has got as far as <paramref name="done"/> says (checked under the output lock).</summary>
    private void WaitForWriter(Func<bool> done)
    {
        lock (_outputLock)
        {
            while (!done())
            {
                _failed.Token.ThrowIfCancellationRequested();
                Monitor.Wait(_outputLock, 100);
            }
        }
    }

    private string PathOf(int node)
    {
        var parts = new List<string>();
        for (; node != TreeLayout.Root; node = _layout[node].Parent)
        {
            parts.Insert(0, System.Text.Encoding.UTF8.GetString(_layout.NameOf(node)));
        }

        return string.Join('/', parts);
    }

    private async ValueTask FlushFragmentAsync()
    {
        var item = new PipelineItem { Kind = ItemKind.FragmentBlock, Input = _fragment, InputLength = _fragmentLength };
        _fragment = RentBuffer();
        _fragmentLength = 0;
        _fragmentIndex++;
        await EnqueueAsync(item).ConfigureAwait(false);
    }

    private async ValueTask EnqueueAsync(PipelineItem item)
    {
        if (item.Input is not null)
        {
            await _blockSlots.WaitAsync(_failed.Token).ConfigureAwait(false);
            item.Output = RentBuffer();
        }

        await _inOrder.Writer.WriteAsync(item, _failed.Token).ConfigureAwait(false);
        if (item.Input is not null)
        {
            _toCompress.Add(item, _failed.Token);
        }
    }

    /// <summary>
    /// Reads synchronously: contents come from local files or from streams over data already fetched, and an
    /// asynchronous read costs a thread pool hop per call — per file and per block, the reader's main cost.
    /// </summary>
    private static void ReadExactly(Stream content, byte[] buffer, int offset, int count, FileTreeEntry entry)
    {
        if (content.ReadAtLeast(buffer.AsSpan(offset, count), count, throwOnEndOfStream: false) < count)
        {
            throw new IOException($"{entry.Path}: the contents end before the {entry.Size} bytes the tree declares (changed while read?)");
        }
    }

    private void CompressLoop()
    {
        try
        {
            foreach (var item in _toCompress.GetConsumingEnumerable(_failed.Token))
            {
                try
                {
                    item.OutputLength = _compressor.Compress(item.Input.AsSpan(0, item.InputLength), item.Output!);
                    item.MarkCompressed(null);
                }
                catch (Exception e)
                {
                    item.MarkCompressed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The write failed or was cancelled; the writer reports why.
        }
    }

    private void WriteLoop()
    {
        try
        {
            lock (_outputLock)
            {
                _output.Position = _position;
            }

            var queue = _inOrder.Reader;
            while (true)
            {
                if (!queue.TryRead(out var item))
                {
                    if (!queue.WaitToReadAsync(_failed.Token).AsTask().GetAwaiter().GetResult())
                    {
                        break;
                    }

                    continue;
                }

                if (item.Input is not null)
                {
                    item.WaitUntilCompressed(_failed.Token);
                }

                lock (_outputLock)
                {
                    Write(item);
                    Monitor.PulseAll(_outputLock);
                }
            }

            _written.TrySetResult();
        }
        catch (Exception e)
        {
            _failed.Cancel();
            _written.TrySetException(e);
        }
    }

    private void Write(PipelineItem item)
    {
        switch (item.Kind)
        {
            case ItemKind.DataBlock or ItemKind.SparseBlock:
            {
                ref var file = ref _layout.Files[item.FileIndex];
                if (item.FirstBlockOfFile)
                {
                    file.BlocksStart = (ulong)_position;
                    file.BlockListStart = BlockSizes.Count;
                }

                if (item.Kind == ItemKind.SparseBlock)
                {
                    BlockSizes.Add(0);
                    file.SparseBytes += (ulong)_blockSize;
                }
                else
                {
                    BlockSizes.Add(WriteBlock(item));
                }

                _bytesDone += _blockSize;
                // Large files report as their blocks land, not only when the file ends (a 1 GiB file is minutes at gzip -9).
                if (_progress is not null && _bytesDone - _lastReportedBytes >= 16 << 20)
                {
                    _lastReportedBytes = _bytesDone;
                    _progress.Report(new SquashFsProgress(SquashFsStage.Data, _bytesDone, _layout.ContentBytes, _filesDone, _layout.Files.Length));
                }

                break;
            }

            case ItemKind.FragmentBlock:
                var start = _position;
                Fragments.Add((start, WriteBlock(item)));
                break;
            case ItemKind.FileEnd:
                EndFile(item);
                break;
        }
    }

    private void EndFile(PipelineItem item)
    {
        ref var file = ref _layout.Files[item.FileIndex];
        var blockCount = (int)(file.Size / _blockSize);
        if (item.DuplicateOf >= 0)
        {
            if (blockCount > 0)
            {
                // Nothing was written after this file's blocks (its tail went nowhere), so rewinding drops them.
                _position = (long)file.BlocksStart;
                _output.Position = _position;
                BlockSizes.RemoveRange(file.BlockListStart, BlockSizes.Count - file.BlockListStart);
            }

            ref var original = ref _layout.Files[item.DuplicateOf];
            file.BlocksStart = original.BlocksStart;
            file.BlockListStart = original.BlockListStart;
            file.FragmentIndex = original.FragmentIndex;
            file.FragmentOffset = original.FragmentOffset;
            file.SparseBytes = original.SparseBytes;
            DuplicateFiles++;
        }
        else
        {
            file.FragmentIndex = item.FragmentIndex;
            file.FragmentOffset = item.FragmentOffset;
        }

        _bytesDone += file.Size % _blockSize;
        _filesDone++;
        if (_progress is not null && (_bytesDone - _lastReportedBytes >= 16 << 20 || (_filesDone & 0xFFF) == 0 || _filesDone == _layout.Files.Length))
        {
            _lastReportedBytes = _bytesDone;
            _progress.Report(new SquashFsProgress(SquashFsStage.Data, _bytesDone, _layout.ContentBytes, _filesDone, _layout.Files.Length));
        }
    }

    /// <summary>Appends a data or fragment block, compressed or — when compression did not shrink it — raw.</summary>
    private uint WriteBlock(PipelineItem item)
    {
        uint size;
        if (item.OutputLength < 0)
        {
            _output.Write(item.Input!, 0, item.InputLength);
            size = (uint)item.InputLength | SquashFsFormat.DataBlockUncompressedBit;
            _position += item.InputLength;
        }
        else
        {
            _output.Write(item.Output!, 0, item.OutputLength);
            size = (uint)item.OutputLength;
            _position += item.OutputLength;
        }

        ReturnBuffer(item.Input!);
        ReturnBuffer(item.Output!);
        _blockSlots.Release();
        return size;
    }

    private byte[] RentBuffer() => _buffers.TryTake(out var buffer) ? buffer : new byte[_blockSize];

    private void ReturnBuffer(byte[] buffer) => _buffers.Add(buffer);

    private enum ItemKind : byte
    {
        DataBlock,
        SparseBlock,
        FragmentBlock,
        FileEnd,
    }

    private sealed class PipelineItem
    {
        public ItemKind Kind;
        public int FileIndex;
        public bool FirstBlockOfFile;
        public byte[]? Input;
        public int InputLength;
        public byte[]? Output;

        /// <summary>Compressed length, or -1 when the block is stored raw.</summary>
        public int OutputLength;

        private bool _compressed;
        private Exception? _failure;
        public int DuplicateOf;
        public uint FragmentIndex;
        public uint FragmentOffset;

        public void MarkCompressed(Exception? failure)
        {
            lock (this)
            {
                _failure = failure;
                _compressed = true;
                Monitor.PulseAll(this);
            }
        }

        public void WaitUntilCompressed(CancellationToken cancellationToken)
        {
            lock (this)
            {
                while (!_compressed)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Monitor.Wait(this, 100);
                }
            }

            if (_failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
            }
        }
    }

    /// <summary>A duplicate candidate's group: its size and the fingerprint of its first block (or of all of it, when shorter).</summary>
    private readonly record struct PrefixKey(long Size, ulong Fingerprint);

    /// <summary>What the reader knows of a group's first file, enough to hash it from the image later.</summary>
    private struct ContentGroup
    {
        public int FirstFile;

        /// <summary>How many files were delivered before it: the writer has written its blocks once it has ended that many + 1.</summary>
        public int FirstOrdinal;

        public uint FragmentIndex;

        public uint FragmentOffset;

        /// <summary>Its (size, SHA-256) is in the content index.</summary>
        public bool FirstHashed;
    }

    /// <summary>Identity of a file's contents: size and SHA-256, so equal keys mean equal contents.</summary>
    private readonly record struct ContentKey(long Size, UInt128 DigestHigh, UInt128 DigestLow)
    {
        public ContentKey(long size, ReadOnlySpan<byte> digest)
            : this(size, System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest), System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest[16..]))
        {
        }
    }
}
