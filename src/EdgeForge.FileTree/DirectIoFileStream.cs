using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace EdgeForge.FileTree;

/// <summary>
/// A read/write file stream for large images written once (a SquashFS, an ISO) that moves their bytes with direct I/O
/// (Linux <c>O_DIRECT</c>, open(2)): from one aligned buffer of the process straight to the device, past the page cache.
/// </summary>
/// <remarks>
/// <para>Why: a buffered write copies every byte into a newly allocated page-cache page. On a virtual machine whose free
/// memory goes back to the host (virtio-balloon free page reporting) each such page is a host fault too: writing a
/// 335 MB file took 1.3–3.0 s of system time there against 0.14 s direct (docs/benchmarks.md). The image is read
/// once afterwards at most (its checksum), so the page cache would keep nothing worth the copy.</para>
/// <para>How: the stream caches one <see cref="WindowSize"/>-aligned window of the file in an aligned buffer. Writes
/// land in it; moving to another window writes the dirty one back in whole 4 KiB blocks (the block past the end holds
/// zeros) and reads the new one's existing bytes first, so seeking back to patch a header or rewrite a range keeps
/// the bytes around it. Reads outside the window go through a second aligned buffer. The file's logical length is
/// kept apart from its on-disk length, which whole-block writes may run past; <see cref="Flush()"/> truncates to it.
/// Direct I/O wants offsets, lengths and memory aligned to the device's logical block; 4 KiB covers every block size
/// Linux supports for it up to the page size.</para>
/// <para>Where the file system refuses <c>O_DIRECT</c> (tmpfs before Linux 6.6, some FUSE and network file systems)
/// the same code runs on an ordinary buffered descriptor, so the stream is always usable. Not thread-safe, as
/// <see cref="FileStream"/> is not.</para>
/// </remarks>
public sealed class DirectIoFileStream : Stream
{
    /// <summary>The alignment of offsets, lengths and buffers for direct I/O.</summary>
    public const int Alignment = 4096;

    /// <summary>The bytes cached for writing (and for reading): large enough that each write-back is one efficient device request.</summary>
    public const int WindowSize = 4 << 20;

    /// <summary>The least a read outside the window fetches: one SquashFS block of 64 KiB and more in one request.</summary>
    private const int MinimumRead = 128 << 10;

    private readonly SafeFileHandle _handle;
    private readonly bool _readOnly;
    private readonly unsafe byte* _window;
    private readonly unsafe byte* _readBuffer;
    private long _windowStart;
    private bool _windowDirty;
    private long _readStart = -1;
    private int _readLength;
    private long _position;
    private long _length;
    private long _diskLength;
    private bool _disposed;

    /// <summary>Opens <paramref name="path"/> for reading and writing (<paramref name="mode"/> as for <see cref="FileStream"/>), with direct I/O where the file system allows it.</summary>
    public DirectIoFileStream(string path, FileMode mode)
        : this(path, mode, FileAccess.ReadWrite)
    {
    }

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="access"/>: <see cref="FileAccess.Read"/> shares the file with
    /// other readers and never writes; <see cref="FileAccess.ReadWrite"/> owns it.
    /// </summary>
    public DirectIoFileStream(string path, FileMode mode, FileAccess access)
    {
        if (access is not (FileAccess.Read or FileAccess.ReadWrite))
        {
            throw new ArgumentOutOfRangeException(nameof(access), access, "a direct-I/O stream reads, or reads and writes");
        }

        _readOnly = access == FileAccess.Read;
        _handle = File.OpenHandle(path, mode, access, _readOnly ? FileShare.Read : FileShare.None);
        IsDirect = TrySetDirect(_handle, true);
        _diskLength = _length = RandomAccess.GetLength(_handle);
        unsafe
        {
            _window = (byte*)NativeMemory.AlignedAlloc(WindowSize, Alignment);
            _readBuffer = (byte*)NativeMemory.AlignedAlloc(WindowSize, Alignment);
        }

        if (_readOnly)
        {
            // No window to write into: one that no position falls in, so every read goes through the read buffer.
            _windowStart = -WindowSize;
        }
        else
        {
            LoadWindow(0);
        }
    }

    /// <summary>Whether the bytes bypass the page cache (false where the file system refused <c>O_DIRECT</c>).</summary>
    public bool IsDirect { get; private set; }

    /// <summary>The open file, for <see cref="RandomAccess.FlushToDisk"/> after a <see cref="Flush()"/>.</summary>
    public SafeFileHandle SafeFileHandle => _handle;

    public override bool CanRead => !_disposed;
    public override bool CanSeek => !_disposed;
    public override bool CanWrite => !_disposed && !_readOnly;
    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        return _position;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_readOnly)
        {
            throw new NotSupportedException("the stream was opened for reading");
        }

        InvalidateRead(_position, buffer.Length);
        while (!buffer.IsEmpty)
        {
            if (_position < _windowStart || _position >= _windowStart + WindowSize)
            {
                MoveWindow(_position - _position % WindowSize);
            }

            var at = (int)(_position - _windowStart);
            var count = Math.Min(buffer.Length, WindowSize - at);
            buffer[..count].CopyTo(new Span<byte>(_window + at, count));
            _windowDirty = true;
            _position += count;
            _length = Math.Max(_length, _position);
            buffer = buffer[count..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override unsafe int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var total = 0;
        while (!buffer.IsEmpty && _position < _length)
        {
            var want = (int)Math.Min(buffer.Length, _length - _position);
            int count;
            if (_position >= _windowStart && _position < _windowStart + WindowSize)
            {
                // The window is the newest copy of its range, whatever the disk holds there.
                var at = (int)(_position - _windowStart);
                count = Math.Min(want, WindowSize - at);
                new ReadOnlySpan<byte>(_window + at, count).CopyTo(buffer);
            }
            else
            {
                if (_readStart < 0 || _position < _readStart || _position >= _readStart + _readLength)
                {
                    FillReadBuffer(_position - _position % Alignment, want);
                }

                var at = (int)(_position - _readStart);
                count = Math.Min(want, _readLength - at);
                // Never past the window: its range is served from the window, which may be newer than the disk.
                if (_position < _windowStart)
                {
                    count = (int)Math.Min(count, _windowStart - _position);
                }

                new ReadOnlySpan<byte>(_readBuffer + at, count).CopyTo(buffer);
            }

            _position += count;
            total += count;
            buffer = buffer[count..];
        }

        return total;
    }

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Writes the window back and cuts the file to its logical length; the bytes are then in the file, not yet on stable storage.</summary>
    public override void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WriteBackWindow();
        if (_diskLength != _length)
        {
            RandomAccess.SetLength(_handle, _length);
            _diskLength = _length;
        }
    }

    /// <summary><see cref="Flush()"/>, then fsync(2) when <paramref name="flushToDisk"/>, as <see cref="FileStream.Flush(bool)"/>.</summary>
    public void Flush(bool flushToDisk)
    {
        Flush();
        if (flushToDisk)
        {
            RandomAccess.FlushToDisk(_handle);
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Flush();
        return Task.CompletedTask;
    }

    public override unsafe void SetLength(long value)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_readOnly)
        {
            throw new NotSupportedException("the stream was opened for reading");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(value);
        WriteBackWindow();
        RandomAccess.SetLength(_handle, value);
        _diskLength = _length = value;
        _readStart = -1;
        // As FileStream: a position past a shortened end moves to the end.
        _position = Math.Min(_position, value);
        // Bytes of the window past a shortened end read as zeros again if the file grows back over them.
        if (value < _windowStart + WindowSize)
        {
            var from = (int)Math.Max(0, value - _windowStart);
            new Span<byte>(_window + from, WindowSize - from).Clear();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (disposing && !_handle.IsClosed)
            {
                Flush();
            }
        }
        finally
        {
            _disposed = true;
            _handle.Dispose();
            unsafe
            {
                NativeMemory.AlignedFree(_window);
                NativeMemory.AlignedFree(_readBuffer);
            }

            base.Dispose(disposing);
        }
    }

    private void MoveWindow(long start)
    {
        WriteBackWindow();
        LoadWindow(start);
    }

    /// <summary>Writes the dirty window up to the logical end, rounded up to whole blocks (the rounding is zeros and is cut off by <see cref="Flush()"/>).</summary>
    private unsafe void WriteBackWindow()
    {
        if (!_windowDirty)
        {
            return;
        }

        var valid = (int)Math.Min(WindowSize, _length - _windowStart);
        var rounded = (valid + Alignment - 1) / Alignment * Alignment;
        WriteAt(new ReadOnlySpan<byte>(_window, rounded), _windowStart);
        // A read buffer filled over this range before holds what the disk had then, not these bytes.
        InvalidateRead(_windowStart, rounded);
        _diskLength = Math.Max(_diskLength, _windowStart + rounded);
        _windowDirty = false;
    }

    /// <summary>Makes the window cover [<paramref name="start"/>, +<see cref="WindowSize"/>): the file's bytes where it has some, zeros past its end.</summary>
    private unsafe void LoadWindow(long start)
    {
        _windowStart = start;
        var window = new Span<byte>(_window, WindowSize);
        var existing = (int)Math.Clamp(_length - start, 0, WindowSize);
        var read = existing == 0 ? 0 : ReadAt(window[..((existing + Alignment - 1) / Alignment * Alignment)], start);
        window[Math.Min(read, existing)..].Clear();
    }

    /// <summary>
    /// Reads the blocks from <paramref name="start"/> that hold the <paramref name="want"/> bytes asked for at the
    /// position — the whole buffer when the read carries on from the last one (a sequential read: the read-back hash),
    /// else at least <see cref="MinimumRead"/> (a duplicate's blocks read back between two writes should not cost a
    /// 4 MiB device read). A range the file has not reached on disk yet (a hole left by seeking past the end) reads as zeros.
    /// </summary>
    private unsafe void FillReadBuffer(long start, int want)
    {
        var sequential = _readStart >= 0 && start == _readStart + _readLength - _readLength % Alignment;
        var span = (int)(_position - start) + want;
        var size = sequential ? WindowSize : Math.Min(WindowSize, Math.Max(MinimumRead, (span + Alignment - 1) / Alignment * Alignment));
        var buffer = new Span<byte>(_readBuffer, size);
        var read = ReadAt(buffer, start);
        _readLength = (int)Math.Min(size, _length - start);
        if (read < _readLength)
        {
            buffer[read.._readLength].Clear();
        }

        _readStart = start;
    }

    private void InvalidateRead(long offset, int count)
    {
        if (_readStart >= 0 && offset < _readStart + _readLength && offset + count > _readStart)
        {
            _readStart = -1;
        }
    }

    private void WriteAt(ReadOnlySpan<byte> data, long offset)
    {
        try
        {
            RandomAccess.Write(_handle, data, offset);
        }
        catch (IOException) when (IsDirect && TrySetDirect(_handle, false))
        {
            // A device that wants a larger alignment than 4 KiB (or a file system that accepted O_DIRECT at open and
            // refuses it at write): the same write, buffered.
            IsDirect = false;
            RandomAccess.Write(_handle, data, offset);
        }
    }

    /// <summary>Reads whole blocks from <paramref name="offset"/> into <paramref name="into"/>; returns the bytes read (short at the end of the file).</summary>
    private int ReadAt(Span<byte> into, long offset)
    {
        var total = 0;
        while (total < into.Length)
        {
            int read;
            try
            {
                read = RandomAccess.Read(_handle, into[total..], offset + total);
            }
            catch (IOException) when (IsDirect && TrySetDirect(_handle, false))
            {
                IsDirect = false;
                continue;
            }

            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>Sets or clears O_DIRECT on the open descriptor (fcntl(2) F_SETFL); false if the file system refuses it.</summary>
    private static bool TrySetDirect(SafeFileHandle handle, bool direct)
    {
        var flag = RuntimeInformation.ProcessArchitecture switch
        {
            // O_DIRECT differs between architectures (asm-generic/fcntl.h against arch/arm64's and arch/arm's).
            Architecture.X64 or Architecture.X86 or Architecture.RiscV64 or Architecture.LoongArch64 or Architecture.S390x => 0x4000,
            Architecture.Arm64 or Architecture.Arm => 0x10000,
            Architecture.Ppc64le => 0x20000,
            _ => 0,
        };
        if (flag == 0)
        {
            return false;
        }

        var fd = (int)handle.DangerousGetHandle();
        var flags = Native.fcntl(fd, FGetFl, 0);
        if (flags < 0)
        {
            return false;
        }

        return Native.fcntl(fd, FSetFl, direct ? flags | flag : flags & ~flag) == 0;
    }

    private const int FGetFl = 3, FSetFl = 4;

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int fcntl(int fd, int command, int argument);
    }
}
