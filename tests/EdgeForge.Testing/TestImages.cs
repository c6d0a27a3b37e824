using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;

namespace EdgeForge.Testing;

public static class TestImages
{
    /// <summary>An image whose layers are the given tar files, bottom first.</summary>
    public static async Task<BuiltImage> FromTarsAsync(BlobCache store, params string[] tarPaths)
    {
        var layers = new List<ILayer>();
        foreach (var tarPath in tarPaths)
        {
            await using var tar = File.OpenRead(tarPath);
            layers.Add(await LayerWriter.FromTarAsync(tar, store));
        }

        var config = new ImageConfig
        {
            Architecture = "amd64",
            Os = "linux",
            RootFs = new RootFs { DiffIds = [] },
            History = layers.Select((_, i) => new HistoryEntry { CreatedBy = $"layer {i}" }).ToList(),
        };
        return BuiltImage.Create(config, layers);
    }
}
