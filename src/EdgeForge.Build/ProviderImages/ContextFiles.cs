using System.Security.Cryptography;
using System.Text;
using EdgeForge.FileTree;

namespace EdgeForge.Build.ProviderImages;

/// <summary>
/// The files of the build context (the project directory) a COPY or ADD names: glob expansion, <c>.dockerignore</c>,
/// and a content fingerprint for cache keys.
/// </summary>
public sealed class ContextFiles(string contextDirectory, DockerIgnore ignore)
{
    public string Root { get; } = Path.GetFullPath(contextDirectory);

    /// <summary>The context paths a source names (a file, a directory, or a pattern in its last component).</summary>
    public IReadOnlyList<string> Expand(string source)
    {
        var normalised = source.Replace('\\', '/').Trim('/');
        if (normalised.Length == 0 || normalised == ".")
        {
            return [""];
        }

        var directory = Path.GetDirectoryName(normalised)?.Replace('\\', '/') ?? "";
        var name = Path.GetFileName(normalised);
        if (name.IndexOfAny(['*', '?', '[']) < 0)
        {
            return ignore.IsExcluded(normalised) ? [] : [normalised];
        }

        var full = Path.Combine(Root, directory);
        if (!Directory.Exists(full))
        {
            return [];
        }

        return Directory.EnumerateFileSystemEntries(full, name)
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'))
            .Where(p => !ignore.IsExcluded(p))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Every file below a context path (itself when it is a file), .dockerignore applied, in ordinal order.</summary>
    public IEnumerable<string> Walk(string relative)
    {
        var full = relative.Length == 0 ? Root : Path.Combine(Root, relative);
        if (!Directory.Exists(full) || new DirectoryInfo(full).LinkTarget is not null)
        {
            yield return relative;
            yield break;
        }

        var children = Directory.EnumerateFileSystemEntries(full)
            .Select(p => Path.GetRelativePath(Root, p).Replace('\\', '/'))
            .Where(p => !ignore.IsExcluded(p))
            .Order(StringComparer.Ordinal);
        if (relative.Length > 0)
        {
            yield return relative;
        }

        foreach (var child in children)
        {
            foreach (var path in Walk(child))
            {
                yield return path;
            }
        }
    }

    /// <summary>Paths, types, modes, link targets and contents of everything the sources name: the part of a COPY's cache key that is not its text.</summary>
    public string Fingerprint(IEnumerable<string> sources)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var source in sources)
        {
            foreach (var path in Expand(source).SelectMany(Walk))
            {
                var full = path.Length == 0 ? Root : Path.Combine(Root, path);
                var status = LinuxFileStatus.Get(full);
                hash.AppendData(Encoding.UTF8.GetBytes($"{path}\0{status.Mode:x}\0{new FileInfo(full).LinkTarget}\0"));
                if (status.Type == LinuxFileStatus.TypeRegular)
                {
                    using var stream = File.OpenRead(full);
                    hash.AppendData(SHA256.HashData(stream));
                }
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
