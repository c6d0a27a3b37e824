using System.Formats.Tar;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Transports;

/// <summary>Reads an image from a tar of an OCI layout (<c>oci-archive:FILE[:TAG]</c>) in place, member by member.</summary>
public sealed class OciArchiveImageSource : IImageSource
{
    private readonly TarArchiveIndex _archive;
    private readonly string? _tag;

    private OciArchiveImageSource(TarArchiveIndex archive, string? tag)
    {
        _archive = archive;
        _tag = tag;
    }

    public static OciArchiveImageSource Open(string path, string? tag) => new(TarArchiveIndex.Read(path), tag);

    public string Description => $"oci-archive:{_archive.ArchivePath}" + (_tag is null ? "" : ":" + _tag);

    public Task<ManifestContent> GetManifestAsync(CancellationToken cancellationToken = default)
    {
        if (!_archive.Contains(OciLayout.IndexFile))
        {
            throw new InvalidDataException($"{_archive.ArchivePath}: not an OCI archive (no {OciLayout.IndexFile})");
        }

        var index = ImageIndex.Parse(_archive.ReadAll(OciLayout.IndexFile));
        return GetManifestAsync(OciLayout.FindEntry(_archive.ArchivePath, index, _tag), cancellationToken);
    }

    public async Task<ManifestContent> GetManifestAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        await using var stream = await OpenBlobAsync(descriptor, cancellationToken).ConfigureAwait(false);
        var bytes = await SourceImage.ReadSmallBlobAsync(stream, descriptor, cancellationToken).ConfigureAwait(false);
        return new ManifestContent(bytes, MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType) ? descriptor.MediaType : null);
    }

    public Task<Stream> OpenBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default) =>
        Task.FromResult(_archive.OpenVerified($"blobs/{descriptor.Digest.Algorithm}/{descriptor.Digest.Encoded}", descriptor));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Writes an OCI archive (<c>oci-archive:FILE[:TAG]</c>): an OCI layout is assembled in a temporary directory next
/// to the file, then streamed into the tar (entries in path order, fixed times) and renamed into place.
/// </summary>
public sealed class OciArchiveImageDestination : IImageDestination
{
    private readonly string _path;
    private readonly string _staging;
    private readonly OciLayoutImageDestination _layout;

    public OciArchiveImageDestination(string path, string? tag)
    {
        _path = System.IO.Path.GetFullPath(path);
        _staging = _path + $".staging-{Guid.NewGuid():N}";
        _layout = new OciLayoutImageDestination(_staging, tag);
    }

    public string Description => $"oci-archive:{_path}";

    public int MaxParallelBlobs => _layout.MaxParallelBlobs;

    public Platform? RootPlatform { set => _layout.RootPlatform = value; }

    public Task<bool> HasBlobAsync(Descriptor descriptor, CancellationToken cancellationToken = default) => _layout.HasBlobAsync(descriptor, cancellationToken);

    public Task PutBlobAsync(Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default) =>
        _layout.PutBlobAsync(descriptor, open, cancellationToken);

    public Task PutManifestAsync(ManifestContent manifest, bool isRoot, CancellationToken cancellationToken = default) =>
        _layout.PutManifestAsync(manifest, isRoot, cancellationToken);

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        await _layout.CommitAsync(cancellationToken).ConfigureAwait(false);
        await ArchiveWriter.WriteDirectoryAsync(_staging, _path, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Tars a directory of regular files reproducibly (path order, time 0, owner 0, mode 0644/0755).</summary>
internal static class ArchiveWriter
{
    public static async Task WriteDirectoryAsync(string directory, string archivePath, CancellationToken cancellationToken)
    {
        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(directory, f).Replace('\\', '/'))
            .Where(f => !System.IO.Path.GetFileName(f).StartsWith(".tmp-", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        await WriteAsync(archivePath, files.Select(f => (f, System.IO.Path.Combine(directory, f))).ToList(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes members (archive name, local file) in the given order, directories implied by the names first.</summary>
    public static async Task WriteAsync(string archivePath, IReadOnlyList<(string Name, string LocalPath)> members, CancellationToken cancellationToken)
    {
        var temp = archivePath + $".tmp-{Guid.NewGuid():N}";
        try
        {
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            await using (var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
            {
                var directories = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (name, local) in members)
                {
                    for (var slash = name.IndexOf('/'); slash > 0; slash = name.IndexOf('/', slash + 1))
                    {
                        var directory = name[..slash];
                        if (directories.Add(directory))
                        {
                            await writer.WriteEntryAsync(NewEntry(TarEntryType.Directory, directory + "/", 0x1ED), cancellationToken).ConfigureAwait(false);
                        }
                    }

                    await using var data = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    var entry = NewEntry(TarEntryType.RegularFile, name, 0x1A4);
                    entry.DataStream = data;
                    await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
                }
            }

            File.Move(temp, archivePath, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static PaxTarEntry NewEntry(TarEntryType type, string name, int mode) => new(type, name)
    {
        Mode = (UnixFileMode)mode,
        Uid = 0,
        Gid = 0,
        UserName = "",
        GroupName = "",
        ModificationTime = DateTimeOffset.UnixEpoch,
    };
}
