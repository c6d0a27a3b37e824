using System.Collections.Concurrent;
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
/// Duplicates: the reader hashes each file (SHA-256) and, at its end, looks the (size, digest) pair up among the
/// files before it. A duplicate's tail never enters a fragment, and the writer rewinds over the blocks it had already
/// written for it and points the file at the first copy's blocks — as mksquashfs does, since a file's blocks are
/// compressed before its end is read.
/// </remarks>
internal sealed class DataPipeline
{
    private readonly Stream _output;
    private readonly TreeLayout _layout;
    private readonly BlockCompressor _compressor;
    private readonly int _blockSize;
    private readonly IProgress<SquashFsProgress>? _progress;
    private readonly Channel<PipelineItem> _inOrder;
    private readonly BlockingCollection<PipelineItem> _toCompress = new(new ConcurrentQueue<PipelineItem>());
    private readonly ConcurrentBag<byte[]> _buffers = [];
    private readonly CancellationTokenSource _failed;
    private readonly Thread[] _compressors;
    private readonly Task _writer;

    // Reader state (one file at a time, on the source's callback).
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Dictionary<ContentKey, int> _firstFileWithContent = [];
    private byte[] _fragment;
    private int _fragmentLength;
    private uint _fragmentIndex;

    // Writer state.
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
        _fragment = RentBuffer();
        _failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Enough blocks in flight to keep every compressor busy while the writer waits for the oldest one, capped so
        // that buffers (an input and an output block per item) stay under ~96 MiB whatever the processor count.
        var workers = options.EffectiveProcessors;
        var capacity = Math.Min(Math.Max(2 * workers + 2, 8), Math.Max(4, (96 << 20) / (2 * _blockSize)));
        _inOrder = Channel.CreateBounded<PipelineItem>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        _compressors = new Thread[workers];
        for (var i = 0; i < workers; i++)
        {
            _compressors[i] = new Thread(CompressLoop) { IsBackground = true, Name = $"squashfs-compress-{i}" };
            _compressors[i].Start();
        }

        _writer = Task.Run(WriteLoopAsync, CancellationToken.None);
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
            throw new InvalidDataException($"{entry.Path}: the source delivered contents for something that is not a regular file of its tree");
        }

        var fileIndex = (int)_layout[node].Payload;
        ref var file = ref _layout.Files[fileIndex];
        if (file.Delivered)
        {
            throw new InvalidDataException($"{entry.Path}: the source delivered its contents twice");
        }

        file.Delivered = true;
        var size = file.Size;
        try
        {
            var fullBlocks = size / _blockSize;
            for (long block = 0; block < fullBlocks; block++)
            {
                var input = RentBuffer();
                await ReadExactlyAsync(content, input, _blockSize, entry, cancellationToken).ConfigureAwait(false);
                _sha256.AppendData(input, 0, _blockSize);
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

            var tailLength = (int)(size % _blockSize);
            var tail = tailLength > 0 ? RentBuffer() : null;
            if (tail is not null)
            {
                await ReadExactlyAsync(content, tail, tailLength, entry, cancellationToken).ConfigureAwait(false);
                _sha256.AppendData(tail, 0, tailLength);
            }

            var probe = new byte[1];
            if (await content.ReadAsync(probe, cancellationToken).ConfigureAwait(false) != 0)
            {
                throw new InvalidDataException($"{entry.Path}: the contents are longer than the {size} bytes the tree declares");
            }

            Span<byte> digest = stackalloc byte[32];
            _sha256.GetHashAndReset(digest);
            var end = new PipelineItem { Kind = ItemKind.FileEnd, FileIndex = fileIndex, DuplicateOf = -1, FragmentIndex = SquashFsFormat.InvalidFragment };
            var key = new ContentKey(size, digest);
            if (size > 0 && _firstFileWithContent.TryGetValue(key, out var original))
            {
                end.DuplicateOf = original;
            }
            else
            {
                if (size > 0)
                {
                    _firstFileWithContent.Add(key, fileIndex);
                }

                if (tail is not null)
                {
                    if (_fragmentLength + tailLength > _blockSize)
                    {
                        await FlushFragmentAsync().ConfigureAwait(false);
                    }

                    tail.AsSpan(0, tailLength).CopyTo(_fragment.AsSpan(_fragmentLength));
                    end.FragmentIndex = _fragmentIndex;
                    end.FragmentOffset = (uint)_fragmentLength;
                    _fragmentLength += tailLength;
                }
            }

            if (tail is not null)
            {
                ReturnBuffer(tail);
            }

            await EnqueueAsync(end).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_writer.IsFaulted)
        {
            await _writer.ConfigureAwait(false);
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
            await _writer.ConfigureAwait(false);
        }
        finally
        {
            Shutdown();
        }

        for (var i = 0; i < _layout.Files.Length; i++)
        {
            if (!_layout.Files[i].Delivered)
            {
                throw new InvalidDataException($"the source did not deliver the contents of {PathOf(_layout.Files[i].Node)}");
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

        _sha256.Dispose();
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
            item.Output = RentBuffer();
            item.Compressed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        await _inOrder.Writer.WriteAsync(item, _failed.Token).ConfigureAwait(false);
        if (item.Input is not null)
        {
            _toCompress.Add(item, _failed.Token);
        }
    }

    private static async ValueTask ReadExactlyAsync(Stream content, byte[] buffer, int count, FileTreeEntry entry, CancellationToken cancellationToken)
    {
        var read = await content.ReadAtLeastAsync(buffer.AsMemory(0, count), count, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read < count)
        {
            throw new InvalidDataException($"{entry.Path}: the contents end before the {entry.Size} bytes the tree declares");
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
                    item.Compressed!.TrySetResult();
                }
                catch (Exception e)
                {
                    item.Compressed!.TrySetException(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The write failed or was cancelled; the writer reports why.
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            _output.Position = _position;
            await foreach (var item in _inOrder.Reader.ReadAllAsync(_failed.Token).ConfigureAwait(false))
            {
                if (item.Compressed is not null)
                {
                    await item.Compressed.Task.WaitAsync(_failed.Token).ConfigureAwait(false);
                }

                Write(item);
            }
        }
        catch
        {
            _failed.Cancel();
            throw;
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

        public TaskCompletionSource? Compressed;
        public int DuplicateOf;
        public uint FragmentIndex;
        public uint FragmentOffset;
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
