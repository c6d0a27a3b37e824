using System.Net.Sockets;
using System.Text;

namespace EdgeForge.SquashFs.Tests;

/// <summary>
/// A directory on disk with every kind of thing a root filesystem holds, sized around a given block size: deep paths,
/// 255-byte and non-ASCII names, symlinks, hardlinks, character and block devices, a fifo, a socket, empty files,
/// files of exactly one block, one block + 1 byte and many blocks, all-zero files, duplicates, a directory of
/// thousands of entries (large enough for a directory index), random data that compression cannot shrink (stored
/// raw), several owners, modes, mtimes and xattrs.
/// </summary>
internal sealed class SampleTree : IDisposable
{
    public const int CrowdedDirectoryEntries = 3000;

    public SampleTree(int blockSize)
    {
        Root = Directory.CreateTempSubdirectory("ef-sqfs-src-").FullName;
        var random = new Random(20261122);
        byte[] Bytes(int length)
        {
            var bytes = new byte[length];
            random.NextBytes(bytes);

            // Half the bytes repeat a pattern, so blocks compress but not to nothing.
            for (var i = 0; i < length; i += 2)
            {
                bytes[i] = (byte)(i % 251);
            }

            return bytes;
        }

        Write("etc/hostname", Encoding.ASCII.GetBytes("edge-host\n"));
        Write("etc/empty", []);
        Write("blocks/exactly-one-block", Bytes(blockSize));
        Write("blocks/one-block-plus-one", Bytes(blockSize + 1));
        Write("blocks/many-blocks", Bytes(blockSize * 7 + 123));
        Write("blocks/zeros-one-block", new byte[blockSize]);
        Write("blocks/zeros-many-blocks-and-tail", new byte[blockSize * 3 + 17]);
        var incompressible = new byte[blockSize * 2 + 5];
        random.NextBytes(incompressible);
        Write("blocks/incompressible", incompressible);
        var holey = Bytes(blockSize * 4);
        Array.Clear(holey, blockSize, blockSize * 2);
        Write("blocks/hole-in-the-middle", holey);
        var shared = Bytes(blockSize * 2 + 999);
        Write("duplicates/first", shared);
        Write("duplicates/second", shared);
        Write("duplicates/nested/third", shared);
        Write("duplicates/small-a", Encoding.ASCII.GetBytes("same small contents\n"));
        Write("duplicates/small-b", Encoding.ASCII.GetBytes("same small contents\n"));
        Write("duplicates/empty-copy", []);

        var deep = string.Join('/', Enumerable.Range(0, 40).Select(i => $"level{i:D2}"));
        Write($"{deep}/bottom.txt", Encoding.ASCII.GetBytes("deep down\n"));
        Write($"names/{new string('L', 255)}", Encoding.ASCII.GetBytes("a 255-byte name\n"));
        Write("names/Grüße-日本語-ñandú-🚀.txt", Encoding.UTF8.GetBytes("non-ASCII name\n"));
        Write("names/zz-Ünïcödé", []);
        Write("names/a space and 'quotes'", []);

        for (var i = 0; i < CrowdedDirectoryEntries; i++)
        {
            Write($"crowded/entry-{i:D5}-{new string((char)('a' + i % 26), i % 40)}", i % 3 == 0 ? [] : Encoding.ASCII.GetBytes($"entry {i}\n"));
        }

        Directory.CreateDirectory(Path.Combine(Root, "empty-dir"));
        Directory.CreateDirectory(Path.Combine(Root, "dev"));
        Directory.CreateDirectory(Path.Combine(Root, "links"));
        File.CreateSymbolicLink(Path.Combine(Root, "links/relative"), "../etc/hostname");
        File.CreateSymbolicLink(Path.Combine(Root, "links/absolute"), "/etc/hostname");
        File.CreateSymbolicLink(Path.Combine(Root, "links/dangling"), "nowhere/at/all");
        File.CreateSymbolicLink(Path.Combine(Root, "links/long-target"), string.Join('/', Enumerable.Repeat("segment", 300)));
        ExternalTool.Output("ln", Path.Combine(Root, "etc/hostname"), Path.Combine(Root, "links/hardlink-to-hostname"));
        ExternalTool.Output("ln", Path.Combine(Root, "blocks/many-blocks"), Path.Combine(Root, "links/hardlink-to-many-blocks"));
        ExternalTool.Output("mknod", Path.Combine(Root, "dev/null"), "c", "1", "3");
        ExternalTool.Output("mknod", Path.Combine(Root, "dev/big-minor"), "c", "250", "300000");
        ExternalTool.Output("mknod", Path.Combine(Root, "dev/sda1"), "b", "8", "1");
        ExternalTool.Output("mkfifo", Path.Combine(Root, "dev/fifo"));
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(Root, "dev/socket")));
        }

        ExternalTool.Output("setfattr", "-n", "user.edgeforge", "-v", "yes", Path.Combine(Root, "etc/hostname"));
        ExternalTool.Output("setfattr", "-n", "user.binary", "-v", "0x00ff10", Path.Combine(Root, "etc/hostname"));
        ExternalTool.Output("setfattr", "-n", "security.capability", "-v", "0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=", Path.Combine(Root, "blocks/many-blocks"));
        ExternalTool.Output("setfattr", "-n", "user.on-a-directory", "-v", "dir", Path.Combine(Root, "duplicates"));
        ExternalTool.Output("setfattr", "-n", "user.same", "-v", "1", Path.Combine(Root, "duplicates/small-a"));
        ExternalTool.Output("setfattr", "-n", "user.same", "-v", "1", Path.Combine(Root, "duplicates/small-b"));

        ExternalTool.Output("chown", "-h", "1000:100", Path.Combine(Root, "names/Grüße-日本語-ñandú-🚀.txt"));
        ExternalTool.Output("chown", "-h", "4000000:65534", Path.Combine(Root, "links/relative"));
        ExternalTool.Output("chown", "-R", "33:33", Path.Combine(Root, "crowded"));
        File.SetUnixFileMode(Path.Combine(Root, "blocks/exactly-one-block"), (UnixFileMode)Convert.ToInt32("4755", 8));
        File.SetUnixFileMode(Path.Combine(Root, "empty-dir"), (UnixFileMode)Convert.ToInt32("1777", 8));
        File.SetUnixFileMode(Path.Combine(Root, "etc/empty"), (UnixFileMode)Convert.ToInt32("0600", 8));
        File.SetUnixFileMode(Path.Combine(Root, "dev/sda1"), (UnixFileMode)Convert.ToInt32("0660", 8));

        // Modification times last, deepest first, since creating a child changes its parent's.
        var time = new DateTime(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);
        foreach (var path in Directory.EnumerateFileSystemEntries(Root, "*", SearchOption.AllDirectories).OrderByDescending(p => p.Count(c => c == '/')).ThenBy(p => p, StringComparer.Ordinal))
        {
            if (new FileInfo(path).LinkTarget is null && !path.EndsWith("/dev/socket", StringComparison.Ordinal))
            {
                File.SetLastWriteTimeUtc(path, time);
                time = time.AddMinutes(7);
            }
        }
    }

    public string Root { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private void Write(string relative, byte[] contents)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, contents);
    }
}
