using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Oci.Model;

namespace EdgeForge.Content.Bundles;

/// <summary>Thrown when the image list or a profile file is invalid; every finding carries its file and line.</summary>
public sealed class ContentInputException(IReadOnlyList<Diagnostic> errors)
    : Exception(string.Join("\n", errors.Select(e => e.ToString())))
{
    public IReadOnlyList<Diagnostic> Errors { get; } = errors;
}

/// <summary>An image the bundle carries, with where it was asked for (file:line) and who asked (a pack, or the list).</summary>
public sealed record RequestedImage(ImageReference Reference, string Origin);

/// <summary>
/// Everything a bundle is built from, resolved and validated once (the images of the list and of every pack, the
/// local chart and manifest files); the builder reads only this.
/// </summary>
public sealed record ContentInputs
{
    public required IReadOnlyList<RequestedImage> Images { get; init; }

    public required IReadOnlyList<ClusterProfile> Profiles { get; init; }

    /// <summary>The input files' bytes, hashed into the bundle id (<c>content-&lt;id&gt;</c>).</summary>
    public required IReadOnlyList<string> InputFiles { get; init; }

    /// <summary>Reads the image list (if any) and the profile files, reporting every error at once.</summary>
    public static ContentInputs Load(string? imageListPath, IReadOnlyList<string> profilePaths)
    {
        var diagnostics = new DiagnosticBag();
        var images = new List<RequestedImage>();
        var profiles = new List<ClusterProfile>();
        var files = new List<string>();
        if (imageListPath is not null)
        {
            files.Add(Path.GetFullPath(imageListPath));
            images.AddRange(ImageListFile.Read(imageListPath, diagnostics));
        }

        foreach (var path in profilePaths)
        {
            files.Add(Path.GetFullPath(path));
            profiles.AddRange(ClusterProfileFile.Read(path, diagnostics));
        }

        // Spec §9: one infrastructure profile at most, the rest add-ons.
        var infra = profiles.Where(p => p.Type == ProfileType.Infra).ToList();
        foreach (var extra in infra.Skip(1))
        {
            diagnostics.Error(extra.File, $"profile \"{extra.Name}\" is a second infra profile (the first is \"{infra[0].Name}\" in {infra[0].File}:{infra[0].Line})",
                extra.Line, key: "type", hint: "a bundle holds at most one infrastructure profile; make the others type: add-on");
        }

        foreach (var duplicate in profiles.GroupBy(p => p.Name).Where(g => g.Count() > 1).SelectMany(g => g.Skip(1)))
        {
            diagnostics.Error(duplicate.File, $"profile name \"{duplicate.Name}\" is used twice", duplicate.Line, key: "name");
        }

        if (imageListPath is null && profilePaths.Count == 0)
        {
            diagnostics.Error("content build", "nothing to bundle", hint: "give --images FILE and/or --profile FILE");
        }

        if (diagnostics.HasErrors)
        {
            throw new ContentInputException([.. diagnostics.Errors]);
        }

        images.AddRange(profiles.SelectMany(p => p.Packs).SelectMany(pack => pack.Images));
        return new ContentInputs { Images = images, Profiles = profiles, InputFiles = files };
    }
}

/// <summary>A plain list of image references, one a line; <c>#</c> starts a comment, blank lines are ignored.</summary>
public static class ImageListFile
{
    public static IReadOnlyList<RequestedImage> Read(string path, DiagnosticBag diagnostics)
    {
        if (!File.Exists(path))
        {
            diagnostics.Error(path, "no such image list file");
            return [];
        }

        var images = new List<RequestedImage>();
        var lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            var hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (ImageReference.TryParse(line, out var reference, out var error))
            {
                images.Add(new RequestedImage(reference, $"{path}:{lineNumber}"));
            }
            else
            {
                diagnostics.Error(path, $"invalid image reference \"{line}\": {error}", lineNumber);
            }
        }

        return images;
    }
}
