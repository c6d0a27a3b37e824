using EdgeForge.FileTree;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;

namespace EdgeForge.Oci;

public sealed record ImportOptions
{
    public Platform Platform { get; init; } = Platform.LinuxAmd64;

    /// <summary><c>KEY=VALUE</c> environment of the image config.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public LayerOptions Layer { get; init; } = new();
}

/// <summary>
/// Makes a single-layer base image from a root filesystem — a directory or a tar (optionally gzip-compressed) —
/// the bring-your-own-OS entry point. The result is reproducible: entries in path order, every timestamp
/// <c>SOURCE_DATE_EPOCH</c> (default 0), the config's <c>created</c> the same instant, so importing the same tree
/// twice yields the same manifest digest.
/// </summary>
public static class RootFsImporter
{
    public static async Task<BuiltImage> ImportAsync(string rootFs, BlobCache store, ImportOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ImportOptions();
        IFileTreeSource tree;
        if (Directory.Exists(rootFs))
        {
            tree = new DirectoryFileTreeSource(rootFs);
        }
        else if (File.Exists(rootFs))
        {
            tree = await ImageFileTree.LoadAsync([ct => Task.FromResult(OpenTarFile(rootFs))], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            throw new FileNotFoundException($"{rootFs}: no such directory or tar file");
        }

        var layer = await LayerWriter.WriteAsync(tree, store, options.Layer, cancellationToken).ConfigureAwait(false);
        var created = BuiltImage.FormatCreated(options.Layer.SourceDateEpoch);
        var config = new ImageConfig
        {
            Created = created,
            Architecture = options.Platform.Architecture,
            Os = options.Platform.Os,
            Variant = options.Platform.Variant,
            Config = new ContainerConfig
            {
                Env = options.Env.Count > 0 ? options.Env : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                Labels = options.Labels.Count > 0 ? new SortedDictionary<string, string>(options.Labels.ToDictionary(), StringComparer.Ordinal) : null,
            },
            RootFs = new RootFs { DiffIds = [layer.DiffId] },
            History = [new HistoryEntry { Created = created, CreatedBy = "edgeforge image import", Comment = "root filesystem" }],
        };
        return BuiltImage.Create(config, [layer]);
    }

    /// <summary>Opens a tar file, decompressing gzip transparently (detected by its magic bytes).</summary>
    internal static Stream OpenTarFile(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        Span<byte> head = stackalloc byte[4];
        var read = file.Read(head);
        file.Position = 0;
        return LayerCompressionCodec.Decompress(file, LayerCompressionCodec.Sniff(head[..read]));
    }
}
