using System.Diagnostics;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.Oci;
using EdgeForge.Oci.Model;
using EdgeForge.SquashFs;

namespace EdgeForge.Build.Pipeline;

/// <summary>
/// One running step as its observer sees it: a <see cref="BuildEventKind.Started"/> event when it begins, messages,
/// byte progress and exactly one <see cref="BuildEventKind.Finished"/> or <see cref="BuildEventKind.Failed"/> at the
/// end. Every long operation reports through one of these — the pipeline's steps and the standalone commands
/// (<c>image copy</c>, <c>content build</c>, <c>fs squashfs</c>) — so a terminal, a log and <c>--json</c> see the same
/// events whatever produced them.
/// </summary>
/// <remarks>
/// Progress arrives from many threads (parallel blob transfers, SquashFS workers) and far more often than anyone can
/// read; it is accumulated here and emitted at most every <see cref="ProgressInterval"/>, plus once at the end so the
/// last figure is exact. Totals may grow while a step runs (a transfer learns each blob's size when it starts it).
/// </remarks>
public sealed class StepScope : ITransferProgress, IProgress<SquashFsProgress>, IProgress<IsoWriteProgress>
{
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    private readonly IBuildObserver _observer;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private long _bytes;
    private long _total;
    private bool _hasTotal;
    private bool _hasProgress;
    private long _lastEmitTicks = -ProgressInterval.Ticks;
    private int _ended;

    private StepScope(IBuildObserver observer, string name)
    {
        _observer = observer;
        Name = name;
    }

    public string Name { get; }

    public TimeSpan Elapsed => _clock.Elapsed;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Starts a step: emits its <see cref="BuildEventKind.Started"/> event with <paramref name="title"/>.</summary>
    public static StepScope Start(IBuildObserver observer, string name, string? title)
    {
        var scope = new StepScope(observer, name);
        observer.OnEvent(new BuildEvent(DateTimeOffset.UtcNow, name, BuildEventKind.Started, title));
        return scope;
    }

    /// <summary>Runs <paramref name="work"/> as a step: started, then finished with its summary, or failed with the error's message.</summary>
    public static async Task<T> RunAsync<T>(IBuildObserver observer, string name, string? title, Func<StepScope, Task<T>> work, Func<T, string?>? summary = null)
    {
        var scope = Start(observer, name, title);
        try
        {
            var result = await work(scope).ConfigureAwait(false);
            scope.Finish(summary?.Invoke(result));
            return result;
        }
        catch (Exception e)
        {
            scope.Fail(e.Message);
            throw;
        }
    }

    public void Message(string text) => _observer.OnEvent(new BuildEvent(DateTimeOffset.UtcNow, Name, BuildEventKind.Message, text));

    /// <summary>A message of the running stage <paramref name="current"/>, or, between stages, of the enclosing step <paramref name="step"/>.</summary>
    public static void Message(IBuildObserver observer, StepScope? current, string step, string text)
    {
        if (current is null)
        {
            observer.OnEvent(new BuildEvent(DateTimeOffset.UtcNow, step, BuildEventKind.Message, text));
        }
        else
        {
            current.Message(text);
        }
    }

    /// <summary>Absolute progress: <paramref name="bytes"/> done of <paramref name="total"/> (null: not known).</summary>
    public void Report(long bytes, long? total)
    {
        lock (_lock)
        {
            _bytes = bytes;
            _hasTotal = total is not null;
            _total = total ?? 0;
            _hasProgress = true;
        }

        EmitProgress(force: false);
    }

    /// <summary>Relative progress: <paramref name="count"/> more bytes done.</summary>
    public void Add(long count)
    {
        Interlocked.Add(ref _bytes, count);
        _hasProgress = true;
        EmitProgress(force: false);
    }

    /// <summary>More work became known: the total grows by <paramref name="count"/> bytes.</summary>
    public void AddTotal(long count)
    {
        lock (_lock)
        {
            _total += count;
            _hasTotal = true;
        }
    }

    /// <summary>Ends the step successfully (once; later calls do nothing).</summary>
    public void Finish(string? summary = null)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        EmitProgress(force: true);
        _observer.OnEvent(new BuildEvent(DateTimeOffset.UtcNow, Name, BuildEventKind.Finished, summary, Elapsed: _clock.Elapsed));
    }

    /// <summary>Ends the step as failed (once; later calls do nothing).</summary>
    public void Fail(string message)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        _observer.OnEvent(new BuildEvent(DateTimeOffset.UtcNow, Name, BuildEventKind.Failed, message, Elapsed: _clock.Elapsed));
    }

    void ITransferProgress.BlobStarted(Descriptor blob) => AddTotal(blob.Size);

    void ITransferProgress.BytesTransferred(long count) => Add(count);

    void ITransferProgress.BlobFinished(Descriptor blob, bool skipped)
    {
        if (skipped)
        {
            // A blob the destination already had is no work: it leaves the total instead of counting as done.
            AddTotal(-blob.Size);
        }
    }

    void IProgress<SquashFsProgress>.Report(SquashFsProgress value)
    {
        if (value.Stage is SquashFsStage.Data or SquashFsStage.Metadata or SquashFsStage.Done)
        {
            Report(value.BytesDone, value.BytesTotal);
        }
    }

    void IProgress<IsoWriteProgress>.Report(IsoWriteProgress value) => Report(value.BytesWritten, value.BytesTotal);

    private void EmitProgress(bool force)
    {
        if (!_hasProgress)
        {
            return;
        }

        long bytes;
        long? total;
        lock (_lock)
        {
            var now = _clock.Elapsed.Ticks;
            if (!force && now - _lastEmitTicks < ProgressInterval.Ticks)
            {
                return;
            }

            _lastEmitTicks = now;
            bytes = Interlocked.Read(ref _bytes);
            total = _hasTotal ? Math.Max(_total, bytes) : null;
        }

        _observer.OnEvent(new BuildEvent(DateTimeOffset.UtcNow, Name, BuildEventKind.Progress, null, bytes, total));
    }
}

/// <summary>
/// A library operation's stages as steps of their own (<c>PARENT/stage</c>): each new stage finishes the one before,
/// so a library that only says "now in stage X, N of M bytes" (a content build) shows as the same step events as the
/// pipeline's.
/// </summary>
public sealed class StageSequence<TStage>(IBuildObserver observer, string parent) where TStage : struct, Enum
{
    private readonly Lock _lock = new();
    private StepScope? _current;
    private TStage? _stage;

    public void Report(TStage stage, long bytes, long total)
    {
        StepScope current;
        lock (_lock)
        {
            if (_stage is not { } known || !EqualityComparer<TStage>.Default.Equals(known, stage))
            {
                _current?.Finish();
                _stage = stage;
                _current = StepScope.Start(observer, $"{parent}/{stage.ToString().ToLowerInvariant()}", null);
            }

            current = _current!;
        }

        if (total > 0 || bytes > 0)
        {
            current.Report(bytes, total > 0 ? total : null);
        }
    }

    public void Message(string text)
    {
        StepScope? current;
        lock (_lock)
        {
            current = _current;
        }

        StepScope.Message(observer, current, parent, text);
    }

    /// <summary>Ends the last stage: finished, or failed with <paramref name="failure"/>.</summary>
    public void End(string? failure = null)
    {
        lock (_lock)
        {
            if (failure is null)
            {
                _current?.Finish();
            }
            else
            {
                _current?.Fail(failure);
            }
        }
    }
}
