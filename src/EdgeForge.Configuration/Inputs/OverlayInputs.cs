using System.Formats.Tar;
using EdgeForge.Configuration.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Configuration.Inputs;

/// <summary>
/// The project's overlays as CanvOS reads them (full paths; null when absent): <c>overlay/files/</c> (copied into the
/// installer image; its <c>etc/</c> into the provider images), <c>overlay/files-iso/</c> (copied onto the ISO),
/// the ISO boot menu template <c>overlay/files-iso/boot/grub2/grub.cfg</c>, and <c>local-ui.tar</c> (extracted into
/// <c>/opt/spectrocloud/</c> on the ISO).
/// </summary>
public sealed record OverlayInputs(string? FilesDirectory, string? FilesIsoDirectory, string? GrubTemplate, string? LocalUiTar)
{
    public static OverlayInputs None { get; } = new(null, null, null, null);
}

/// <summary>
/// <c>spectro-luet-auth.yaml</c>: the <c>auth:</c> mapping CanvOS appends to the luet repository definition, read by
/// luet as <c>LuetRepository.Authentication</c> (<c>map[string]string</c>, pkg/api/core/types/repository.go) and, for
/// a docker repository, decoded into a registry <c>AuthConfig</c>. <see cref="Auth"/> holds the values (the password
/// among them): never print it.
/// </summary>
public sealed record LuetAuthFile(string Path, IReadOnlyDictionary<string, string> Auth);

public static partial class ProjectInputs
{
    public const string LuetAuthFileName = "spectro-luet-auth.yaml";
    public const string LocalUiFileName = "local-ui.tar";
    public const string GrubTemplatePath = "overlay/files-iso/boot/grub2/grub.cfg";

    /// <summary>
    /// Fields luet's docker client understands: the auth map is JSON-encoded and decoded into Docker's
    /// <c>registry.AuthConfig</c> (pkg/installer/client/docker.go), whose JSON names these are; Go matches them
    /// without regard to case.
    /// </summary>
    private static readonly string[] LuetAuthFields = ["username", "password", "auth", "email", "serveraddress", "identitytoken", "registrytoken"];

    public static OverlayInputs Overlay(InputFileReader inputs, DiagnosticBag diagnostics)
    {
        var projectDirectory = inputs.ProjectDirectory;
        string? Directory(string relative)
        {
            var path = Path.Combine(projectDirectory, relative);
            if (new FileInfo(path).LinkTarget is null && File.Exists(path))
            {
                diagnostics.Error(relative, "is a file; CanvOS copies it as a directory", hint: $"make {relative}/ a directory of files to add");
                return null;
            }

            return inputs.ProbeDirectory(path, relative, diagnostics) == InputFileState.Usable ? path : null;
        }

        var files = Directory("overlay/files");
        var filesIso = Directory("overlay/files-iso");
        string? grub = null;
        var grubPath = Path.Combine(projectDirectory, GrubTemplatePath);
        if (filesIso is not null && inputs.ProbeFile(grubPath, GrubTemplatePath, diagnostics) == InputFileState.Usable)
        {
            grub = grubPath;
            var text = inputs.ReadText(grub, GrubTemplatePath, diagnostics, 1 << 20);
            if (text is null)
            {
                grub = null;
            }
            else if (!text.Contains("{{DEFAULT_ENTRY}}", StringComparison.Ordinal))
            {
                diagnostics.Warning(GrubTemplatePath, "has no {{DEFAULT_ENTRY}} placeholder, so FORCE_INTERACTIVE_INSTALL cannot choose the default boot entry",
                    hint: "write set default=\"{{DEFAULT_ENTRY}}\" where the menu's default is set, as CanvOS's template does");
            }
        }

        var localUi = Path.Combine(projectDirectory, LocalUiFileName);
        var localUiUsable = inputs.ProbeFile(localUi, LocalUiFileName, diagnostics) == InputFileState.Usable && CheckLocalUi(localUi, diagnostics);
        return new OverlayInputs(files, filesIso, grub, localUiUsable ? localUi : null);
    }

    /// <summary>
    /// <c>local-ui.tar</c> is extracted onto the ISO, so every entry must stay inside its directory: every header is
    /// read, and absolute names or <c>..</c> components are refused.
    /// </summary>
    private static bool CheckLocalUi(string path, DiagnosticBag diagnostics)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new TarReader(stream);
            var entries = 0;
            while (reader.GetNextEntry() is { } entry)
            {
                entries++;
                var name = entry.Name.Replace('\\', '/');
                if (name.StartsWith('/') || name.Split('/').Contains(".."))
                {
                    diagnostics.Error(LocalUiFileName, $"entry '{entry.Name}' would be extracted outside /opt/spectrocloud", hint: "re-create the archive with relative paths (tar -C DIR -cf local-ui.tar .)");
                    return false;
                }
            }

            if (entries == 0)
            {
                diagnostics.Error(LocalUiFileName, "is an empty archive", hint: "put the Local UI release archive here, or remove the file");
                return false;
            }

            return true;
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(LocalUiFileName, "is not a readable tar archive (" + e.Message.TrimEnd('.') + ")",
                hint: "it must be an uncompressed tar; decompress a .tar.gz first (gunzip)");
            return false;
        }
    }

    /// <summary><c>spectro-luet-auth.yaml</c>, when present: a YAML mapping with an <c>auth:</c> mapping of string fields.</summary>
    public static LuetAuthFile? LuetAuth(InputFileReader inputs, DiagnosticBag diagnostics)
    {
        var path = Path.Combine(inputs.ProjectDirectory, LuetAuthFileName);
        if (inputs.ProbeFile(path, LuetAuthFileName, diagnostics) != InputFileState.Usable ||
            inputs.ReadText(path, LuetAuthFileName, diagnostics, 64 << 10) is not { } text)
        {
            return null;
        }

        const string example = "auth:\n  username: USER\n  password: TOKEN";
        var stream = Yaml.YamlLoader.Load(LuetAuthFileName, text, diagnostics, "expected:\n" + example);
        if (stream is null)
        {
            return null;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            diagnostics.Error(LuetAuthFileName, "is not a YAML mapping", 1, hint: "expected:\n" + example);
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var found = false;
        foreach (var (keyNode, value) in root.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (key != "auth")
            {
                // CanvOS appends the file to the repository definition luet repo add wrote, so other keys clash with it.
                diagnostics.Warning(LuetAuthFileName, $"key '{key}' is not read; only auth: is", (int)keyNode.Start.Line, key,
                    "remove it: CanvOS appends this file to the repository definition, where a second name:, urls: or type: is a duplicate");
                continue;
            }

            found = true;
            if (value is not YamlMappingNode auth)
            {
                diagnostics.Error(LuetAuthFileName, "auth: must be a mapping of fields", (int)value.Start.Line, "auth", "expected:\n" + example);
                return null;
            }

            foreach (var (fieldNode, fieldValue) in auth.Children)
            {
                var field = (fieldNode as YamlScalarNode)?.Value ?? "";
                if (fieldValue is not YamlScalarNode scalar)
                {
                    diagnostics.Error(LuetAuthFileName, "must be a plain string", (int)fieldValue.Start.Line, "auth." + field);
                    return null;
                }

                if (!LuetAuthFields.Contains(field.ToLowerInvariant()))
                {
                    diagnostics.Warning(LuetAuthFileName, "is not a field luet passes to the registry; it is ignored", (int)fieldNode.Start.Line, "auth." + field,
                        $"use one of {string.Join(", ", LuetAuthFields)}");
                }

                result[field.ToLowerInvariant()] = scalar.Value ?? "";
            }
        }

        if (!found)
        {
            diagnostics.Error(LuetAuthFileName, "has no auth: mapping", 1, hint: "expected:\n" + example);
            return null;
        }

        var hasCredentials = (result.GetValueOrDefault("username", "").Length > 0 && result.GetValueOrDefault("password", "").Length > 0) ||
            result.GetValueOrDefault("auth", "").Length > 0 || result.GetValueOrDefault("identitytoken", "").Length > 0 ||
            result.GetValueOrDefault("registrytoken", "").Length > 0;
        if (!hasCredentials)
        {
            diagnostics.Error(LuetAuthFileName, "auth: holds no credentials", 1, "auth",
                "give username and password (or auth, identitytoken or registrytoken)");
            return null;
        }

        return new LuetAuthFile(path, result);
    }
}
