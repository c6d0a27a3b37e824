using System.Text.Json;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Cli.Commands;

/// <summary>Prints validation findings grouped by file, or as JSON.</summary>
internal static class DiagnosticsReport
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void WriteText(TextWriter writer, DiagnosticBag diagnostics, bool includeInfo = false)
    {
        var shown = diagnostics.Items.Where(d => includeInfo || d.Severity != Severity.Info).ToList();
        foreach (var group in shown.GroupBy(d => d.File))
        {
            writer.WriteLine(group.Key);
            foreach (var diagnostic in group.OrderBy(d => d.Line ?? 0).ThenBy(d => d.Column ?? 0))
            {
                writer.WriteLine("  " + diagnostic);
            }
        }
    }

    public static string Summary(DiagnosticBag diagnostics)
    {
        var errors = diagnostics.Errors.Count();
        var warnings = diagnostics.Warnings.Count();
        var files = diagnostics.Items.Where(d => d.Severity != Severity.Info).Select(d => d.File).Distinct().Count();
        return $"{Count(errors, "error")}, {Count(warnings, "warning")}" + (errors + warnings > 0 ? $" in {Count(files, "file")}" : "");
    }

    public static object ToJson(Diagnostic d) => new
    {
        severity = d.Severity.ToString().ToLowerInvariant(),
        file = d.File,
        line = d.Line,
        column = d.Column,
        key = d.Key,
        message = d.Message,
        hint = d.Hint,
    };

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";
}
