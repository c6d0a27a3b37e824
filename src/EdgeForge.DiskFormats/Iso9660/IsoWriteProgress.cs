namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>What the ISO writer is writing, in image order.</summary>
public enum IsoWriteStage
{
    /// <summary>The 16-block system area: zeros, or the hybrid MBR and primary GPT.</summary>
    SystemArea,

    /// <summary>The volume descriptor set(s).</summary>
    VolumeDescriptors,

    /// <summary>The El Torito boot catalog.</summary>
    BootCatalog,

    /// <summary>Path tables, directory records, Rock Ridge continuation areas and the Joliet tree.</summary>
    Directories,

    /// <summary>Files added with <see cref="Iso9660Writer.AddFile(string, string, int)"/> or its in-memory overload (boot images, configs).</summary>
    AddedFiles,

    /// <summary>The contents of the file trees, in the order their sources deliver them.</summary>
    TreeFiles,

    /// <summary>Partitions appended after the ISO volume (the UEFI ESP).</summary>
    AppendedPartitions,

    /// <summary>The backup GPT at the end of a hybrid image.</summary>
    BackupGpt,

    /// <summary>Everything is written and flushed.</summary>
    Done,
}

/// <summary>
/// A progress report of <see cref="Iso9660Writer.WriteAsync(Stream, IProgress{IsoWriteProgress}?, CancellationToken)"/>.
/// </summary>
/// <param name="Stage">What is being written.</param>
/// <param name="BytesWritten">
/// Bytes of the image written so far, zero padding included; the holes a seekable target keeps for contents delivered
/// out of order count only in the final <see cref="IsoWriteStage.Done"/> report.
/// </param>
/// <param name="BytesTotal">The image's length, known from the layout before the first byte is written.</param>
/// <param name="File">The file being copied (an ISO path, or the local path of an appended partition); null outside file data.</param>
public readonly record struct IsoWriteProgress(IsoWriteStage Stage, long BytesWritten, long BytesTotal, string? File);

/// <summary>
/// Turns the sink's byte counts into <see cref="IsoWriteProgress"/> reports: one at every stage change and then at
/// most one per <see cref="Interval"/> bytes, so thousands of small files or a multi-gigabyte one cost a bounded number of reports.
/// </summary>
internal sealed class IsoProgressReporter(IProgress<IsoWriteProgress>? progress, long totalBytes)
{
    public const long Interval = 1 << 20;

    private long _written;
    private long _reported = -1;
    private IsoWriteStage? _stage;
    private string? _file;

    /// <summary>The sink's write observer, or null when nobody listens (the sink then costs nothing extra).</summary>
    public Action<int>? Observer => progress is null ? null : Written;

    public void Enter(IsoWriteStage stage, string? file)
    {
        _file = file;
        if (stage != _stage)
        {
            _stage = stage;
            Report();
        }
    }

    public void Done()
    {
        _stage = IsoWriteStage.Done;
        _file = null;
        _written = totalBytes;
        Report();
    }

    /// <summary>Counts bytes already in place (the tail file) as written.</summary>
    public void Count(long bytes)
    {
        _written += bytes;
        if (_written - _reported >= Interval)
        {
            Report();
        }
    }

    private void Written(int bytes) => Count(bytes);

    private void Report()
    {
        if (progress is null || _stage is not { } stage)
        {
            return;
        }

        _reported = _written;
        progress.Report(new IsoWriteProgress(stage, _written, totalBytes, _file));
    }
}
