using System.Text;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// One challenge of a <c>WWW-Authenticate</c> header (RFC 9110 §11.6.1 / RFC 7235 §4.1): a scheme and its
/// parameters, e.g. <c>Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"</c>
/// (distribution docs, token authentication spec "How to authenticate").
/// </summary>
public sealed record AuthenticationChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? Realm => Parameters.GetValueOrDefault("realm");

    public string? Service => Parameters.GetValueOrDefault("service");

    public string? Scope => Parameters.GetValueOrDefault("scope");

    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Parses a header value that may hold several challenges separated by commas. A challenge starts with a scheme
    /// token followed by whitespace; its parameters are <c>name=token</c> or <c>name="quoted\"string"</c> pairs
    /// separated by commas, so a token not followed by '=' begins the next challenge.
    /// </summary>
    public static IReadOnlyList<AuthenticationChallenge> Parse(string header)
    {
        var challenges = new List<AuthenticationChallenge>();
        var position = 0;
        string? scheme = null;
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            SkipSeparators(header, ref position);
            if (position >= header.Length)
            {
                break;
            }

            var token = ReadToken(header, ref position);
            if (token.Length == 0)
            {
                throw new FormatException($"malformed WWW-Authenticate header at offset {position}");
            }

            var afterToken = position;
            SkipWhitespace(header, ref position);
            if (position < header.Length && header[position] == '=' && scheme is not null && !IsToken68Tail(header, position))
            {
                position++;
                SkipWhitespace(header, ref position);
                var value = position < header.Length && header[position] == '"' ? ReadQuoted(header, ref position) : ReadToken(header, ref position);
                parameters[token] = value;
                continue;
            }

            position = afterToken;
            if (scheme is not null)
            {
                challenges.Add(new AuthenticationChallenge(scheme, parameters));
            }

            scheme = token;
            parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }

        if (scheme is not null)
        {
            challenges.Add(new AuthenticationChallenge(scheme, parameters));
        }

        return challenges;
    }

    // token68 values (Basic abc==) end in '='; a parameter's '=' is followed by a value, not by ',' or end.
    private static bool IsToken68Tail(string header, int equalsAt)
    {
        var next = equalsAt + 1;
        while (next < header.Length && header[next] == '=')
        {
            next++;
        }

        while (next < header.Length && header[next] is ' ' or '\t')
        {
            next++;
        }

        return next >= header.Length || header[next] == ',';
    }

    private static void SkipWhitespace(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t')
        {
            i++;
        }
    }

    private static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or ',')
        {
            i++;
        }
    }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or '\t' or ',' or '=' or '"'))
        {
            i++;
        }

        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var builder = new StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
            }

            builder.Append(s[i]);
            i++;
        }

        if (i >= s.Length)
        {
            throw new FormatException("unterminated quoted string in WWW-Authenticate header");
        }

        i++; // closing quote
        return builder.ToString();
    }
}
