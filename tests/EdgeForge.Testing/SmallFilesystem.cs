namespace EdgeForge.Testing;

/// <summary>
/// A tmpfs of a few KiB or MiB mounted on a scratch directory — a disk that fills up after <c>size</c> bytes, or one
/// remounted read-only: where hostile-output tests point a command's output. Needs root (CAP_SYS_ADMIN), as CI has;
/// unmounted on dispose.
/// </summary>
public sealed class SmallFilesystem : IDisposable
{
    private readonly TestDirectory _scratch = new();

    private SmallFilesystem(long size, bool readOnly)
    {
        Path = _scratch.Combine("mnt");
        Directory.CreateDirectory(Path);
        Mount("-t", "tmpfs", "-o", $"size={size}", "tmpfs", Path);
        if (readOnly)
        {
            Mount("-o", "remount,ro", Path);
        }
    }

    public string Path { get; }

    /// <summary>Mounted, but holding at most <paramref name="size"/> bytes: writes past it fail with ENOSPC.</summary>
    public static SmallFilesystem Full(long size) => new(size, readOnly: false);

    /// <summary>Mounted read-only: every write fails with EROFS, for root too.</summary>
    public static SmallFilesystem ReadOnly() => new(64 << 10, readOnly: true);

    /// <summary>Everything the filesystem holds (names only): what "nothing left behind" compares.</summary>
    public IReadOnlyList<string> Entries() => [.. Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories).Select(e => System.IO.Path.GetRelativePath(Path, e))];

    private static void Mount(params string[] arguments)
    {
        var result = ExternalTool.Run("mount", arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"mount {string.Join(' ', arguments)} failed (root is needed for the hostile-output tests): {result.Error}");
        }
    }

    public void Dispose()
    {
        ExternalTool.Run("umount", "--lazy", Path);
        _scratch.Dispose();
    }
}
