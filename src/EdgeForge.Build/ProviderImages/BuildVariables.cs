using System.Text;

namespace EdgeForge.Build.ProviderImages;

/// <summary>
/// The variables a Dockerfile step sees: the image's <c>ENV</c> (kept in the config) and <c>ARG</c> values (build
/// time only), with Docker's substitution of <c>$VAR</c>, <c>${VAR}</c>, <c>${VAR:-default}</c> in the
/// instructions that allow it (COPY, ADD, ENV, LABEL, WORKDIR, USER).
/// </summary>
public sealed class BuildVariables
{
    private readonly List<KeyValuePair<string, string>> _env;
    private readonly Dictionary<string, string> _args = new(StringComparer.Ordinal);

    public BuildVariables(IEnumerable<string>? imageEnv)
    {
        _env = (imageEnv ?? []).Select(e => e.IndexOf('=') is var i and > 0 ? new KeyValuePair<string, string>(e[..i], e[(i + 1)..]) : new(e, "")).ToList();
    }

    /// <summary>The image's environment as config <c>Env</c> lines, in order.</summary>
    public IReadOnlyList<string> ImageEnv => _env.Select(e => $"{e.Key}={e.Value}").ToList();

    public void SetEnv(string name, string value)
    {
        var index = _env.FindIndex(e => e.Key == name);
        if (index >= 0)
        {
            _env[index] = new(name, value);
        }
        else
        {
            _env.Add(new(name, value));
        }
    }

    public void SetArg(string name, string value) => _args[name] = value;

    /// <summary>What a RUN sees: ARG values, overridden by ENV (Docker's precedence), plus a default PATH.</summary>
    public Dictionary<string, string> ForRun()
    {
        var variables = new Dictionary<string, string>(_args, StringComparer.Ordinal);
        foreach (var (name, value) in _env)
        {
            variables[name] = value;
        }

        variables.TryAdd("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        return variables;
    }

    /// <summary>The variables as stable text, part of cache keys.</summary>
    public string Fingerprint() =>
        string.Join("\n", ForRun().OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));

    public string Substitute(string text)
    {
        var variables = ForRun();
        var result = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] == '$')
            {
                result.Append('$');
                i++;
                continue;
            }

            if (text[i] != '$' || i + 1 >= text.Length)
            {
                result.Append(text[i]);
                continue;
            }

            if (text[i + 1] == '{' && text.IndexOf('}', i + 2) is var close and > 0)
            {
                var inner = text[(i + 2)..close];
                var dash = inner.IndexOf(":-", StringComparison.Ordinal);
                var name = dash >= 0 ? inner[..dash] : inner;
                var value = variables.GetValueOrDefault(name);
                result.Append(string.IsNullOrEmpty(value) && dash >= 0 ? inner[(dash + 2)..] : value);
                i = close;
                continue;
            }

            var end = i + 1;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }

            if (end == i + 1)
            {
                result.Append('$');
                continue;
            }

            result.Append(variables.GetValueOrDefault(text[(i + 1)..end]));
            i = end - 1;
        }

        return result.ToString();
    }
}
