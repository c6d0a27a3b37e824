using System.Text;
using System.Text.Unicode;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.FileTree;

namespace EdgeForge.Configuration.Inputs;

/// <summary>What is at an input's path.</summary>
public enum InputFileState
{
    /// <summary>Nothing: not even a dangling link. Callers decide whether that is fine.</summary>
    Missing,

    /// <summary>A regular file (or a directory, when one was asked for) that may be read.</summary>
    Usable,

    /// <summary>Something that must not be read; the diagnostic naming the file is already reported.</summary>
    Refused,
}

/// <summary>
/// The one way every reader of project inputs opens a file. Only regular files of bounded size are read: a FIFO
/// would block the validator forever and <c>/dev/zero</c> would fill memory, so the file type is checked with
/// statx(2) before anything is opened, and no read goes past the limit even if the file changes in between. Paths
/// that leave the project directory — through a symbolic link anywhere along the path, <c>..</c>, or an absolute
/// value — are refused unless the user allowed it (<c>--allow-external-links</c>): a link to a file outside the
/// project must not let its content reach a build, or an error message. Text must be UTF-8 without NUL bytes.
/// </summary>
public sealed class InputFileReader
{
    /// <summary>The largest text input read (user data with embedded scripts and certificates stays far below it).</summary>
    public const long DefaultMaxBytes = 4 << 20;

    /// <summary>Linux gives up after 40 links (ELOOP); so do we.</summary>
    private const int MaxLinkHops = 40;

    private readonly string _projectRoot;

    public InputFileReader(string projectDirectory, bool allowExternalLinks)
    {
        ProjectDirectory = Path.GetFullPath(projectDirectory);
        AllowExternalLinks = allowExternalLinks;
        _projectRoot = RealPath(ProjectDirectory) ?? ProjectDirectory;
    }

    /// <summary>For a file named on the command line: its own directory is the "project", and leaving it is allowed.</summary>
    public static InputFileReader ForStandaloneFile(string path) =>
        new(Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/", allowExternalLinks: true);

    public string ProjectDirectory { get; }

    public bool AllowExternalLinks { get; }

    /// <summary>
    /// Checks that <paramref name="path"/> names a regular file that may be read (<see cref="InputFileState.Usable"/>),
    /// nothing at all (<see cref="InputFileState.Missing"/>, nothing reported), or something refused (reported).
    /// <paramref name="mayLeaveProject"/> is for inputs that are outside the project by definition (<c>PROXY_CERT_PATH</c>).
    /// </summary>
    public InputFileState ProbeFile(string path, string display, DiagnosticBag diagnostics, bool mayLeaveProject = false) =>
        Probe(path, display, diagnostics, mayLeaveProject, wantDirectory: false, out _, out _);

    /// <summary>As <see cref="ProbeFile"/>, for inputs that are directories (<c>certs/</c>, <c>overlay/files</c>, <c>content-*</c>).</summary>
    public InputFileState ProbeDirectory(string path, string display, DiagnosticBag diagnostics) =>
        Probe(path, display, diagnostics, mayLeaveProject: false, wantDirectory: true, out _, out _);

    /// <summary>The text of an input file, or null when it is missing or refused (every refusal is reported).</summary>
    public string? ReadText(string path, string display, DiagnosticBag diagnostics, long maxBytes = DefaultMaxBytes, bool mayLeaveProject = false)
    {
        var bytes = ReadBytes(path, display, diagnostics, maxBytes, mayLeaveProject);
        return bytes is null ? null : DecodeText(bytes, display, diagnostics);
    }

    /// <summary>The bytes of an input file (at most <paramref name="maxBytes"/>), or null when it is missing or refused.</summary>
    public byte[]? ReadBytes(string path, string display, DiagnosticBag diagnostics, long maxBytes = DefaultMaxBytes, bool mayLeaveProject = false)
    {
        var state = Probe(path, display, diagnostics, mayLeaveProject, wantDirectory: false, out var real, out var size);
        if (state == InputFileState.Missing)
        {
            diagnostics.Error(display, "does not exist");
        }

        if (state != InputFileState.Usable)
        {
            return null;
        }

        if (size > maxBytes)
        {
            diagnostics.Error(display, $"is {size:N0} bytes; at most {maxBytes:N0} are read for this kind of file", hint: "check that the right file is named");
            return null;
        }

        try
        {
            using var stream = new FileStream(real!, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            // Read one byte past the limit: a file that grew after the check (or was swapped) is caught here, not by memory.
            var buffer = new byte[Math.Min(maxBytes + 1, Math.Max(size, 0) + 1)];
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (buffer.Length > maxBytes)
                    {
                        diagnostics.Error(display, $"holds more than {maxBytes:N0} bytes; at most that many are read for this kind of file",
                            hint: "check that the right file is named");
                        return null;
                    }

                    Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1, (long)buffer.Length * 2));
                }

                var read = stream.Read(buffer, total, buffer.Length - total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total == buffer.Length ? buffer : buffer[..total];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(display, "cannot be read: " + e.Message, hint: "check the file's permissions");
            return null;
        }
    }

    /// <summary>
    /// Strict UTF-8 (a leading byte order mark is dropped, as editors write one): an invalid sequence or a NUL byte is
    /// reported with its line, and the content is never quoted — it may not be text at all, or not the user's.
    /// </summary>
    public static string? DecodeText(byte[] bytes, string display, DiagnosticBag diagnostics)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            span = span[3..];
        }

        var nul = span.IndexOf((byte)0);
        if (nul >= 0)
        {
            diagnostics.Error(display, "holds a NUL byte: this is a binary file, not text", LineOf(span, nul), column: ColumnOf(span, nul),
                hint: "name the text file this input expects");
            return null;
        }

        var chars = new char[span.Length];
        var status = Utf8.ToUtf16(span, chars, out var bytesRead, out var charsWritten, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            diagnostics.Error(display, "is not valid UTF-8 here (a byte sequence that encodes no character)", LineOf(span, bytesRead), column: ColumnOf(span, bytesRead),
                hint: "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8); the edge host's decoders refuse anything else");
            return null;
        }

        return new string(chars, 0, charsWritten);
    }

    private static int LineOf(ReadOnlySpan<byte> text, int offset) => text[..offset].Count((byte)'\n') + 1;

    private static int ColumnOf(ReadOnlySpan<byte> text, int offset) => offset - (text[..offset].LastIndexOf((byte)'\n') + 1) + 1;

    private InputFileState Probe(string path, string display, DiagnosticBag diagnostics, bool mayLeaveProject, bool wantDirectory, out string? real, out long size)
    {
        real = null;
        size = 0;
        var full = Path.GetFullPath(path, ProjectDirectory);
        var isLink = new FileInfo(full).LinkTarget is not null;
        if (!isLink && !File.Exists(full) && !Directory.Exists(full))
        {
            // A path through a dangling link (certs → nowhere) looks missing here, and is: nothing can be read.
            return InputFileState.Missing;
        }

        real = RealPath(full);
        if (real is null)
        {
            diagnostics.Error(display, isLink ? "is a symbolic link to something that does not exist (or a loop of links)" : "cannot be resolved: a link along its path is broken or loops",
                hint: "replace the link by the file itself, or remove it");
            return InputFileState.Refused;
        }

        if (!mayLeaveProject && !AllowExternalLinks && !IsInside(real, _projectRoot))
        {
            var inside = IsInside(full, ProjectDirectory);
            diagnostics.Error(display, inside
                    ? $"is a symbolic link leaving the project directory (it resolves to {real}): refused, so nothing outside the project is read"
                    : $"is outside the project directory ({real}): refused, so nothing outside the project is read",
                hint: "copy the file into the project, or pass --allow-external-links to read it where it is");
            return InputFileState.Refused;
        }

        LinuxFileStatus status;
        try
        {
            status = LinuxFileStatus.Get(real);
        }
        catch (IOException e)
        {
            diagnostics.Error(display, "cannot be examined: " + e.Message);
            return InputFileState.Refused;
        }

        var wanted = wantDirectory ? LinuxFileStatus.TypeDirectory : LinuxFileStatus.TypeRegular;
        if (status.Type != wanted)
        {
            diagnostics.Error(display, $"is {Describe(status.Type)}, not {(wantDirectory ? "a directory" : "a regular file")}: it is not read",
                hint: wantDirectory ? $"make {display} a directory" : "only regular files are read as inputs; replace it by a file, or remove it");
            return InputFileState.Refused;
        }

        size = status.Size;
        return InputFileState.Usable;
    }

    private static string Describe(int type) => type switch
    {
        LinuxFileStatus.TypeDirectory => "a directory",
        LinuxFileStatus.TypeFifo => "a FIFO (named pipe)",
        LinuxFileStatus.TypeCharacter => "a character device",
        LinuxFileStatus.TypeBlock => "a block device",
        LinuxFileStatus.TypeSocket => "a socket",
        LinuxFileStatus.TypeRegular => "a regular file",
        _ => "a special file",
    };

    /// <summary>Whether <paramref name="path"/> resolves (through links) to a place outside the project; false when it does not resolve.</summary>
    public bool LeavesProject(string path, out string? real)
    {
        real = RealPath(Path.GetFullPath(path, ProjectDirectory));
        return real is not null && !IsInside(real, _projectRoot);
    }

    private static bool IsInside(string path, string root) =>
        path == root || path.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>
    /// realpath(3) in managed code: every symbolic link along the path is followed, <c>..</c> applied after it, as the
    /// kernel does. Null when a component does not exist or links loop.
    /// </summary>
    public static string? RealPath(string path)
    {
        var pending = new Stack<string>(Components(Path.GetFullPath(path)).Reverse());
        var resolved = "/";
        var hops = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                resolved = Path.GetDirectoryName(resolved) ?? "/";
                continue;
            }

            var candidate = Path.Join(resolved, part);
            string? target;
            try
            {
                target = new FileInfo(candidate).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }

            if (target is null)
            {
                if (!File.Exists(candidate) && !Directory.Exists(candidate))
                {
                    return null;
                }

                resolved = candidate;
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                return null;
            }

            if (target.StartsWith('/'))
            {
                resolved = "/";
            }

            foreach (var component in Components(target).Reverse())
            {
                pending.Push(component);
            }
        }

        return resolved;
    }

    private static IEnumerable<string> Components(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);
}
