namespace EdgeForge.Testing;

/// <summary>
/// A tiny but real root filesystem in a scratch directory: Debian's static busybox with its applets linked,
/// /etc/passwd and an empty resolv.conf; and <see cref="Populate"/>, the one way the toolkit lays busybox into a tree
/// (the test OS, its initramfs, the guest-kernel initramfs).
/// </summary>
public sealed class BusyboxRootfs : IDisposable
{
    /// <summary>The applets the RUN sandbox tests call by name.</summary>
    public static readonly string[] CommonApplets = ["sh", "echo", "rm", "mkdir", "cat", "ln", "chmod", "chown", "id", "ls", "touch", "env", "sleep", "mv"];

    /// <param name="withSystemDirectories">Whether /proc and /dev exist (the sandbox creates missing mount points).</param>
    /// <param name="busybox">Another architecture's static busybox (<see cref="DebianArm64Packages.BusyboxBinary"/>); the host's when null.</param>
    public BusyboxRootfs(bool withSystemDirectories = true, string? busybox = null)
    {
        Root = Directory.CreateTempSubdirectory("ef-rootfs-").FullName;
        File.SetUnixFileMode(Root, (UnixFileMode)Convert.ToInt32("755", 8)); // temp directories are 0700: other users could not enter
        Populate(Root, withSystemDirectories ? ["etc", "tmp", "proc", "dev"] : ["etc", "tmp"], CommonApplets, busybox);
        File.WriteAllText(Path.Combine(Root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nedge:x:1000:1000::/home/edge:/bin/sh\n");
        File.WriteAllText(Path.Combine(Root, "etc", "resolv.conf"), "");
        File.WriteAllText(Path.Combine(Root, "etc", "unwanted"), "remove me\n");
    }

    /// <summary>Debian's static busybox (package busybox-static): it runs in any root, no libraries needed.</summary>
    public static string Binary => new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException("busybox is missing: install busybox-static (scripts/test-packages.txt)");

    public string Root { get; }

    /// <summary>
    /// Creates <paramref name="directories"/> under <paramref name="root"/> and bin/busybox (the host's, or
    /// <paramref name="binary"/>: another architecture's static busybox) with a symlink per applet.
    /// </summary>
    public static void Populate(string root, IEnumerable<string> directories, IEnumerable<string> applets, string? binary = null)
    {
        foreach (var directory in directories.Append("bin"))
        {
            Directory.CreateDirectory(Path.Combine(root, directory));
        }

        var busybox = Path.Combine(root, "bin", "busybox");
        File.Copy(binary ?? Binary, busybox);
        File.SetUnixFileMode(busybox, (UnixFileMode)0x1ED);
        foreach (var applet in applets)
        {
            File.CreateSymbolicLink(Path.Combine(root, "bin", applet), "busybox");
        }
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
