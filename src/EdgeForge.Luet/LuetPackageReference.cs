namespace EdgeForge.Luet;

/// <summary>
/// One exact package, as <c>luet install</c> names it on the command line: <c>CATEGORY/NAME@VERSION</c>
/// (e.g. <c>k8s/k3s@1.30.1-k3s1</c>, the form CanvOS passes as <c>k8s/$K8S_DISTRIBUTION@$K8S_VERSION</c>).
/// </summary>
public sealed record LuetPackageReference
{
    public LuetPackageReference(string category, string name, string version)
    {
        if (!IsValidPart(category) || !IsValidPart(name) || string.IsNullOrWhiteSpace(version) || version.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"\"{category}/{name}@{version}\" is not a luet package reference (CATEGORY/NAME@VERSION)");
        }

        Category = category;
        Name = name;
        Version = version;
    }

    public string Category { get; }

    public string Name { get; }

    /// <summary>An exact version, or — for a requirement that could not be met — the selector that was asked for.</summary>
    public string Version { get; }

    /// <summary><c>CATEGORY/NAME</c>, the key versions are listed under.</summary>
    public string PackageName => $"{Category}/{Name}";

    public static LuetPackageReference Parse(string value) =>
        TryParse(value, out var reference)
            ? reference
            : throw new FormatException($"\"{value}\" is not a luet package reference: expected CATEGORY/NAME@VERSION, e.g. k8s/k3s@1.30.1-k3s1");

    public static bool TryParse(string? value, out LuetPackageReference reference)
    {
        reference = null!;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        // Versions may contain '/' nowhere and '@' nowhere in luet's fingerprints (name-category-version), so the
        // first '/' and the last '@' split the three parts.
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        var at = value.LastIndexOf('@');
        if (slash <= 0 || at <= slash + 1 || at == value.Length - 1)
        {
            return false;
        }

        var category = value[..slash];
        var name = value[(slash + 1)..at];
        var version = value[(at + 1)..];
        if (!IsValidPart(category) || !IsValidPart(name) || version.Any(char.IsWhiteSpace))
        {
            return false;
        }

        reference = new LuetPackageReference(category, name, version);
        return true;
    }

    public override string ToString() => $"{Category}/{Name}@{Version}";

    private static bool IsValidPart(string? part) =>
        !string.IsNullOrEmpty(part) && !part.Any(c => char.IsWhiteSpace(c) || c is '/' or '@');
}
