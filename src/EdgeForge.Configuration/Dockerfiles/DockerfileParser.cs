using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Configuration.Inputs;
using EdgeForge.FileTree;

namespace EdgeForge.Configuration.Dockerfiles;

/// <summary>
/// Reads the user's customisations from a CanvOS Dockerfile: the instructions after the marker comment
/// <c>Add any other image customizations here</c>. What precedes the marker is CanvOS's own base-image recipe, which
/// EdgeForge's pipeline replaces; without a marker the whole file is taken as customisations.
/// </summary>
public static partial class DockerfileParser
{
    public const string Marker = "Add any other image customizations here";

    private static readonly Dictionary<string, string> Unsupported = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FROM"] = "the base image comes from BASE_IMAGE (or the OS default), not from FROM",
        ["CMD"] = "provider images boot an OS; they have no command",
        ["ENTRYPOINT"] = "provider images boot an OS; they have no entrypoint",
        ["EXPOSE"] = "provider images boot an OS; ports are not published",
        ["VOLUME"] = "provider images boot an OS; use install.bind_mounts in user-data for persistent paths",
        ["ONBUILD"] = "provider images are never used as a build base",
        ["HEALTHCHECK"] = "provider images boot an OS; use a systemd unit",
        ["SHELL"] = "RUN always uses /bin/sh -c",
        ["STOPSIGNAL"] = "provider images boot an OS",
        ["MAINTAINER"] = "use LABEL org.opencontainers.image.authors=…",
    };

    public static DockerfileCustomisations Parse(string fileName, string text, string contextDirectory, DiagnosticBag diagnostics) =>
        Parse(fileName, text, new InputFileReader(contextDirectory, allowExternalLinks: false), diagnostics);

    /// <summary>Reads the customisations; COPY/ADD sources are checked against <paramref name="context"/> (the project directory).</summary>
    public static DockerfileCustomisations Parse(string fileName, string text, InputFileReader context, DiagnosticBag diagnostics)
    {
        var logicalLines = LogicalLines(text);
        var markerIndex = logicalLines.FindIndex(l => l.IsComment && l.Text.Contains(Marker, StringComparison.Ordinal));
        if (markerIndex < 0 && logicalLines.Any(l => !l.IsComment))
        {
            diagnostics.Warning(fileName, $"has no '# {Marker}' marker: every instruction is taken as a customisation", 1,
                hint: "CanvOS Dockerfiles keep their own lines above the marker; add the marker above your lines");
        }

        foreach (var line in logicalLines.Take(Math.Max(markerIndex, 0)).Where(l => !l.IsComment))
        {
            WarnAboveMarker(fileName, line, diagnostics);
        }

        var instructions = new List<DockerInstruction>();
        foreach (var line in logicalLines.Skip(markerIndex + 1).Where(l => !l.IsComment))
        {
            if (ParseInstruction(fileName, line, context, diagnostics) is { } instruction)
            {
                instructions.Add(instruction);
            }
        }

        return new DockerfileCustomisations(fileName, instructions);
    }

    /// <summary>
    /// Lines above the marker are CanvOS's base-image recipe and are not run: said per line, so that a user's own
    /// instruction there is not dropped without a word. FROM is BASE_IMAGE's job and ARG only declares a build
    /// argument, so those two say nothing.
    /// </summary>
    private static void WarnAboveMarker(string file, LogicalLine line, DiagnosticBag diagnostics)
    {
        var match = InstructionPattern().Match(line.Text);
        var keyword = match.Success ? match.Groups[1].Value.ToUpperInvariant() : null;
        if (keyword is "FROM" or "ARG")
        {
            return;
        }

        var arguments = match.Success ? match.Groups[2].Value : "";
        var shownKeyword = keyword is { Length: <= 12 } ? keyword : null;
        if (CanvosCertificateStep().IsMatch(arguments))
        {
            diagnostics.Warning(file, "not run: this is CanvOS's certificate step above the customisation marker, which edgeforge replaces " +
                "(it installs the certificates of certs/ into the image's trust store itself)", line.Number, shownKeyword, "remove the line, or leave it for CanvOS");
        }
        else if (keyword is "COPY" or "ADD" && arguments.TrimStart().StartsWith("overlay/files/etc/", StringComparison.Ordinal))
        {
            diagnostics.Warning(file, "not run: edgeforge copies overlay/files/etc/ into the provider images itself, as CanvOS's provider-image target does",
                line.Number, shownKeyword, "remove the line, or leave it for CanvOS");
        }
        else
        {
            diagnostics.Warning(file, "not run: instructions above the customisation marker are CanvOS's base-image recipe, which edgeforge replaces",
                line.Number, shownKeyword, $"if this line is yours, move it below '# {Marker}'");
        }
    }

    private static DockerInstruction? ParseInstruction(string file, LogicalLine line, InputFileReader context, DiagnosticBag diagnostics)
    {
        var match = InstructionPattern().Match(line.Text);
        if (!match.Success)
        {
            // The line is not quoted: a Dockerfile that is not one (a link to another file, a binary) must not be echoed.
            diagnostics.Error(file, "cannot read this line as an instruction (it does not start with an instruction word)", line.Number,
                hint: "instructions look like RUN apt-get install -y wireguard-tools");
            return null;
        }

        var keyword = match.Groups[1].Value.ToUpperInvariant();
        var arguments = match.Groups[2].Value.Trim();
        if (keyword.Length > 12)
        {
            diagnostics.Error(file, "cannot read this line as an instruction (its first word is no instruction)", line.Number,
                hint: "instructions look like RUN apt-get install -y wireguard-tools");
            return null;
        }

        if (Unsupported.TryGetValue(keyword, out var why))
        {
            diagnostics.Error(file, $"{keyword} is not supported in customisations: {why}", line.Number, keyword);
            return null;
        }

        if (arguments.Length == 0 && keyword is "RUN" or "COPY" or "ADD" or "ENV" or "ARG" or "LABEL" or "WORKDIR" or "USER")
        {
            diagnostics.Error(file, $"{keyword} needs arguments", line.Number, keyword);
            return null;
        }

        if (arguments.Contains("<<", StringComparison.Ordinal) && keyword is "RUN" or "COPY" or "ADD" && HeredocPattern().IsMatch(arguments))
        {
            diagnostics.Error(file, "heredocs are not supported", line.Number, keyword, "put the script into a file, COPY it and RUN it");
            return null;
        }

        return keyword switch
        {
            "RUN" => Run(file, line, arguments, diagnostics),
            "COPY" or "ADD" => Copy(file, line, keyword == "ADD", arguments, context, diagnostics),
            "ENV" => Pairs(file, line, keyword, arguments, diagnostics, allowLegacyForm: true) is { } env ? new EnvInstruction(line.Number, env) : null,
            "LABEL" => Pairs(file, line, keyword, arguments, diagnostics, allowLegacyForm: false) is { } labels ? new LabelInstruction(line.Number, labels) : null,
            "ARG" => Arg(file, line, arguments, diagnostics),
            "WORKDIR" => SingleWord(file, line, keyword, arguments, diagnostics) is { } path ? Workdir(file, line, path, diagnostics) : null,
            "USER" => SingleWord(file, line, keyword, arguments, diagnostics) is { } user ? new UserInstruction(line.Number, user) : null,
            _ => UnknownInstruction(file, line, keyword, diagnostics),
        };
    }

    private static DockerInstruction? UnknownInstruction(string file, LogicalLine line, string keyword, DiagnosticBag diagnostics)
    {
        var known = new[] { "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "WORKDIR", "USER" };
        var suggestion = NearestName.Find(keyword, known);
        diagnostics.Error(file, suggestion is null ? $"unknown instruction {keyword}" : $"unknown instruction {keyword}; did you mean {suggestion}?",
            line.Number, keyword, $"supported instructions: {string.Join(", ", known)}");
        return null;
    }

    private static RunInstruction? Run(string file, LogicalLine line, string arguments, DiagnosticBag diagnostics)
    {
        if (arguments.StartsWith("--", StringComparison.Ordinal))
        {
            var flag = arguments.Split(' ', 2)[0];
            diagnostics.Error(file, $"RUN option {flag} is not supported", line.Number, "RUN", "remove it");
            return null;
        }

        if (arguments.StartsWith('['))
        {
            return ExecForm(file, line, "RUN", arguments, diagnostics) is { } exec ? new RunInstruction(line.Number, null, exec) : null;
        }

        return new RunInstruction(line.Number, arguments, null);
    }

    private static CopyInstruction? Copy(string file, LogicalLine line, bool isAdd, string arguments, InputFileReader context, DiagnosticBag diagnostics)
    {
        var keyword = isAdd ? "ADD" : "COPY";
        List<string> words;
        string? chown = null, chmod = null;
        var (split, problem) = ShellWords.Split(arguments);
        if (problem is not null)
        {
            diagnostics.Error(file, problem, line.Number, keyword);
            return null;
        }

        var flags = split.TakeWhile(w => w.StartsWith("--", StringComparison.Ordinal)).ToList();
        foreach (var flag in flags)
        {
            if (flag.StartsWith("--chown=", StringComparison.Ordinal))
            {
                chown = flag[8..];
            }
            else if (flag.StartsWith("--chmod=", StringComparison.Ordinal) && ModePattern().IsMatch(flag[8..]))
            {
                chmod = flag[8..];
            }
            else if (flag.StartsWith("--from=", StringComparison.Ordinal))
            {
                diagnostics.Error(file, $"{keyword} --from is not supported: there are no other build stages", line.Number, keyword,
                    "copy files from the project directory instead");
                return null;
            }
            else
            {
                diagnostics.Error(file, $"{keyword} option '{flag}' is not supported", line.Number, keyword, "supported options: --chown=USER[:GROUP], --chmod=OCTAL");
                return null;
            }
        }

        var rest = arguments;
        for (var i = 0; i < flags.Count; i++)
        {
            rest = rest.TrimStart()[flags[i].Length..];
        }

        rest = rest.Trim();
        if (rest.StartsWith('['))
        {
            var exec = ExecForm(file, line, keyword, rest, diagnostics);
            if (exec is null)
            {
                return null;
            }

            words = exec.ToList();
        }
        else
        {
            words = split.Skip(flags.Count).ToList();
        }

        if (words.Count < 2)
        {
            diagnostics.Error(file, $"{keyword} needs at least one source and a destination", line.Number, keyword, $"e.g. {keyword} files/motd /etc/motd");
            return null;
        }

        var sources = words[..^1];
        foreach (var source in sources)
        {
            if (isAdd && UrlPattern().IsMatch(source))
            {
                diagnostics.Error(file, "ADD from a URL is not supported (builds must not depend on the network beyond registries)", line.Number, keyword,
                    "download the file into the project directory and ADD it from there");
                return null;
            }

            if (CheckSource(file, line, keyword, source, context, diagnostics) is false)
            {
                return null;
            }
        }

        if (sources.Count > 1 && !words[^1].EndsWith('/'))
        {
            diagnostics.Error(file, $"{keyword} with several sources needs a destination directory ending in '/'", line.Number, keyword);
            return null;
        }

        return new CopyInstruction(line.Number, isAdd, sources, words[^1], chown, chmod);
    }

    /// <summary>A source must stay inside the build context and exist there (at least one match for a pattern).</summary>
    private static bool CheckSource(string file, LogicalLine line, string keyword, string source, InputFileReader context, DiagnosticBag diagnostics)
    {
        var normalised = source.Replace('\\', '/').TrimStart('/');
        var full = Path.GetFullPath(Path.Combine(context.ProjectDirectory, normalised));
        var root = context.ProjectDirectory.TrimEnd('/') + "/";
        if (!(full + "/").StartsWith(root, StringComparison.Ordinal))
        {
            diagnostics.Error(file, $"source '{source}' is outside the project directory", line.Number, keyword, "sources are relative to the project directory");
            return false;
        }

        if (normalised.IndexOfAny(['*', '?', '[']) >= 0)
        {
            var directory = Path.GetDirectoryName(full)!;
            var pattern = Path.GetFileName(full);
            if (!Directory.Exists(directory) || !Directory.EnumerateFileSystemEntries(directory, pattern).Any())
            {
                diagnostics.Error(file, $"source pattern '{source}' matches nothing in the project directory", line.Number, keyword);
                return false;
            }

            return true;
        }

        if (!File.Exists(full) && !Directory.Exists(full) && new FileInfo(full).LinkTarget is null)
        {
            diagnostics.Error(file, $"source '{source}' does not exist in the project directory", line.Number, keyword, "paths are relative to the project directory");
            return false;
        }

        // The build copies a link at the end of the path as a link, but follows every directory on the way to it: a
        // linked directory would carry files from outside the project into the image.
        if (!context.AllowExternalLinks && context.LeavesProject(Path.GetDirectoryName(full)!, out var real))
        {
            diagnostics.Error(file, $"source '{source}' goes through a symbolic link leaving the project directory (to {real})", line.Number, keyword,
                "copy the files into the project, or pass --allow-external-links");
            return false;
        }

        if (new FileInfo(full).LinkTarget is null && LinuxFileStatus.Get(full).Type is LinuxFileStatus.TypeFifo or LinuxFileStatus.TypeSocket
                or LinuxFileStatus.TypeCharacter or LinuxFileStatus.TypeBlock)
        {
            diagnostics.Error(file, $"source '{source}' is a special file (FIFO, socket or device), which is not copied into an image", line.Number, keyword,
                "copy regular files, directories or links");
            return false;
        }

        return true;
    }

    private static List<KeyValuePair<string, string>>? Pairs(string file, LogicalLine line, string keyword, string arguments, DiagnosticBag diagnostics, bool allowLegacyForm)
    {
        var (words, problem) = ShellWords.Split(arguments);
        if (problem is not null)
        {
            diagnostics.Error(file, problem, line.Number, keyword);
            return null;
        }

        // Legacy form "ENV KEY value with spaces": the first word has no '='.
        if (allowLegacyForm && !words[0].Contains('='))
        {
            if (words.Count < 2)
            {
                diagnostics.Error(file, $"{keyword} {words[0]} has no value", line.Number, keyword, $"write {keyword} {words[0]}=value");
                return null;
            }

            return CheckNames(file, line, keyword, [new(words[0], string.Join(' ', words.Skip(1)))], diagnostics);
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var word in words)
        {
            var equals = word.IndexOf('=');
            if (equals <= 0)
            {
                diagnostics.Error(file, $"'{Shorten(word)}' is not NAME=VALUE", line.Number, keyword, $"write {keyword} NAME=value (quote values with spaces)");
                return null;
            }

            pairs.Add(new(word[..equals], word[(equals + 1)..]));
        }

        return CheckNames(file, line, keyword, pairs, diagnostics);
    }

    private static List<KeyValuePair<string, string>>? CheckNames(string file, LogicalLine line, string keyword, List<KeyValuePair<string, string>> pairs, DiagnosticBag diagnostics)
    {
        if (keyword != "ENV")
        {
            return pairs;
        }

        foreach (var (name, _) in pairs)
        {
            if (!NamePattern().IsMatch(name))
            {
                diagnostics.Error(file, $"'{Shorten(name)}' is not a valid variable name", line.Number, keyword, "use letters, digits and '_', not starting with a digit");
                return null;
            }
        }

        return pairs;
    }

    private static ArgInstruction? Arg(string file, LogicalLine line, string arguments, DiagnosticBag diagnostics)
    {
        var (words, problem) = ShellWords.Split(arguments);
        if (problem is not null || words.Count != 1)
        {
            diagnostics.Error(file, problem ?? "ARG declares exactly one NAME or NAME=default", line.Number, "ARG");
            return null;
        }

        var equals = words[0].IndexOf('=');
        var name = equals < 0 ? words[0] : words[0][..equals];
        if (!NamePattern().IsMatch(name))
        {
            diagnostics.Error(file, $"'{Shorten(name)}' is not a valid argument name", line.Number, "ARG");
            return null;
        }

        return new ArgInstruction(line.Number, name, equals < 0 ? null : words[0][(equals + 1)..]);
    }

    private static WorkdirInstruction? Workdir(string file, LogicalLine line, string path, DiagnosticBag diagnostics)
    {
        if (!path.StartsWith('/') && !path.StartsWith('$'))
        {
            diagnostics.Warning(file, $"relative WORKDIR '{path}' is resolved against the previous WORKDIR (/ at first)", line.Number, "WORKDIR");
        }

        return new WorkdirInstruction(line.Number, path);
    }

    private static string? SingleWord(string file, LogicalLine line, string keyword, string arguments, DiagnosticBag diagnostics)
    {
        var (words, problem) = ShellWords.Split(arguments);
        if (problem is not null || words.Count != 1)
        {
            diagnostics.Error(file, problem ?? $"{keyword} takes exactly one argument", line.Number, keyword);
            return null;
        }

        return words[0];
    }

    private static IReadOnlyList<string>? ExecForm(string file, LogicalLine line, string keyword, string json, DiagnosticBag diagnostics)
    {
        try
        {
            var items = JsonSerializer.Deserialize<List<string>>(json);
            if (items is { Count: > 0 })
            {
                return items;
            }
        }
        catch (JsonException)
        {
        }

        diagnostics.Error(file, $"{keyword} exec form must be a JSON array of strings", line.Number, keyword,
            "use double quotes: [\"/bin/sh\", \"-c\", \"echo hi\"]");
        return null;
    }

    /// <summary>Joins continuation lines (trailing backslash), dropping comment lines inside them as the Dockerfile parser does.</summary>
    private static List<LogicalLine> LogicalLines(string text)
    {
        var result = new List<LogicalLine>();
        var physical = text.Split('\n');
        for (var i = 0; i < physical.Length; i++)
        {
            var line = physical[i].TrimEnd('\r');
            var trimmed = line.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }

            if (trimmed.StartsWith('#'))
            {
                result.Add(new LogicalLine(i + 1, trimmed, IsComment: true));
                continue;
            }

            var start = i + 1;
            var builder = new System.Text.StringBuilder();
            while (true)
            {
                var current = physical[i].TrimEnd('\r');
                var continues = current.TrimEnd().EndsWith('\\');
                builder.Append(continues ? current.TrimEnd()[..^1] : current).Append(continues ? " " : "");
                if (!continues || i + 1 >= physical.Length)
                {
                    break;
                }

                i++;
                while (i < physical.Length && physical[i].Trim().StartsWith('#'))
                {
                    i++;
                }

                if (i >= physical.Length)
                {
                    break;
                }
            }

            result.Add(new LogicalLine(start, builder.ToString().Trim(), IsComment: false));
        }

        return result;
    }

    private static string Shorten(string text) => text.Length <= 50 ? text : text[..47] + "...";

    private sealed record LogicalLine(int Number, string Text, bool IsComment);

    [GeneratedRegex(@"^([A-Za-z]+)(?:\s+(.*))?$", RegexOptions.Singleline)]
    private static partial Regex InstructionPattern();

    [GeneratedRegex(@"<<-?\s*['""]?[A-Za-z_]+")]
    private static partial Regex HeredocPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[0-7]{3,4}$")]
    private static partial Regex ModePattern();

    /// <summary>What CanvOS's Dockerfile does above the marker with certs/ (copy, install into the trust store, clean up).</summary>
    [GeneratedRegex(@"(^|\s)/?certs/?(\s|$|/)|update-ca-certificates|update-ca-trust")]
    private static partial Regex CanvosCertificateStep();

    [GeneratedRegex("^[a-z]+://", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPattern();
}
