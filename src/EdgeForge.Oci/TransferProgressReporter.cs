using System.Diagnostics;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

/// <summary>
/// Reports transfer progress as text: on a terminal one line rewritten in place, otherwise (a CI log, a pipe) a
/// plain line every few seconds — bytes done of the total known so far, blobs, and the average rate.
/// </summary>
public sealed class TransferProgressReporter : ITransferProgress, IDisposable
{
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private long _bytesDone;
    private long _bytesTotal;
    private int _blobsDone;
    private int _blobsTotal;
    private string _lastLine = "";
    private bool _disposed;

    public TransferProgressReporter(TextWriter output, bool interactive, string label, TimeSpan? interval = null)
    {
        _output = output;
        _interactive = interactive;
        Label = label;
        _interval = interval ?? (interactive ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(5));
        _timer = new Timer(_ => Print(final: false), null, _interval, _interval);
    }

    public string Label { get; }

    public void BlobStarted(Descriptor blob)
    {
        Interlocked.Increment(ref _blobsTotal);
        Interlocked.Add(ref _bytesTotal, blob.Size);
    }

    public void BytesTransferred(long count) => Interlocked.Add(ref _bytesDone, count);

    public void BlobFinished(Descriptor blob, bool skipped)
    {
        Interlocked.Increment(ref _blobsDone);
        if (skipped)
        {
            // A blob the destination already had counts as done without moving a byte.
            Interlocked.Add(ref _bytesTotal, -blob.Size);
        }
    }

    public static string FormatBytes(double bytes) => bytes switch
    {
        >= 1 << 30 => $"{bytes / (1 << 30):0.00} GiB",
        >= 1 << 20 => $"{bytes / (1 << 20):0.0} MiB",
        >= 1 << 10 => $"{bytes / (1 << 10):0.0} KiB",
        _ => $"{bytes:0} B",
    };

    private void Print(bool final)
    {
        if (Volatile.Read(ref _blobsTotal) == 0)
        {
            return; // nothing started (an error before the first blob, or everything was a manifest)
        }

        var elapsed = Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        var done = Interlocked.Read(ref _bytesDone);
        var line = $"{Label}: {FormatBytes(done)} of {FormatBytes(Math.Max(Interlocked.Read(ref _bytesTotal), done))}, "
            + $"{Volatile.Read(ref _blobsDone)}/{Volatile.Read(ref _blobsTotal)} blobs, {FormatBytes(done / elapsed)}/s";
        lock (_lock)
        {
            if (!final && line == _lastLine)
            {
                return;
            }

            _lastLine = line;
            if (_interactive)
            {
                _output.Write("\r" + line + "\u001b[K" + (final ? "\n" : ""));
            }
            else
            {
                _output.WriteLine(line);
            }

            _output.Flush();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _timer.Dispose();
        Print(final: true);
    }
}
