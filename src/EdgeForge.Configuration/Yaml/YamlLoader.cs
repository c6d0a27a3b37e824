using EdgeForge.Configuration.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace EdgeForge.Configuration.Yaml;

/// <summary>The bounds every YAML input is read within (docs/decisions.md, "Input limits").</summary>
public static class YamlLimits
{
    /// <summary>
    /// Collections nested deeper than this are refused before they are built: the representation model recurses per
    /// level, and a few hundred thousand <c>[</c> overflow the stack. Installer configuration is rarely deeper than 10;
    /// System.Text.Json's default maximum depth is the same 64.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Nodes of a document after alias expansion: an alias counts every node of what it names again, so anchors that
    /// refer to anchors ("billion laughs") cannot turn a few KB into millions of nodes to validate and report on.
    /// Real user data has a few hundred nodes, a large cluster-profile file a few thousand.
    /// </summary>
    public const int MaxExpandedNodes = 100_000;
}

/// <summary>
/// Loads a YAML file into the representation model (nodes keep their line and column), turning every failure into a
/// diagnostic with a position. Before parsing, characters YAML 1.2 does not allow in a stream (§5.1: C0 and C1
/// controls other than tab, line feed, carriage return and NEL) are refused with their line, as the edge host's Go
/// decoder refuses them; a U+FFFD (what a lenient decoder leaves of invalid UTF-8) is refused too. While parsing,
/// depth and expanded node count are bounded (<see cref="YamlLimits"/>) and an alias inside the node it names (a
/// cycle) is refused. Messages never quote the file's content: it may not be YAML at all, or not the user's.
/// </summary>
public static class YamlLoader
{
    /// <summary>How many disallowed characters are reported one by one before the rest are summed up.</summary>
    private const int MaxCharacterReports = 10;

    public static YamlStream? Load(string fileName, string text, DiagnosticBag diagnostics, string hint)
    {
        if (!CheckCharacters(fileName, text, diagnostics))
        {
            return null;
        }

        var parser = new BoundedParser(new Parser(new StringReader(text)));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
            return stream;
        }
        catch (YamlLimitException e)
        {
            diagnostics.Error(fileName, e.Message, (int)e.Start.Line, column: (int)e.Start.Column, hint: e.Fix);
        }
        catch (AnchorNotFoundException e)
        {
            diagnostics.Error(fileName, "invalid YAML: an alias (*name) refers to no anchor (&name) defined before it", (int)e.Start.Line,
                column: (int)e.Start.Column, hint: "define the anchor above its first alias, or write the value out");
        }
        catch (YamlException e)
        {
            var duplicate = e.Message.Contains("Duplicate key", StringComparison.Ordinal);
            diagnostics.Error(fileName, "invalid YAML: " + (duplicate ? "duplicate key" : CleanMessage(e)), (int)e.Start.Line, column: (int)e.Start.Column,
                hint: duplicate ? "a key may appear once per mapping: remove or merge one of them" : hint);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // YamlDotNet's parser accepts some structures its representation model then refuses with an exception that
            // carries no mark (ArgumentException, InvalidOperationException, …): the last event read is the best position.
            diagnostics.Error(fileName, "invalid YAML: a node cannot be read at this position", (int)parser.LastPosition.Line,
                column: (int)parser.LastPosition.Column, hint: hint);
        }

        return null;
    }

    /// <summary>YAML 1.2 §5.1 c-printable, plus U+FFFD refused as the trace of a lossy decode.</summary>
    private static bool CheckCharacters(string fileName, string text, DiagnosticBag diagnostics)
    {
        var reported = 0;
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                lineStart = i + 1;
                continue;
            }

            if (IsAllowed(c, text, i))
            {
                if (char.IsHighSurrogate(c))
                {
                    i++;
                }

                continue;
            }

            reported++;
            if (reported <= MaxCharacterReports)
            {
                var what = c == '\uFFFD'
                    ? "holds U+FFFD, the replacement character: the file is not valid UTF-8 here (a decoder replaced bytes it could not read)"
                    : $"holds the control character U+{(int)c:X4}, which YAML does not allow (the edge host's decoder refuses the whole file)";
                diagnostics.Error(fileName, what, line, column: i - lineStart + 1,
                    hint: c == '\uFFFD' ? "save the file as UTF-8" : "remove it; write it as an escape (\"\\x07\") inside a double-quoted string if the value needs it");
            }
        }

        if (reported > MaxCharacterReports)
        {
            diagnostics.Error(fileName, $"holds {reported - MaxCharacterReports} more characters YAML does not allow (not listed)", hint: "is this a text file?");
        }

        return reported == 0;
    }

    private static bool IsAllowed(char c, string text, int index) => c switch
    {
        '\t' or '\r' or '\u0085' => true,
        >= ' ' and <= '~' => true,
        >= '\u00A0' and <= '\uD7FF' => true,
        >= '\uE000' and <= '\uFFFC' => true,
        '\uFFFD' => false,
        '\uFFFE' or '\uFFFF' => false,
        _ when char.IsHighSurrogate(c) => index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]),
        _ => false,
    };

    /// <summary>YamlDotNet prefixes messages with "(Line: …, Col: …, Idx: …) - (…): "; the position is reported separately.</summary>
    private static string CleanMessage(YamlException e)
    {
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return (message.StartsWith('(') && cut > 0 ? message[(cut + 3)..] : message).TrimEnd('.');
    }

    private sealed class YamlLimitException(Mark start, string message, string fix) : Exception(message)
    {
        public Mark Start { get; } = start;

        public string Fix { get; } = fix;
    }

    /// <summary>
    /// Counts while the representation model pulls events, so a limit stops the load before the structure exists:
    /// open collections form a stack whose frames sum the expanded size of their content; a closed anchored frame
    /// records its size, and an alias adds that size again. This is linear in the text, whatever the aliases.
    /// </summary>
    private sealed class BoundedParser(IParser inner) : IParser
    {
        private readonly Stack<(string? Anchor, long Size)> _open = new();
        private readonly Dictionary<string, long> _anchorSizes = new(StringComparer.Ordinal);
        private long _total;

        public Mark LastPosition { get; private set; } = Mark.Empty;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            if (inner.Current is not { } current)
            {
                return moved;
            }

            LastPosition = current.Start;
            switch (current)
            {
                case DocumentStart:
                    _anchorSizes.Clear();
                    break;
                case Scalar scalar:
                    Record(scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value, 1, current.Start);
                    break;
                case NodeEvent { } start and (SequenceStart or MappingStart):
                    if (_open.Count >= YamlLimits.MaxDepth)
                    {
                        throw new YamlLimitException(current.Start, $"collections are nested more than {YamlLimits.MaxDepth} levels deep here; refused",
                            "flatten the structure: no installer or profile setting needs this depth");
                    }

                    Add(1, current.Start);
                    _open.Push((start.Anchor.IsEmpty ? null : start.Anchor.Value, 1));
                    break;
                case SequenceEnd or MappingEnd:
                    var (anchor, size) = _open.Pop();
                    if (anchor is not null)
                    {
                        _anchorSizes[anchor] = size;
                    }

                    AddToParent(size);
                    break;
                case AnchorAlias alias:
                    var name = alias.Value.Value;
                    if (_open.Any(frame => frame.Anchor == name))
                    {
                        throw new YamlLimitException(current.Start, "an alias refers to the node that contains it (a cycle); refused",
                            "an alias may only repeat a node that is complete before it");
                    }

                    Add(_anchorSizes.GetValueOrDefault(name, 1), current.Start);
                    AddToParent(_anchorSizes.GetValueOrDefault(name, 1));
                    break;
            }

            return moved;
        }

        private void Record(string? anchor, long size, Mark at)
        {
            Add(size, at);
            AddToParent(size);
            if (anchor is not null)
            {
                _anchorSizes[anchor] = size;
            }
        }

        private void Add(long size, Mark at)
        {
            _total += size;
            if (_total > YamlLimits.MaxExpandedNodes)
            {
                throw new YamlLimitException(at, $"aliases and nodes expand to more than {YamlLimits.MaxExpandedNodes:N0} nodes here; refused",
                    "anchors (&) that alias (*) other anchors multiply; write the values out, or split the file");
            }
        }

        private void AddToParent(long size)
        {
            if (_open.Count > 0)
            {
                var (anchor, parentSize) = _open.Pop();
                _open.Push((anchor, parentSize + size));
            }
        }
    }
}
