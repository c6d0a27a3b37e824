namespace EdgeForge.Configuration.Diagnostics;

public enum Severity
{
    Error,
    Warning,
    Info,
}

/// <summary>
/// One finding about the user's input: which file, where (line and column, or the key), what is wrong and how to fix it.
/// Messages never contain secret values (tokens, passwords, credentials).
/// </summary>
public sealed record Diagnostic(
    Severity Severity,
    string File,
    string Message,
    int? Line = null,
    int? Column = null,
    string? Key = null,
    string? Hint = null)
{
    /// <summary><c>FILE:LINE:COL: error: KEY: MESSAGE (HINT)</c> — the shape editors and CI logs link to.</summary>
    public override string ToString()
    {
        var where = File;
        if (Line is { } line)
        {
            where += $":{line}";
            if (Column is { } column)
            {
                where += $":{column}";
            }
        }

        var severity = Severity.ToString().ToLowerInvariant();
        var key = Key is null ? "" : $"{Key}: ";
        var hint = Hint is null ? "" : $" — {Hint}";
        return $"{where}: {severity}: {key}{Message}{hint}";
    }
}
