using System.Text;

namespace EdgeForge.Configuration.Dockerfiles;

/// <summary>Splits Dockerfile arguments into words the way the Dockerfile parser does: white space separates, quotes group, backslash escapes.</summary>
internal static class ShellWords
{
    /// <summary>The words, or the reason the text cannot be split (an unterminated quote).</summary>
    public static (List<string> Words, string? Problem) Split(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
                else if (c == '\\' && quote == '"' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$')
                {
                    current.Append(text[++i]);
                }
                else
                {
                    current.Append(c);
                }

                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }

                continue;
            }

            inWord = true;
            if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '\\' && i + 1 < text.Length)
            {
                current.Append(text[++i]);
            }
            else
            {
                current.Append(c);
            }
        }

        if (quote != '\0')
        {
            return (words, $"unterminated {(quote == '"' ? "double" : "single")} quote");
        }

        if (inWord)
        {
            words.Add(current.ToString());
        }

        return (words, null);
    }
}
