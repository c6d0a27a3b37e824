using EdgeForge.Oci.Model;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// A registries.conf file (containers-registries.conf(5)) that cannot be used as written: the file, the line
/// (0 when the problem is the file as a whole), what is wrong and how to fix it. An <see cref="IOException"/>, like
/// every other unreadable input, so that whatever reports those reports this too, as one line.
/// </summary>
public sealed class RegistriesConfigurationException(string file, int line, string problem, string fix)
    : IOException(Format(file, line, problem, fix))
{
    public string File { get; } = file;

    public int Line { get; } = line;

    public string Problem { get; } = problem;

    public string Fix { get; } = fix;

    private static string Format(string file, int line, string problem, string fix) =>
        (line > 0 ? $"{file}:{line}: " : $"{file}: ") + problem + (fix.Length > 0 ? $" ({fix})" : "");
}

/// <summary>
/// A pull of an image whose name matches a <c>[[registry]]</c> table with <c>blocked = true</c>
/// (containers-registries.conf(5) "blocked: If true, pulling images with matching names is forbidden").
/// </summary>
public sealed class RegistryBlockedException(ImageReference reference, string prefix, string file, int line)
    : IOException($"{reference}: pulling from {prefix} is blocked by {file}:{line} (blocked = true); remove that line or pull another image")
{
    public ImageReference Reference { get; } = reference;

    public string ConfigurationFile { get; } = file;
}
