using System.Diagnostics;
using EdgeForge.FileTree;
using EdgeForge.SquashFs;
using EdgeForge.SquashFs.SyntheticTree;

// Usage: SyntheticTree OUTPUT DIRECTORIES FILES_PER_DIRECTORY BIG_FILE_SIZE [gzip|zstd]
//        SyntheticTree OUTPUT --directory PATH [gzip|zstd]
// Writes the image of the generated tree (or of a directory) and prints one line of key=value facts, including the
// peak resident set size (VmHWM) and the seconds each stage took.
if (args.Length < 3 || (args[1] != "--directory" && args.Length < 4))
{
    Console.Error.WriteLine("usage: SyntheticTree OUTPUT DIRECTORIES FILES_PER_DIRECTORY BIG_FILE_SIZE [gzip|zstd] | OUTPUT --directory PATH [gzip|zstd]");
    return 2;
}

var fromDirectory = args[1] == "--directory";
IFileTreeSource tree = fromDirectory
    ? new DirectoryFileTreeSource(args[2])
    : new SyntheticFileTreeSource(int.Parse(args[1]), int.Parse(args[2]), long.Parse(args[3]));
var compressorArgument = args.Length > (fromDirectory ? 3 : 4) ? args[fromDirectory ? 3 : 4] : "zstd";
var options = new SquashFsOptions { Compressor = compressorArgument == "gzip" ? SquashFsCompressor.Gzip : SquashFsCompressor.Zstd };
var clock = Stopwatch.StartNew();
var stages = new List<string>();
var stage = (SquashFsStage?)null;
var progress = new SynchronousProgress(report =>
{
    if (report.Stage != stage)
    {
        stages.Add($"{report.Stage.ToString().ToLowerInvariant()}_at={clock.Elapsed.TotalSeconds:F2}");
        stage = report.Stage;
    }
});
var result = await SquashFsWriter.WriteFileAsync(tree, args[0], options, progress);
var peak = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
Console.WriteLine($"entries={tree.Entries.Count} content_bytes={result.ContentBytes} image_bytes={result.ImageSize} " +
    $"duplicates={result.DuplicateFiles} fragments={result.FragmentCount} inodes={result.InodeCount} vmhwm_kib={peak} seconds={clock.Elapsed.TotalSeconds:F2} {string.Join(' ', stages)}");
return 0;

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder reports).</summary>
internal sealed class SynchronousProgress(Action<SquashFsProgress> report) : IProgress<SquashFsProgress>
{
    public void Report(SquashFsProgress value) => report(value);
}
