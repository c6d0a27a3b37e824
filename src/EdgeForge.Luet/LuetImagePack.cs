using System.Formats.Tar;
using System.Text.Json;
using EdgeForge.FileTree;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;

namespace EdgeForge.Luet;

/// <summary>
/// <c>luet util pack IMAGE SRC.tar DST.tar</c> (luet cmd/util.go → pkg/api/core/image CreateTar): a file tree as a
/// <c>docker save</c> archive of one image named IMAGE with one layer, its config carrying only os/architecture, the
/// layer's diff-id and luet's history entry. CanvOS packs the stylus package image this way into the Trusted Boot ISO
/// (<c>+stylus-image-pack</c>), where the installer loads it.
/// </summary>
/// <remarks>
/// The layer is stored as an uncompressed tar named by its diff-id, as <c>docker save</c> does (luet's writer stores it
/// gzip-compressed; every docker-archive reader takes both). The layer is streamed to a file beside the output, never
/// held in memory, and the archive is renamed into place when complete.
/// </remarks>
public static class LuetImagePack
{
    public static async Task<long> WriteAsync(IFileTreeSource files, string imageName, string os, string architecture, string outputPath, long sourceDateEpoch,
        CancellationToken cancellationToken = default)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        var staging = Path.Combine(directory, $".{Path.GetFileName(outputPath)}.{Environment.ProcessId}.staging");
        var partial = Path.Combine(directory, $".{Path.GetFileName(outputPath)}.{Environment.ProcessId}.partial");
        Directory.CreateDirectory(staging);
        try
        {
            var layer = await LayerWriter.WriteAsync(files, new BlobCache(staging),
                new LayerOptions { Compression = LayerCompression.None, SourceDateEpoch = sourceDateEpoch, KeepModificationTimes = true }, cancellationToken).ConfigureAwait(false);
            var diffId = layer.DiffId.ToString();
            var config = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["architecture"] = architecture,
                ["os"] = os,
                ["config"] = new Dictionary<string, object>(),
                ["rootfs"] = new Dictionary<string, object> { ["type"] = "layers", ["diff_ids"] = new[] { diffId } },
                ["history"] = new[] { new Dictionary<string, string> { ["created_by"] = "luet", ["comment"] = "Custom image" } },
            });
            var configName = Digest.Compute(config).Encoded + ".json";
            var layerName = layer.DiffId.Encoded + "/layer.tar";
            var manifest = JsonSerializer.SerializeToUtf8Bytes(new[]
            {
                new Dictionary<string, object> { ["Config"] = configName, ["RepoTags"] = new[] { imageName }, ["Layers"] = new[] { layerName } },
            });

            await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            await using (var tar = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true))
            {
                var time = DateTimeOffset.FromUnixTimeSeconds(sourceDateEpoch);
                async Task AddAsync(string name, Stream data)
                {
                    var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, ModificationTime = time, Mode = (UnixFileMode)0x1A4 };
                    await tar.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
                }

                await AddAsync(configName, new MemoryStream(config)).ConfigureAwait(false);
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, layer.DiffId.Encoded + "/") { ModificationTime = time, Mode = (UnixFileMode)0x1ED }, cancellationToken).ConfigureAwait(false);
                await using (var layerFile = File.OpenRead(layer.Path))
                {
                    await AddAsync(layerName, layerFile).ConfigureAwait(false);
                }

                await AddAsync("manifest.json", new MemoryStream(manifest)).ConfigureAwait(false);
            }

            File.Move(partial, outputPath, overwrite: true);
            return new FileInfo(outputPath).Length;
        }
        finally
        {
            File.Delete(partial);
            Directory.Delete(staging, recursive: true);
        }
    }
}
