using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>Source trees on the local disk with every kind of entry the writers must carry.</summary>
internal static class TestTrees
{
    public const string DeepDirectory = "deep/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11/l12";
    public static readonly string LongName = new string('n', 180) + "-long-name-that-exceeds-every-iso9660-and-joliet-limit.data";
    public const string NonAsciiName = "Grüße-日本語-ñandú.txt";
    public const string EmojiName = "smile-\U0001F600.txt";
    public static readonly string LongSymlinkTarget = string.Join('/', Enumerable.Range(0, 30).Select(i => $"component{i:D2}")) + "/" + new string('t', 200);

    /// <summary>A tree with deep paths, long and non-ASCII names, symlinks, hardlinks, devices, a fifo, empty files, odd modes and owners.</summary>
    public static void BuildRich(string root)
    {
        Directory.CreateDirectory(root);
        var deep = Path.Combine(root, DeepDirectory);
        Directory.CreateDirectory(deep);
        Write(Path.Combine(deep, "bottom.txt"), "at the bottom of a twelve-level hierarchy\n");
        Write(Path.Combine(root, LongName), "long name contents\n");
        Write(Path.Combine(root, NonAsciiName), "non-ASCII name\n");
        Write(Path.Combine(root, EmojiName), "outside the BMP\n");
        Directory.CreateDirectory(Path.Combine(root, "dir", "sub"));
        Write(Path.Combine(root, "dir", "file.txt"), "plain file\n");
        Write(Path.Combine(root, "dir", "FILE.TXT"), "same ISO name after upper-casing\n");
        Write(Path.Combine(root, "dir", "sub", "a.b.c.d"), "dots\n");
        foreach (var size in new[] { 1, 2047, 2048, 2049, 65537, 1 << 20 })
        {
            WriteRandom(Path.Combine(root, "sizes", $"size-{size}.bin"), size, size);
        }

        File.WriteAllBytes(Path.Combine(root, "empty-1"), []);
        File.WriteAllBytes(Path.Combine(root, "dir", "empty-2"), []);
        File.CreateSymbolicLink(Path.Combine(root, "link-relative"), "dir/file.txt");
        File.CreateSymbolicLink(Path.Combine(root, "link-absolute"), "/etc/hostname");
        File.CreateSymbolicLink(Path.Combine(root, "dir", "sub", "link-parent"), "../../dir/./file.txt");
        File.CreateSymbolicLink(Path.Combine(root, "link-long"), LongSymlinkTarget);
        File.CreateSymbolicLink(Path.Combine(root, "link-dangling"), "nowhere");
        File.CreateSymbolicLink(Path.Combine(root, "link-huge-component"), "../" + new string('h', 300) + "/end");
        Write(Path.Combine(root, "hard-a"), "shared by two names\n");
        Run("ln", Path.Combine(root, "hard-a"), Path.Combine(root, "dir", "hard-b"));
        Run("mknod", Path.Combine(root, "dev-null"), "c", "1", "3");
        Run("mknod", Path.Combine(root, "dev-loop7"), "b", "7", "7");
        Run("mkfifo", Path.Combine(root, "fifo"));
        Write(Path.Combine(root, "secret"), "mode 0600, owned by 1234:5678\n");
        File.SetUnixFileMode(Path.Combine(root, "secret"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Run("chown", "1234:5678", Path.Combine(root, "secret"));
        Write(Path.Combine(root, "setuid-tool"), "#!/bin/sh\n");
        Run("chmod", "4755", Path.Combine(root, "setuid-tool"));
        Directory.CreateDirectory(Path.Combine(root, "sticky"));
        Run("chmod", "1777", Path.Combine(root, "sticky"));
        Run("chown", "-h", "42:43", Path.Combine(root, "link-relative"));
        SetTimes(root, 1_700_000_000);
    }

    /// <summary>Thousands of small files spread over a hundred directories.</summary>
    public static void BuildMany(string root, int files)
    {
        for (var i = 0; i < files; i++)
        {
            var dir = Path.Combine(root, $"group-{i % 100:D3}", $"sub-{i % 7}");
            Directory.CreateDirectory(dir);
            Write(Path.Combine(dir, $"entry-{i:D5}-with-a-fairly-long-name.txt"), $"file number {i}\n" + new string('x', i % 3000));
        }

        SetTimes(root, 1_600_000_000);
    }

    public static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(false));
    }

    public static void WriteRandom(string path, int size, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Fixed mtimes everywhere (lstat semantics, so symlinks themselves too) to make listings predictable.</summary>
    public static void SetTimes(string root, long seconds)
    {
        Run("find", root, "-exec", "touch", "-h", "-d", "@" + seconds, "{}", "+");
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public static void Run(string tool, params string[] arguments)
    {
        var result = ExternalTool.Run(tool, arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)}: {result.Error}");
        }
    }
}

/// <summary>
/// A file stream that turns whole blocks of zeros into holes, so a test image with a 4 GiB sparse file stays sparse on
/// disk. The writer under test still sees a plain forward-only stream.
/// </summary>
internal sealed class SparseFileStream(string path) : Stream
{
    private readonly FileStream _file = new(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IndexOfAnyExcept((byte)0) < 0)
        {
            _file.Seek(buffer.Length, SeekOrigin.Current);
        }
        else
        {
            _file.Write(buffer);
        }

        _length += buffer.Length;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
        _file.SetLength(_length);
        _file.Flush();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Flush();
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
