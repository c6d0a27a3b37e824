using EdgeForge.Configuration.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Configuration.Yaml;

/// <summary>
/// Loads a YAML file into the representation model (nodes keep their line and column), turning every failure into a
/// diagnostic with a position. YamlDotNet reports most syntax errors as <see cref="YamlException"/> with a mark, but
/// some structures the parser accepts are refused later by the representation model with an
/// <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/> and no mark: for those, the position of
/// the last event read is the best one there is.
/// </summary>
public static class YamlLoader
{
    public static YamlStream? Load(string fileName, string text, DiagnosticBag diagnostics, string hint)
    {
        var parser = new PositionTrackingParser(new Parser(new StringReader(text)));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
            return stream;
        }
        catch (YamlException e)
        {
            var message = e.Message.Contains("Duplicate key", StringComparison.Ordinal) ? "duplicate key" : CleanMessage(e);
            var fix = message == "duplicate key" ? "a key may appear once per mapping: remove or merge one of them" : hint;
            diagnostics.Error(fileName, "invalid YAML: " + message, (int)e.Start.Line, column: (int)e.Start.Column, hint: fix);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            diagnostics.Error(fileName, "invalid YAML: a node cannot be read at this position", (int)parser.LastPosition.Line,
                column: (int)parser.LastPosition.Column, hint: hint);
        }

        return null;
    }

    /// <summary>YamlDotNet prefixes messages with "(Line: …, Col: …, Idx: …) - (…): "; the position is reported separately.</summary>
    private static string CleanMessage(YamlException e)
    {
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return (message.StartsWith('(') && cut > 0 ? message[(cut + 3)..] : message).TrimEnd('.');
    }

    private sealed class PositionTrackingParser(IParser inner) : IParser
    {
        public Mark LastPosition { get; private set; } = Mark.Empty;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            if (inner.Current is { } current)
            {
                LastPosition = current.Start;
            }

            return moved;
        }
    }
}
