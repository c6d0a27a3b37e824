namespace EdgeForge.Configuration.Diagnostics;

/// <summary>
/// Collects every finding of a validation run, so the user sees all problems at once rather than one per run. A
/// finding repeated at the same place (a node reached through several aliases) is kept once, and at most
/// <see cref="MaxPerFile"/> are kept per file: the rest are summed up in one closing finding, so a hostile file cannot
/// turn into hundreds of MiB of messages, and the error count stays honest.
/// </summary>
public sealed class DiagnosticBag
{
    /// <summary>Findings listed per file; a real project with more than this many needs fixing from the top anyway.</summary>
    public const int MaxPerFile = 100;

    private readonly List<Diagnostic> _items = [];
    private readonly HashSet<(Severity, string, int?, int?, string?, string)> _seen = [];
    private readonly Dictionary<string, int> _countByFile = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Errors, int Others)> _suppressed = new(StringComparer.Ordinal);

    public IReadOnlyList<Diagnostic> Items => _suppressed.Count == 0 ? _items : [.. _items, .. _suppressed.Select(Summary)];

    public bool HasErrors => Items.Any(d => d.Severity == Severity.Error);

    public IEnumerable<Diagnostic> Errors => Items.Where(d => d.Severity == Severity.Error);

    public IEnumerable<Diagnostic> Warnings => Items.Where(d => d.Severity == Severity.Warning);

    public void Add(Diagnostic diagnostic)
    {
        // The key is part of the identity only without a line: at one line and column it names the same node by another path.
        var key = diagnostic.Line is null ? diagnostic.Key : null;
        if (!_seen.Add((diagnostic.Severity, diagnostic.File, diagnostic.Line, diagnostic.Column, key, diagnostic.Message)))
        {
            return;
        }

        var count = _countByFile.GetValueOrDefault(diagnostic.File);
        _countByFile[diagnostic.File] = count + 1;
        if (count < MaxPerFile)
        {
            _items.Add(diagnostic);
            return;
        }

        var (errors, others) = _suppressed.GetValueOrDefault(diagnostic.File);
        _suppressed[diagnostic.File] = diagnostic.Severity == Severity.Error ? (errors + 1, others) : (errors, others + 1);
    }

    public void AddRange(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            Add(diagnostic);
        }
    }

    public void Error(string file, string message, int? line = null, string? key = null, string? hint = null, int? column = null) =>
        Add(new Diagnostic(Severity.Error, file, message, line, column, key, hint));

    public void Warning(string file, string message, int? line = null, string? key = null, string? hint = null, int? column = null) =>
        Add(new Diagnostic(Severity.Warning, file, message, line, column, key, hint));

    public void Info(string file, string message, int? line = null, string? key = null, string? hint = null) =>
        Add(new Diagnostic(Severity.Info, file, message, line, null, key, hint));

    private static Diagnostic Summary(KeyValuePair<string, (int Errors, int Others)> suppressed)
    {
        var (errors, others) = suppressed.Value;
        return new Diagnostic(errors > 0 ? Severity.Error : Severity.Warning, suppressed.Key,
            $"{errors + others:N0} more problems in this file are not listed ({errors:N0} errors, {others:N0} warnings or notes)",
            Hint: $"only the first {MaxPerFile} are listed per file; fix those and run again");
    }
}
