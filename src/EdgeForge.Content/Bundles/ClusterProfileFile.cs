using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Configuration.Yaml;
using EdgeForge.Oci.Model;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Content.Bundles;

public enum ProfileType
{
    Infra,
    AddOn,
}

/// <summary>A cluster profile (spec §9): a named, typed list of packs. <see cref="Line"/> is where it starts in <see cref="File"/>.</summary>
public sealed record ClusterProfile(string Name, ProfileType Type, IReadOnlyList<ProfilePack> Packs, string File, int Line);

/// <summary>One pack of a profile: its images, Helm charts and Kubernetes manifests.</summary>
public sealed record ProfilePack(string Name, string? Version, IReadOnlyList<RequestedImage> Images, IReadOnlyList<ChartSource> Charts, IReadOnlyList<string> Manifests);

/// <summary>A Helm chart: a local <c>.tgz</c> (absolute path) or an OCI chart reference (<c>oci://REGISTRY/REPO:VERSION</c>).</summary>
public sealed record ChartSource(string? LocalPath, ImageReference? OciReference)
{
    public override string ToString() => LocalPath ?? "oci://" + OciReference;
}

/// <summary>
/// Reads a cluster-profile file (docs/content-profiles.md): <c>profiles:</c>, each with <c>name</c>, <c>type</c>
/// (infra | add-on) and <c>packs:</c>, each pack with <c>name</c>, optional <c>version</c>, <c>images:</c>,
/// <c>charts:</c> and <c>manifests:</c>. Relative chart and manifest paths are relative to the profile file.
/// Unknown keys are errors, so a misspelt <c>image:</c> never silently drops images from an air-gap bundle.
/// </summary>
public static class ClusterProfileFile
{
    private static readonly string[] ProfileKeys = ["name", "type", "packs"];
    private static readonly string[] PackKeys = ["name", "version", "images", "charts", "manifests"];

    public static IReadOnlyList<ClusterProfile> Read(string path, DiagnosticBag diagnostics)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            diagnostics.Error(path, "no such profile file");
            return [];
        }

        // Only a regular, bounded, UTF-8 file is read: a FIFO or /dev/zero named as a profile is refused, not waited on.
        var text = InputFileReader.ForStandaloneFile(path).ReadText(path, path, diagnostics);
        if (text is null)
        {
            return [];
        }

        var stream = YamlLoader.Load(path, text, diagnostics, "see docs/content-profiles.md for the format");
        if (stream is null)
        {
            return [];
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            diagnostics.Error(path, "expected one YAML document, a mapping with a profiles: list", 1, hint: "see docs/content-profiles.md");
            return [];
        }

        var reader = new Reader(path, Path.GetDirectoryName(Path.GetFullPath(path))!, diagnostics);
        reader.CheckKeys(root, ["profiles"]);
        if (reader.Sequence(root, "profiles", required: true) is not { } list)
        {
            return [];
        }

        var profiles = new List<ClusterProfile>();
        foreach (var item in list)
        {
            if (reader.Profile(item) is { } profile)
            {
                profiles.Add(profile);
            }
        }

        if (profiles.Count == 0 && list.Children.Count == 0)
        {
            diagnostics.Error(path, "profiles: is empty", Line(list), key: "profiles");
        }

        return profiles;
    }

    private static int Line(YamlNode node) => (int)node.Start.Line;

    private sealed class Reader(string file, string directory, DiagnosticBag diagnostics)
    {
        public ClusterProfile? Profile(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                diagnostics.Error(file, "a profile must be a mapping with name, type and packs", Line(node), key: "profiles");
                return null;
            }

            CheckKeys(map, ProfileKeys);
            var name = Scalar(map, "name", required: true);
            if (name is not null && !IsSafeName(name))
            {
                diagnostics.Error(file, $"profile name \"{name}\" may hold only letters, digits, '.', '_' and '-'", Line(Node(map, "name")!), key: "name");
                name = null;
            }

            var typeText = Scalar(map, "type", required: true);
            ProfileType? type = typeText switch
            {
                null => null,
                "infra" => ProfileType.Infra,
                "add-on" => ProfileType.AddOn,
                _ => null,
            };
            if (typeText is not null && type is null)
            {
                diagnostics.Error(file, $"unknown profile type \"{typeText}\"", Line(Node(map, "type")!), key: "type", hint: "use infra or add-on");
            }

            var packs = new List<ProfilePack>();
            if (Sequence(map, "packs", required: true) is { } packList)
            {
                foreach (var packNode in packList)
                {
                    if (Pack(packNode, name ?? "?") is { } pack)
                    {
                        packs.Add(pack);
                    }
                }

                foreach (var duplicate in packs.GroupBy(p => p.Name).Where(g => g.Count() > 1))
                {
                    diagnostics.Error(file, $"pack \"{duplicate.Key}\" appears twice in profile \"{name}\"", Line(packList), key: "packs");
                }
            }

            return name is null || type is null ? null : new ClusterProfile(name, type.Value, packs, file, Line(map));
        }

        private ProfilePack? Pack(YamlNode node, string profile)
        {
            if (node is not YamlMappingNode map)
            {
                diagnostics.Error(file, $"a pack of profile \"{profile}\" must be a mapping with name, images, charts, manifests", Line(node), key: "packs");
                return null;
            }

            CheckKeys(map, PackKeys);
            var name = Scalar(map, "name", required: true);
            if (name is not null && !IsSafeName(name))
            {
                diagnostics.Error(file, $"pack name \"{name}\" may hold only letters, digits, '.', '_' and '-'", Line(Node(map, "name")!), key: "name");
                name = null;
            }

            var version = Scalar(map, "version", required: false);
            var origin = $"{profile}/{name}";
            var images = new List<RequestedImage>();
            foreach (var (value, line) in Strings(map, "images"))
            {
                if (ImageReference.TryParse(value, out var reference, out var error))
                {
                    images.Add(new RequestedImage(reference, $"{file}:{line} ({origin})"));
                }
                else
                {
                    diagnostics.Error(file, $"invalid image reference \"{value}\": {error}", line, key: "images");
                }
            }

            var charts = new List<ChartSource>();
            foreach (var (value, line) in Strings(map, "charts"))
            {
                if (value.StartsWith("oci://", StringComparison.Ordinal))
                {
                    if (ImageReference.TryParse(value["oci://".Length..], out var reference, out var error))
                    {
                        charts.Add(new ChartSource(null, reference));
                    }
                    else
                    {
                        diagnostics.Error(file, $"invalid OCI chart reference \"{value}\": {error}", line, key: "charts");
                    }

                    continue;
                }

                var local = Path.GetFullPath(value, directory);
                if (!value.EndsWith(".tgz", StringComparison.Ordinal))
                {
                    diagnostics.Error(file, $"chart \"{value}\" is neither a packaged chart (.tgz) nor oci://REFERENCE", line, key: "charts", hint: "package it with: helm package DIR");
                }
                else if (!File.Exists(local))
                {
                    diagnostics.Error(file, $"chart \"{value}\" not found (looked for {local})", line, key: "charts");
                }
                else
                {
                    charts.Add(new ChartSource(local, null));
                }
            }

            var manifests = new List<string>();
            foreach (var (value, line) in Strings(map, "manifests"))
            {
                var local = Path.GetFullPath(value, directory);
                if (File.Exists(local))
                {
                    manifests.Add(local);
                }
                else
                {
                    diagnostics.Error(file, $"manifest \"{value}\" not found (looked for {local})", line, key: "manifests");
                }
            }

            foreach (var clash in manifests.GroupBy(Path.GetFileName).Where(g => g.Count() > 1))
            {
                diagnostics.Error(file, $"pack \"{name}\" lists two manifests named {clash.Key}; they would overwrite each other in manifests/", Line(map), key: "manifests");
            }

            return name is null ? null : new ProfilePack(name, version, images, charts, manifests);
        }

        public void CheckKeys(YamlMappingNode map, string[] allowed)
        {
            foreach (var key in map.Children.Keys)
            {
                var text = (key as YamlScalarNode)?.Value ?? "";
                if (!allowed.Contains(text))
                {
                    var nearest = NearestName.Find(text, allowed);
                    diagnostics.Error(file, $"unknown key \"{text}\"", Line(key), key: text,
                        hint: nearest is null ? $"allowed here: {string.Join(", ", allowed)}" : $"did you mean {nearest}?");
                }
            }
        }

        public YamlSequenceNode? Sequence(YamlMappingNode map, string key, bool required)
        {
            switch (Node(map, key))
            {
                case null when required:
                    diagnostics.Error(file, $"missing {key}:", Line(map), key: key);
                    return null;
                case null:
                    return null;
                case YamlScalarNode { Value: null or "" or "~" or "null" }:
                    return new YamlSequenceNode();
                case YamlSequenceNode sequence:
                    return sequence;
                case var other:
                    diagnostics.Error(file, $"{key}: must be a list", Line(other), key: key);
                    return null;
            }
        }

        private IEnumerable<(string Value, int Line)> Strings(YamlMappingNode map, string key)
        {
            if (Sequence(map, key, required: false) is not { } sequence)
            {
                yield break;
            }

            foreach (var item in sequence)
            {
                if (item is YamlScalarNode { Value: { Length: > 0 } value })
                {
                    yield return (value.Trim(), Line(item));
                }
                else
                {
                    diagnostics.Error(file, $"every entry of {key}: must be a non-empty string", Line(item), key: key);
                }
            }
        }

        private string? Scalar(YamlMappingNode map, string key, bool required)
        {
            switch (Node(map, key))
            {
                case null when required:
                    diagnostics.Error(file, $"missing {key}:", Line(map), key: key);
                    return null;
                case null:
                    return null;
                case YamlScalarNode { Value: { Length: > 0 } value }:
                    return value;
                case var other:
                    diagnostics.Error(file, $"{key}: must be a non-empty string", Line(other), key: key);
                    return null;
            }
        }

        private static YamlNode? Node(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
    }

    /// <summary>Names become directory names inside the bundle (packs/PROFILE/PACK.yaml), so they must be single safe path segments.</summary>
    internal static bool IsSafeName(string name) =>
        name.Length is > 0 and <= 128 && name is not "." and not ".." && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
