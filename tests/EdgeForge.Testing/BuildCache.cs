using System.Security.Cryptography;
using System.Text;

namespace EdgeForge.Testing;

/// <summary>
/// Directories the tests build once and then only read (the test OS, its initramfs, GRUB boot assets), shared by every
/// test process on the machine. A directory is named by a hash of what it is made of — the toolkit's own build (its
/// recipes) and the host files it copies — so a changed recipe or an upgraded package gets a new one; the first
/// process builds it under an exclusive lock while the others wait, and publishes it by a rename, so no reader ever
/// sees half of one.
/// </summary>
public static class BuildCache
{
    /// <summary>Where the cache lives: <c>EDGEFORGE_TEST_CACHE</c>, else /tmp/edgeforge-test-cache.</summary>
    public static string Root => Environment.GetEnvironmentVariable("EDGEFORGE_TEST_CACHE") is { Length: > 0 } root
        ? root
        : Path.Combine(Path.GetTempPath(), "edgeforge-test-cache");

    /// <summary>
    /// The directory <paramref name="name"/>-KEY, where KEY hashes <paramref name="ingredients"/> and the toolkit's
    /// build; <paramref name="build"/> fills an empty directory when there is none yet. Callers must not change it.
    /// </summary>
    public static async Task<string> GetOrBuildAsync(string name, IEnumerable<string> ingredients, Func<string, Task> build)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', ingredients.Prepend(typeof(BuildCache).Assembly.ManifestModule.ModuleVersionId.ToString())))))[..16];
        var directory = Path.Combine(Root, $"{name}-{key}");
        if (Directory.Exists(directory))
        {
            return directory;
        }

        Directory.CreateDirectory(Root);
        await using var held = await LockAsync(directory + ".lock");
        if (Directory.Exists(directory))
        {
            return directory;
        }

        var partial = $"{directory}.partial-{Environment.ProcessId}";
        if (Directory.Exists(partial))
        {
            Directory.Delete(partial, recursive: true);
        }

        Directory.CreateDirectory(partial);
        try
        {
            await build(partial);
            Directory.Move(partial, directory);
        }
        catch
        {
            Directory.Delete(partial, recursive: true);
            throw;
        }

        return directory;
    }

    /// <summary>What a copied host file contributes to a key: its path, size and modification time (a package upgrade changes them).</summary>
    public static string Fingerprint(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{path}:{file.Length}:{file.LastWriteTimeUtc.Ticks}" : $"{path}:missing";
    }

    // FileShare.None takes an exclusive flock(2) on Unix; it is refused (IOException) while another process, or another
    // test class of this one, holds it. A waiter gives up after a bound far above any build it waits for.
    private static async Task<FileStream> LockAsync(string path)
    {
        var deadline = DateTime.UtcNow.AddMinutes(20);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
