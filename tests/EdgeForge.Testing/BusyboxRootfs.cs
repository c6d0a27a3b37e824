namespace EdgeForge.Testing;

/// <summary>A tiny but real root filesystem: Debian's static busybox with its applets linked, /etc/passwd and an empty resolv.conf.</summary>
public sealed class BusyboxRootfs : IDisposable
{
    public BusyboxRootfs(bool withSystemDirectories = true)
    {
        Root = Directory.CreateTempSubdirectory("ef-rootfs-").FullName;
        File.SetUnixFileMode(Root, (UnixFileMode)Convert.ToInt32("755", 8)); // temp directories are 0700: other users could not enter
        Directory.CreateDirectory(Path.Combine(Root, "bin"));
        Directory.CreateDirectory(Path.Combine(Root, "etc"));
        Directory.CreateDirectory(Path.Combine(Root, "tmp"));
        if (withSystemDirectories)
        {
            Directory.CreateDirectory(Path.Combine(Root, "proc"));
            Directory.CreateDirectory(Path.Combine(Root, "dev"));
        }

        const string busybox = "/bin/busybox";
        File.Exists(busybox).ShouldBeTrue("busybox-static is needed (scripts/test-packages.txt)");
        File.Copy(busybox, Path.Combine(Root, "bin", "busybox"));
        foreach (var applet in new[] { "sh", "echo", "rm", "mkdir", "cat", "ln", "chmod", "chown", "id", "ls", "touch", "env", "sleep", "mv" })
        {
            File.CreateSymbolicLink(Path.Combine(Root, "bin", applet), "busybox");
        }

        File.WriteAllText(Path.Combine(Root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nedge:x:1000:1000::/home/edge:/bin/sh\n");
        File.WriteAllText(Path.Combine(Root, "etc", "resolv.conf"), "");
        File.WriteAllText(Path.Combine(Root, "etc", "unwanted"), "remove me\n");
    }

    public string Root { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
