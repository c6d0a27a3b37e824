using EdgeForge.DiskFormats.IO;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// Writes an ISO 9660 image (ECMA-119, interchange level 3) with Rock Ridge, Joliet, El Torito and an optional hybrid
/// MBR/GPT system area, strictly front to back: the whole layout is planned from the trees' metadata first (sizes
/// are known, <see cref="IsoLayoutPlanner"/>), then every region is written in image order — metadata from the plan
/// (<see cref="IsoMetadataWriter"/>, <see cref="IsoHybridSystemArea"/>), file contents copied once as the sources
/// deliver them (<see cref="IsoFileDataWriter"/>). Extents are laid out in the order of each source's regular-file
/// entries, which is the order contents arrive (<see cref="IFileTreeSource"/>); should a source deliver in another
/// order, a seekable (empty) target lets each file be placed at its extent anyway, while a pipe or a write that
/// hashes in stream order fails loudly. One exception to front-to-back: a tail file (<see cref="AddTailFile"/>), whose
/// contents the caller streams into the output first, at an offset the plan fixes before they exist.
/// </summary>
public sealed class Iso9660Writer
{
    public const int BlockSize = 2048;

    /// <summary>ECMA-119 §6.8.2.1 / level 3: a file of more bytes is recorded as several extents (multi-extent, §9.1.6 bit 7).</summary>
    public const long MaxExtentLength = 0xFFFFF800;

    /// <summary>ECMA-119 §6.2.1: the system area, 16 blocks before the first volume descriptor.</summary>
    public const int SystemAreaBlocks = VolumeDescriptorFields.FirstDescriptorBlock;

    private readonly IsoImageOptions _options;
    private readonly List<IFileTreeSource> _sources = [];
    private readonly List<IsoAddedFile> _added = [];
    private IsoTailFile? _tail;

    public Iso9660Writer(IsoImageOptions options)
    {
        _options = options;
        if (options.VolumeId.Length is 0 or > PrimaryVolumeDescriptorFields.VolumeIdentifierLength || options.VolumeId.Any(c => c is < ' ' or > '~'))
        {
            throw new ArgumentException($"volume id '{options.VolumeId}' must be 1 to 32 printable ASCII characters (ECMA-119 §8.4.6)", nameof(options));
        }

        if (options.Partitions is { } p && p.PartitionOffset < SystemAreaBlocks)
        {
            throw new ArgumentException($"partition offset {p.PartitionOffset} must be at least {SystemAreaBlocks} blocks", nameof(options));
        }
    }

    /// <summary>Adds a file tree at the image root; several trees merge, but no path may appear twice.</summary>
    public void AddFileTree(IFileTreeSource source) => _sources.Add(source);

    /// <summary>Adds an in-memory file (e.g. a generated config or a boot image to be patched).</summary>
    public void AddFile(string isoPath, byte[] contents, int mode = 0x1A4) =>
        _added.Add(new IsoAddedFile(IsoTreeBuilder.NormalisePath(isoPath), contents, null, contents.Length, mode));

    /// <summary>Adds a local file, read when the image is written.</summary>
    public void AddFile(string isoPath, string localPath, int mode = 0x1A4) =>
        _added.Add(new IsoAddedFile(IsoTreeBuilder.NormalisePath(isoPath), null, Path.GetFullPath(localPath), new FileInfo(localPath).Length, mode));

    /// <summary>
    /// Reserves the image's last file for contents the caller writes straight into the output file, at
    /// <see cref="TailOffset"/>, before <see cref="WriteAsync(Stream, IProgress{IsoWriteProgress}?, CancellationToken)"/>
    /// writes everything else around them — so a file produced by streaming (a SquashFS of the root filesystem) never
    /// exists a second time as a temporary file. Its length need not be known until then; at most one extent (4 GiB − 2 KiB),
    /// because the number of its directory records is fixed before its contents exist. The image must then be written to a
    /// seekable, readable file, and its SHA-256 is computed by reading it back.
    /// </summary>
    public IsoTailFile AddTailFile(string isoPath, int mode = 0x1A4)
    {
        if (_tail is not null)
        {
            throw new InvalidOperationException($"the image already has a tail file, {_tail.IsoPath}");
        }

        return _tail = new IsoTailFile(IsoTreeBuilder.NormalisePath(isoPath), mode);
    }

    /// <summary>
    /// Adds a local file placed after the tail file: it need not exist before the tail's contents are written (a boot file
    /// captured while they were), only when the image is. At most one extent.
    /// </summary>
    public void AddFileAfterTail(string isoPath, string localPath, int mode = 0x1A4) =>
        _added.Add(new IsoAddedFile(IsoTreeBuilder.NormalisePath(isoPath), null, Path.GetFullPath(localPath), 0, mode, IsoFilePlacement.AfterTail));

    /// <summary>
    /// The byte offset where the tail file's contents go (<see cref="AddTailFile"/>); fixed by everything added before
    /// it, and planned once: writing the image checks its layout puts the tail where this said.
    /// </summary>
    public long TailOffset
    {
        get
        {
            if (_tail is null)
            {
                throw new InvalidOperationException("the image has no tail file");
            }

            return _tail.Offset ??= IsoLayoutPlanner.TailBlock(_options, _sources, AddedFiles(forWriting: false)) * BlockSize;
        }
    }

    /// <summary>The added files with the tail and the files after it sized: as they are now, or (for writing) as they must be.</summary>
    private List<IsoAddedFile> AddedFiles(bool forWriting)
    {
        var files = new List<IsoAddedFile>(_added.Count + 1);
        foreach (var file in _added)
        {
            if (file.Placement != IsoFilePlacement.AfterTail || !forWriting)
            {
                files.Add(file);
                continue;
            }

            var info = new FileInfo(file.LocalPath!);
            if (!info.Exists)
            {
                throw new IOException($"{file.LocalPath}: does not exist, but the image places it as {file.IsoPath}");
            }

            if (info.Length > MaxExtentLength)
            {
                throw new IOException($"{file.LocalPath}: {info.Length} bytes; a file after the tail holds at most one extent ({MaxExtentLength} bytes)");
            }

            files.Add(file with { Size = info.Length });
        }

        if (_tail is { } tail)
        {
            var length = forWriting ? tail.Length ?? throw new InvalidOperationException($"the tail file {tail.IsoPath} has no length: write its contents first") : 0;
            if (length is < 0 or > MaxExtentLength)
            {
                throw new IOException($"{tail.IsoPath}: {length} bytes; the tail file holds at most one extent ({MaxExtentLength} bytes)");
            }

            files.Add(new IsoAddedFile(tail.IsoPath, null, null, length, tail.Mode, IsoFilePlacement.Tail));
        }

        return files;
    }

    /// <summary>Writes the image to <paramref name="output"/>, which may be a pipe: nothing is ever read back.</summary>
    public Task<IsoImageResult> WriteAsync(Stream output, CancellationToken cancellationToken = default) =>
        WriteAsync(output, progress: null, cancellationToken);

    /// <summary>
    /// Writes the image to <paramref name="output"/>, which may be a pipe: nothing is ever read back, and it is sought
    /// in only to place contents a source delivers out of order (see the class remarks) — unless the image has a tail
    /// file (<see cref="AddTailFile"/>): then it is the file that holds the tail, written around it and read back for
    /// the SHA-256.
    /// </summary>
    /// <param name="output">The target; the image starts at its current position 0.</param>
    /// <param name="progress">
    /// Receives <see cref="IsoWriteProgress"/> reports: one when each <see cref="IsoWriteStage"/> begins, then at most one
    /// per MiB written, and a final <see cref="IsoWriteStage.Done"/> with every byte counted. <see cref="IsoWriteProgress.BytesTotal"/>
    /// is the image's exact length from the first report on. Reports are made synchronously on the writing thread, in
    /// order; a <see cref="Progress{T}"/> without a synchronization context hands them to the thread pool, where they may
    /// be handled out of order, so a consumer that needs the order handles them in place.
    /// </param>
    /// <param name="cancellationToken">Stops the write between chunks.</param>
    public async Task<IsoImageResult> WriteAsync(Stream output, IProgress<IsoWriteProgress>? progress, CancellationToken cancellationToken = default)
    {
        if (_tail is not null && !(output.CanSeek && output.CanRead))
        {
            throw new ArgumentException("an image with a tail file is written to a seekable, readable file that already holds the tail's contents", nameof(output));
        }

        var plan = IsoLayoutPlanner.Plan(_options, _sources, AddedFiles(forWriting: true));
        if (_tail is not null && plan.TailBlock * BlockSize != TailOffset)
        {
            throw new InvalidOperationException($"the tail file moved from {TailOffset} to {plan.TailBlock * BlockSize}: nothing before it may change once its contents are written");
        }

        if (_tail is not null)
        {
            // The tail's writer left the file positioned somewhere in the tail; the image starts at 0.
            output.Position = 0;
        }

        var reporter = new IsoProgressReporter(progress, plan.TotalBytes);
        // With a tail the image is not written in stream order (the tail is already there), so it is hashed afterwards.
        using var sink = new ImageOutputStream(output, _options.ComputeSha256 && _tail is null, reporter.Observer);
        var metadata = new IsoMetadataWriter(plan);
        var files = new IsoFileDataWriter(plan, _sources, reporter);
        foreach (var region in plan.Regions)
        {
            await sink.PadToAsync(region.Offset, cancellationToken).ConfigureAwait(false);
            reporter.Enter(region.Stage, region.Name);
            var write = region switch
            {
                SystemAreaRegion => sink.WriteAsync(plan.Hybrid?.BuildSystemArea(plan.MbrBootImage) ?? new byte[region.Length], cancellationToken).AsTask(),
                VolumeDescriptorsRegion descriptors => sink.WriteAsync(metadata.BuildVolumeDescriptors(descriptors.Set), cancellationToken).AsTask(),
                BootCatalogRegion => sink.WriteAsync(metadata.BuildBootCatalog(), cancellationToken).AsTask(),
                DirectoryMetadataRegion directories => metadata.WriteDirectoryMetadataAsync(sink, directories.Set, cancellationToken),
                AddedFileRegion added => files.WriteAddedFileAsync(sink, added.Node, cancellationToken),
                TreeFilesRegion => files.WriteTreeFilesAsync(sink, cancellationToken),
                TailFileRegion tail => StepOverTail(sink, tail, reporter),
                AppendedPartitionRegion appended => IsoHybridSystemArea.WriteAppendedPartitionAsync(sink, appended.Partition, cancellationToken),
                BackupGptRegion => sink.WriteAsync(plan.Hybrid!.BuildBackupGpt(), cancellationToken).AsTask(),
                _ => throw new InvalidOperationException($"no writer for {region.GetType().Name}"),
            };
            await write.ConfigureAwait(false);
        }

        await sink.PadToAsync(plan.TotalBytes, cancellationToken).ConfigureAwait(false);
        await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        var sha256 = _tail is not null && _options.ComputeSha256 ? await HashBackAsync(output, plan.TotalBytes, cancellationToken).ConfigureAwait(false) : sink.Sha256Hex();
        reporter.Done();

        var layout = new IsoImageLayout(plan.TotalBlocks, plan.IsoBlocks, plan.CatalogBlock,
            plan.Tree.AddedNodes.ToDictionary(n => n.Path, n => n.DataBlock, StringComparer.Ordinal),
            (plan.Hybrid?.Appended ?? []).ToDictionary(a => a.Source.Number, a => (a.StartBlock, a.Length)));
        return new IsoImageResult(sink.Position, sha256, layout);
    }

    private static Task StepOverTail(ImageOutputStream sink, TailFileRegion tail, IsoProgressReporter reporter)
    {
        sink.Seek(tail.End);
        reporter.Count(tail.Length);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The SHA-256 of the first <paramref name="length"/> bytes of the written image, read back. Reading and hashing
    /// overlap: the next chunk is read on another thread while this one is hashed (the image may come from the device,
    /// not the page cache, when it was written with direct I/O). The stream is only ever used by one thread at a time.
    /// </summary>
    private static async Task<string> HashBackAsync(Stream output, long length, CancellationToken cancellationToken)
    {
        const int Chunk = 4 << 20;
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        byte[] current = System.Buffers.ArrayPool<byte>.Shared.Rent(Chunk), next = System.Buffers.ArrayPool<byte>.Shared.Rent(Chunk);
        Task<int>? reading = null;
        try
        {
            output.Position = 0;
            Task<int> ReadChunk(byte[] into, long at) => Task.Run(() =>
            {
                var want = (int)Math.Min(Chunk, length - at);
                var read = output.ReadAtLeast(into.AsSpan(0, want), want, throwOnEndOfStream: false);
                return read == want ? read : throw new IOException($"the image ends at {at + read} bytes, before the {length} it was written with");
            }, cancellationToken);

            long done = 0;
            reading = length > 0 ? ReadChunk(current, 0) : null;
            while (reading is not null)
            {
                var read = await reading.ConfigureAwait(false);
                done += read;
                reading = done < length ? ReadChunk(next, done) : null;
                sha.AppendData(current, 0, read);
                (current, next) = (next, current);
            }

            output.Position = length;
            return Convert.ToHexStringLower(sha.GetCurrentHash());
        }
        finally
        {
            // A read still running (the hash failed or was cancelled) must end before its buffer goes back to the pool.
            if (reading is not null)
            {
                await reading.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }

            System.Buffers.ArrayPool<byte>.Shared.Return(current);
            System.Buffers.ArrayPool<byte>.Shared.Return(next);
        }
    }
}

/// <summary>The image's last file, whose contents the caller writes into the output file first (<see cref="Iso9660Writer.AddTailFile"/>).</summary>
public sealed class IsoTailFile
{
    internal IsoTailFile(string isoPath, int mode)
    {
        IsoPath = isoPath;
        Mode = mode;
    }

    public string IsoPath { get; }

    internal int Mode { get; }

    /// <summary>Where its contents go, once <see cref="Iso9660Writer.TailOffset"/> planned it.</summary>
    internal long? Offset { get; set; }

    /// <summary>Its length, set once its contents are written at <see cref="Iso9660Writer.TailOffset"/>.</summary>
    public long? Length { get; set; }
}
