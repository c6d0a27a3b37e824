using System.Text;

namespace EdgeForge.DiskFormats.Iso9660;

/// <summary>
/// The names the two directory trees carry besides Rock Ridge's: ISO 9660 level 2/3 identifiers (ECMA-119 §7.5, §7.6:
/// d-characters, file name + extension ≤ 30, directory ≤ 31, version ";1") and Joliet names (Joliet §3.4: UCS-2, at
/// most 64 characters, no <c>* / : ; ? \</c>).
/// </summary>
internal static class IsoIdentifiers
{
    public const int MaxFileIdentifierLength = 30;
    public const int MaxDirectoryIdentifierLength = 31;
    public const int MaxJolietLength = 64;

    /// <summary>Assigns unique ISO 9660 identifiers to the children of one directory, in the given (ordinal name) order.</summary>
    public static string[] AssignIso(IReadOnlyList<(string Name, bool IsDirectory)> children)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var nextSuffix = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new string[children.Count];
        for (var i = 0; i < children.Count; i++)
        {
            var (name, isDirectory) = children[i];
            string baseName, extension;
            int maxBase;
            if (isDirectory)
            {
                baseName = MapToDCharacters(name);
                extension = "";
                maxBase = MaxDirectoryIdentifierLength;
            }
            else
            {
                var dot = name.LastIndexOf('.');
                baseName = MapToDCharacters(dot >= 0 ? name[..dot] : name);
                extension = dot >= 0 ? MapToDCharacters(name[(dot + 1)..]) : "";
                if (extension.Length > 8 && baseName.Length > 0)
                {
                    extension = extension[..8];
                }

                extension = extension[..Math.Min(extension.Length, MaxFileIdentifierLength - 1)];
                maxBase = MaxFileIdentifierLength - extension.Length;
            }

            if (baseName.Length > maxBase)
            {
                baseName = baseName[..maxBase];
            }

            if (baseName.Length == 0 && extension.Length == 0)
            {
                baseName = "_";
            }

            var candidate = Compose(baseName, extension, isDirectory);
            if (!taken.Add(candidate))
            {
                // Numbering resumes where the last collision of the same identifier stopped: thousands of names that
                // agree in their first 30 characters stay linear.
                var n = nextSuffix.GetValueOrDefault(candidate, 1);
                var original = candidate;
                do
                {
                    var suffix = (n++).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var kept = Math.Min(baseName.Length, maxBase - suffix.Length);
                    candidate = Compose(baseName[..kept] + suffix, extension, isDirectory);
                }
                while (!taken.Add(candidate));
                nextSuffix[original] = n;
            }

            result[i] = candidate;
        }

        return result;
    }

    /// <summary>Assigns unique Joliet names to the children of one directory, keeping a short extension when truncating.</summary>
    public static string[] AssignJoliet(IReadOnlyList<string> names)
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var nextSuffix = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new string[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            var name = MapToJolietCharacters(names[i]);
            var dot = name.LastIndexOf('.');
            var extension = dot > 0 && name.Length - dot <= 16 ? name[dot..] : "";
            var stem = name[..(name.Length - extension.Length)];
            var candidate = Truncate(stem, extension, "");
            if (!taken.Add(candidate))
            {
                var original = candidate;
                var n = nextSuffix.GetValueOrDefault(original, 1);
                do
                {
                    candidate = Truncate(stem, extension, "~" + (n++).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                while (!taken.Add(candidate));
                nextSuffix[original] = n;
            }

            result[i] = candidate;
        }

        return result;
    }

    /// <summary>The Joliet name a tree name becomes when nothing collides with it (tests use it to predict listings).</summary>
    public static string JolietNameOf(string name) => AssignJoliet([name])[0];

    /// <summary>ECMA-119 §9.3: records are ordered by file name, then extension (both as if padded with spaces), then version (descending).</summary>
    public static int CompareIso(string a, string b)
    {
        var (nameA, extA, verA) = Split(a);
        var (nameB, extB, verB) = Split(b);
        var c = ComparePadded(nameA, nameB);
        if (c != 0)
        {
            return c;
        }

        c = ComparePadded(extA, extB);
        return c != 0 ? c : string.CompareOrdinal(verB, verA);
    }

    public static byte[] IsoBytes(string identifier) => Encoding.ASCII.GetBytes(identifier);

    public static byte[] JolietBytes(string name) => Encoding.BigEndianUnicode.GetBytes(name);

    private static string Compose(string baseName, string extension, bool isDirectory) =>
        isDirectory ? baseName : baseName + "." + extension + ";1";

    private static string Truncate(string stem, string extension, string suffix)
    {
        var room = MaxJolietLength - extension.Length - suffix.Length;
        if (room < 1)
        {
            return (stem + extension)[..(MaxJolietLength - suffix.Length)] + suffix;
        }

        return (stem.Length > room ? stem[..room] : stem) + suffix + extension;
    }

    private static string MapToDCharacters(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                >= 'A' and <= 'Z' or >= '0' and <= '9' or '_' => c,
                >= 'a' and <= 'z' => (char)(c - 32),
                _ => '_',
            });
        }

        return builder.ToString();
    }

    private static string MapToJolietCharacters(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                // UCS-2 has no surrogate pairs (Joliet §3.1): one replacement for the whole code point.
                builder.Append('_');
                i++;
                continue;
            }

            builder.Append(c is < ' ' or '*' or '/' or ':' or ';' or '?' or '\\' || char.IsSurrogate(c) ? '_' : c);
        }

        return builder.ToString();
    }

    private static (string Name, string Extension, string Version) Split(string identifier)
    {
        var semicolon = identifier.IndexOf(';');
        var version = semicolon >= 0 ? identifier[(semicolon + 1)..] : "";
        var rest = semicolon >= 0 ? identifier[..semicolon] : identifier;
        var dot = rest.IndexOf('.');
        return dot >= 0 ? (rest[..dot], rest[(dot + 1)..], version) : (rest, "", version);
    }

    private static int ComparePadded(string a, string b)
    {
        var length = Math.Max(a.Length, b.Length);
        for (var i = 0; i < length; i++)
        {
            var ca = i < a.Length ? a[i] : ' ';
            var cb = i < b.Length ? b[i] : ' ';
            if (ca != cb)
            {
                return ca.CompareTo(cb);
            }
        }

        return 0;
    }
}
