using System.Globalization;

namespace EdgeForge.Testing;

/// <summary>Which process listens on a loopback TCP port, from /proc: the kernel's answer, not whoever replies to a connect.</summary>
internal static class LoopbackListeners
{
    private const string ListenState = "0A";

    /// <summary>Whether process <paramref name="pid"/> holds a listening socket on 127.0.0.1:<paramref name="port"/>.</summary>
    public static bool Owns(int pid, int port)
    {
        // /proc/net/tcp: "sl local_address rem_address st … inode", addresses as little-endian hex "0100007F:1F90".
        var local = $"0100007F:{port.ToString("X4", CultureInfo.InvariantCulture)}";
        var inodes = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 9 && f[1] == local && f[3] == ListenState)
            .Select(f => $"socket:[{f[9]}]")
            .ToHashSet(StringComparer.Ordinal);
        if (inodes.Count == 0)
        {
            return false;
        }

        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Any(fd => new FileInfo(fd).LinkTarget is { } target && inodes.Contains(target));
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
