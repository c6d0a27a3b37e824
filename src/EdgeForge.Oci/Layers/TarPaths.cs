namespace EdgeForge.Oci.Layers;

/// <summary>Normalisation of tar entry names into file-tree paths.</summary>
internal static class TarPaths
{
    /// <summary>
    /// <c>./usr/bin/</c> → <c>usr/bin</c>; "" for the root. Absolute names and <c>..</c> components are refused: a
    /// layer is applied under a root and such names point elsewhere (image-spec layer.md, "File attributes" and the
    /// extraction caveats every runtime implements).
    /// </summary>
    public static string Normalise(string name)
    {
        if (name.StartsWith('/'))
        {
            throw new UnsafeLayerEntryException(name, "absolute path");
        }

        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                throw new UnsafeLayerEntryException(name, "'..' path component");
            }

            parts.Add(part);
        }

        return string.Join('/', parts);
    }

    public static string ParentOf(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    public static string NameOf(string path) => path[(path.LastIndexOf('/') + 1)..];
}

/// <summary>A layer entry that would land outside the root it is applied to.</summary>
public sealed class UnsafeLayerEntryException(string entry, string reason)
    : IOException($"refusing layer entry \"{entry}\": {reason}")
{
    public string Entry { get; } = entry;
}
