using EdgeForge.FileTree;

namespace EdgeForge.SquashFs.Tests;

/// <summary>A tree given as a list, with contents from a dictionary; it delivers exactly what it is told to, right or wrong.</summary>
internal sealed class InMemoryFileTreeSource(IReadOnlyList<FileTreeEntry> entries, IReadOnlyDictionary<string, byte[]> contents) : IFileTreeSource
{
    public IReadOnlyList<FileTreeEntry> Entries => entries;

    public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default)
    {
        foreach (var entry in entries.Where(e => e.Kind == FileTreeEntryKind.RegularFile && contents.ContainsKey(e.Path)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var stream = new MemoryStream(contents[entry.Path], writable: false);
            await consumer(entry, stream, cancellationToken);
        }
    }

    public static FileTreeEntry File(string path, long size) => new() { Path = path, Kind = FileTreeEntryKind.RegularFile, Mode = Convert.ToInt32("644", 8), Size = size };
}
