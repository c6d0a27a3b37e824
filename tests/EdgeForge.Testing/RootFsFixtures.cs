using System.Formats.Tar;

namespace EdgeForge.Testing;

public static partial class RootFsFixtures
{
    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int link(string oldPath, string newPath);

    /// <summary>A small root filesystem: nested directories, an executable, a symlink, a hardlink, a long name.</summary>
    public static string Create(string parent, string name = "rootfs")
    {
        var root = Path.Combine(parent, name);
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        Directory.CreateDirectory(Path.Combine(root, "usr", "bin"));
        Directory.CreateDirectory(Path.Combine(root, "var", "lib", new string('d', 120)));
        File.WriteAllText(Path.Combine(root, "etc", "os-release"), "ID=edgeforge-test\nVERSION_ID=1\n");
        File.WriteAllText(Path.Combine(root, "usr", "bin", "hello"), "#!/bin/sh\necho hello\n");
        File.SetUnixFileMode(Path.Combine(root, "usr", "bin", "hello"), (UnixFileMode)0x1ED);
        File.CreateSymbolicLink(Path.Combine(root, "usr", "bin", "hi"), "hello");
        File.WriteAllText(Path.Combine(root, "var", "lib", new string('d', 120), "state"), "long path content");
        File.WriteAllBytes(Path.Combine(root, "var", "lib", "blob.bin"), RandomBytes(300_000, seed: 7));
        if (link(Path.Combine(root, "usr", "bin", "hello"), Path.Combine(root, "usr", "bin", "hello-again")) != 0)
        {
            throw new IOException("link(2) failed");
        }

        return root;
    }

    /// <summary>Incompressible but reproducible bytes.</summary>
    public static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes an uncompressed tar with the given entries (name → content; null content = directory; "->target" = symlink).</summary>
    public static string WriteTar(string path, params (string Name, string? Content)[] entries)
    {
        using var file = File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        foreach (var (name, content) in entries)
        {
            TarEntry entry;
            if (content is null)
            {
                entry = new PaxTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)0x1ED };
            }
            else if (content.StartsWith("->", StringComparison.Ordinal))
            {
                entry = new PaxTarEntry(TarEntryType.SymbolicLink, name) { LinkName = content[2..] };
            }
            else
            {
                entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = (UnixFileMode)0x1A4, DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)) };
            }

            writer.WriteEntry(entry);
        }

        return path;
    }
}
