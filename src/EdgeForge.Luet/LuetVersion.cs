using System.Text;

namespace EdgeForge.Luet;

/// <summary>
/// luet's version ordering and selectors. luet pkg/versioner/versioner.go compares versions as Debian versions
/// (go-deb-version: <c>[epoch:]upstream[-revision]</c>, Debian Policy §5.6.12 "Version") after sanitising them
/// (<c>_</c> → <c>-</c>, a leading <c>v</c> before a digit dropped, leading zeros of digit runs dropped), and reads a
/// requirement's version as an operator (<c>&gt;=</c>, <c>&lt;=</c>, <c>!=</c>, <c>==</c>, <c>&gt;</c>, <c>&lt;</c>,
/// <c>=</c>, <c>!</c>) followed by a version, or a bare version meaning equality.
/// </summary>
public static class LuetVersion
{
    // luet pkg/versioner/versioner.go `selectors`: longer operators are tried first.
    private static readonly (string Operator, Func<int, bool> Accepts)[] Operators =
    [
        (">=", c => c >= 0),
        ("<=", c => c <= 0),
        ("!=", c => c != 0),
        ("==", c => c == 0),
        (">", c => c > 0),
        ("<", c => c < 0),
        ("=", c => c == 0),
        ("!", c => c != 0),
    ];

    /// <summary>
    /// Whether <paramref name="version"/> satisfies <paramref name="selector"/> (luet ValidateSelector). An empty
    /// selector accepts every version: it is how a requirement without a version is written (luet treats
    /// <c>&gt;=0</c>, its default, as "no version defined").
    /// </summary>
    public static bool Satisfies(string version, string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return true;
        }

        var candidate = Sanitize(version);
        var sanitizedSelector = Sanitize(selector);
        var accepts = (Func<int, bool>)(c => c == 0);
        var wanted = sanitizedSelector;
        var equality = true;
        foreach (var (op, test) in Operators)
        {
            if (sanitizedSelector.StartsWith(op, StringComparison.Ordinal))
            {
                accepts = test;
                equality = op is "==" or "=" or "!=" or "!";
                wanted = Sanitize(sanitizedSelector[op.Length..]);
                break;
            }
        }

        if (!DebianVersion.TryParse(candidate, out var have) || !DebianVersion.TryParse(wanted, out var want))
        {
            // Ordering against something that is not a version means nothing; equality still does (as in luet).
            return equality && accepts(string.Equals(candidate, wanted, StringComparison.Ordinal) ? 0 : 1);
        }

        return accepts(have.CompareTo(want));
    }

    /// <summary>Orders versions as luet's Sort does: unparseable ones first, then ascending Debian order.</summary>
    public static int Compare(string a, string b)
    {
        var validA = DebianVersion.TryParse(Sanitize(a), out var va);
        var validB = DebianVersion.TryParse(Sanitize(b), out var vb);
        return (validA, validB) switch
        {
            (false, false) => 0,
            (false, true) => -1,
            (true, false) => 1,
            _ => va.CompareTo(vb),
        };
    }

    /// <summary>luet versioner Sanitize: <c>_</c> → <c>-</c>, trimmed, <c>v1.0</c> → <c>1.0</c>, <c>1.00</c> → <c>1.0</c>.</summary>
    public static string Sanitize(string value)
    {
        var s = value.Replace('_', '-').Trim();
        if (s.Length > 1 && s[0] is 'v' or 'V' && char.IsAsciiDigit(s[1]))
        {
            s = s[1..];
        }

        var result = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length;)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                result.Append(s[i++]);
                continue;
            }

            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            var digits = s[start..i].TrimStart('0');
            result.Append(digits.Length == 0 ? "0" : digits);
        }

        return result.ToString();
    }
}

/// <summary>A Debian version (Debian Policy §5.6.12), compared by dpkg's algorithm.</summary>
internal readonly record struct DebianVersion(long Epoch, string Upstream, string Revision) : IComparable<DebianVersion>
{
    public static bool TryParse(string value, out DebianVersion version)
    {
        version = default;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        long epoch = 0;
        var rest = value;
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!long.TryParse(value[..colon], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out epoch))
            {
                return false;
            }

            rest = value[(colon + 1)..];
        }

        var dash = rest.LastIndexOf('-');
        var upstream = dash >= 0 ? rest[..dash] : rest;
        var revision = dash >= 0 ? rest[(dash + 1)..] : "";
        // §5.6.12: the upstream version should start with a digit and may contain alphanumerics and . + - ~ (and ':'
        // only with an epoch, '-' only with a revision); the revision alphanumerics and + . ~.
        if (upstream.Length == 0 || !char.IsAsciiDigit(upstream[0]) || (dash >= 0 && revision.Length == 0))
        {
            return false;
        }

        if (!upstream.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '~' or '-' or ':') ||
            !revision.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '~'))
        {
            return false;
        }

        version = new DebianVersion(epoch, upstream, revision);
        return true;
    }

    public int CompareTo(DebianVersion other)
    {
        if (Epoch != other.Epoch)
        {
            return Epoch.CompareTo(other.Epoch);
        }

        var upstream = CompareParts(Upstream, other.Upstream);
        return upstream != 0 ? upstream : CompareParts(Revision, other.Revision);
    }

    // dpkg lib/dpkg/version.c verrevcmp: alternating non-digit parts (compared character by character, letters before
    // non-letters, '~' before everything, even the end) and digit parts (compared numerically).
    private static int CompareParts(string a, string b)
    {
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            while ((i < a.Length && !char.IsAsciiDigit(a[i])) || (j < b.Length && !char.IsAsciiDigit(b[j])))
            {
                var ac = Order(a, i);
                var bc = Order(b, j);
                if (ac != bc)
                {
                    return ac - bc;
                }

                i++;
                j++;
            }

            while (i < a.Length && a[i] == '0')
            {
                i++;
            }

            while (j < b.Length && b[j] == '0')
            {
                j++;
            }

            var firstDifference = 0;
            while (i < a.Length && j < b.Length && char.IsAsciiDigit(a[i]) && char.IsAsciiDigit(b[j]))
            {
                if (firstDifference == 0)
                {
                    firstDifference = a[i] - b[j];
                }

                i++;
                j++;
            }

            if (i < a.Length && char.IsAsciiDigit(a[i]))
            {
                return 1;
            }

            if (j < b.Length && char.IsAsciiDigit(b[j]))
            {
                return -1;
            }

            if (firstDifference != 0)
            {
                return firstDifference;
            }
        }

        return 0;
    }

    private static int Order(string s, int index)
    {
        if (index >= s.Length)
        {
            return 0;
        }

        var c = s[index];
        return char.IsAsciiDigit(c) ? 0 : char.IsAsciiLetter(c) ? c : c == '~' ? -1 : c + 256;
    }
}
