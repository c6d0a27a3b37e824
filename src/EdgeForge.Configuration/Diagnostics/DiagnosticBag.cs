namespace EdgeForge.Configuration.Diagnostics;

/// <summary>Collects every finding of a validation run, so the user sees all problems at once rather than one per run.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Any(d => d.Severity == Severity.Error);

    public IEnumerable<Diagnostic> Errors => _items.Where(d => d.Severity == Severity.Error);

    public IEnumerable<Diagnostic> Warnings => _items.Where(d => d.Severity == Severity.Warning);

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    public void AddRange(IEnumerable<Diagnostic> diagnostics) => _items.AddRange(diagnostics);

    public void Error(string file, string message, int? line = null, string? key = null, string? hint = null, int? column = null) =>
        Add(new Diagnostic(Severity.Error, file, message, line, column, key, hint));

    public void Warning(string file, string message, int? line = null, string? key = null, string? hint = null, int? column = null) =>
        Add(new Diagnostic(Severity.Warning, file, message, line, column, key, hint));

    public void Info(string file, string message, int? line = null, string? key = null, string? hint = null) =>
        Add(new Diagnostic(Severity.Info, file, message, line, null, key, hint));
}
