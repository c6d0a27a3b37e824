using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;

namespace EdgeForge.Build.ProviderImages;

/// <summary>
/// Remembers the layer each build step produced, keyed by everything the step depends on (the key of the step
/// before it — rooted in the base image digest —, the instruction, the content of its build-context files, the
/// variables it sees). The blobs live in the shared blob cache; records are small JSON files written atomically, so
/// two builds sharing the cache at worst compute the same layer twice.
/// </summary>
public sealed class LayerCache
{
    private readonly string _directory;
    private readonly BlobCache _blobs;

    public LayerCache(string directory, BlobCache blobs)
    {
        _directory = directory;
        _blobs = blobs;
        Directory.CreateDirectory(directory);
    }

    /// <summary>The key of a step: a hash over the previous key and the step's own material.</summary>
    public static string ChainKey(string previousKey, string material)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(previousKey + "\n" + material));
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>The cached outcome of a step: a layer, or "no change" (<see cref="CachedStep.Layer"/> null); null when unknown or its blob is gone.</summary>
    public CachedStep? TryGet(string key)
    {
        var path = RecordPath(key);
        if (!File.Exists(path))
        {
            return null;
        }

        var record = JsonSerializer.Deserialize<Record>(File.ReadAllBytes(path));
        if (record is null)
        {
            return null;
        }

        if (record.Digest is null)
        {
            return new CachedStep(null);
        }

        var digest = Digest.Parse(record.Digest);
        if (!_blobs.Contains(digest))
        {
            return null;
        }

        var descriptor = new Descriptor { MediaType = record.MediaType!, Digest = digest, Size = record.Size };
        return new CachedStep(new BlobLayer(_blobs.PathOf(digest), descriptor, Digest.Parse(record.DiffId!)));
    }

    public void Put(string key, ILayer? layer)
    {
        var record = layer is null
            ? new Record(null, null, 0, null)
            : new Record(layer.Digest.ToString(), layer.DiffId.ToString(), layer.Size, layer.MediaType);
        var path = RecordPath(key);
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(record));
        File.Move(temporary, path, overwrite: true);
    }

    private string RecordPath(string key) => Path.Combine(_directory, key + ".json");

    private sealed record Record(string? Digest, string? DiffId, long Size, string? MediaType);
}

/// <summary>A step's cached outcome: its layer, or null when the step changed no file.</summary>
public sealed record CachedStep(ILayer? Layer);
