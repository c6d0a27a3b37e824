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
/// hashes in stream order fails loudly.
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

    /// <summary>Writes the image to <paramref name="output"/>, which may be a pipe: nothing is ever read back.</summary>
    public Task<IsoImageResult> WriteAsync(Stream output, CancellationToken cancellationToken = default) =>
        WriteAsync(output, progress: null, cancellationToken);

    /// <summary>
    /// Writes the image to <paramref name="output"/>, which may be a pipe: nothing is ever read back, and it is sought
    /// in only to place contents a source delivers out of order (see the class remarks).
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
        var plan = IsoLayoutPlanner.Plan(_options, _sources, _added);
        var reporter = new IsoProgressReporter(progress, plan.TotalBytes);
        using var sink = new ImageOutputStream(output, _options.ComputeSha256, reporter.Observer);
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
                AppendedPartitionRegion appended => IsoHybridSystemArea.WriteAppendedPartitionAsync(sink, appended.Partition, cancellationToken),
                BackupGptRegion => sink.WriteAsync(plan.Hybrid!.BuildBackupGpt(), cancellationToken).AsTask(),
                _ => throw new InvalidOperationException($"no writer for {region.GetType().Name}"),
            };
            await write.ConfigureAwait(false);
        }

        await sink.PadToAsync(plan.TotalBytes, cancellationToken).ConfigureAwait(false);
        await sink.FlushAsync(cancellationToken).ConfigureAwait(false);
        reporter.Done();

        var layout = new IsoImageLayout(plan.TotalBlocks, plan.IsoBlocks, plan.CatalogBlock,
            plan.Tree.AddedNodes.ToDictionary(n => n.Path, n => n.DataBlock, StringComparer.Ordinal),
            (plan.Hybrid?.Appended ?? []).ToDictionary(a => a.Source.Number, a => (a.StartBlock, a.Length)));
        return new IsoImageResult(sink.Position, sink.Sha256Hex(), layout);
    }
}
