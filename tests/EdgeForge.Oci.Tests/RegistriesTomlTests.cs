using EdgeForge.Oci.Registry;

namespace EdgeForge.Oci.Tests;

/// <summary>Given registries.conf text, when edgeforge reads its TOML, then values are exact and every refusal names the line.</summary>
public class RegistriesTomlTests
{
    private const string File = "/site/registries.conf";

    private static TomlTable Read(string text) => RegistriesTomlReader.Parse(text, File);

    private static RegistriesConfigurationException Refused(string text) =>
        Should.Throw<RegistriesConfigurationException>(() => RegistriesTomlReader.Parse(text, File));

    [Fact]
    public void Strings_booleans_arrays_comments_and_tables_are_read_as_written()
    {
        var root = Read("""
            # a comment
            unqualified-search-registries = ["a.example", 'b.example',  # inline comment
              "c.example",   # trailing comma next
            ]
            "quoted key" = 'C:\no\escapes'	# tab before the comment

            [[registry]]
            prefix = "example.com/foo"
            insecure = true
            [[registry.mirror]]
            location = "m0.local/\u0041\tX\\Y\"Z\U0001F600"
            [[registry.mirror]]
            location = "m1.local"
            [[registry]]
            location="other.example"
            blocked=false
            [aliases]
              "fedora" = "registry.fedoraproject.org/fedora"
            """);

        ((TomlStringArray)Get(root, "unqualified-search-registries")).Values.ShouldBe(["a.example", "b.example", "c.example"]);
        ((TomlString)Get(root, "quoted key")).Value.ShouldBe(@"C:\no\escapes");
        var registries = ((TomlTableArray)Get(root, "registry")).Tables;
        registries.Count.ShouldBe(2);
        ((TomlBoolean)Get(registries[0], "insecure")).Value.ShouldBeTrue();
        var mirrors = ((TomlTableArray)Get(registries[0], "mirror")).Tables;
        mirrors.Select(m => ((TomlString)Get(m, "location")).Value).ShouldBe(["m0.local/A\tX\\Y\"Z\U0001F600", "m1.local"]);
        mirrors[1].Line.ShouldBe(12);
        registries[1].TryGet("mirror", out _).ShouldBeFalse();
        ((TomlBoolean)Get(registries[1], "blocked")).Value.ShouldBeFalse();
        ((TomlString)Get((TomlTable)Get(root, "aliases"), "fedora")).Value.ShouldBe("registry.fedoraproject.org/fedora");
    }

    [Fact]
    public void Crlf_line_ends_and_a_byte_order_mark_are_accepted()
    {
        var root = Read("\uFEFF[[registry]]\r\nlocation = \"a.example\"\r\n\r\n[[registry]]\r\nlocation = \"b.example\"\r\n");

        var tables = ((TomlTableArray)Get(root, "registry")).Tables;
        tables.Select(t => t.Line).ShouldBe([1, 4]);
    }

    [Theory]
    [InlineData("a = 1", 1, "numbers and dates")]
    [InlineData("\n\na = 2024-01-01", 3, "numbers and dates")]
    [InlineData("a = {b = \"c\"}", 1, "inline tables")]
    [InlineData("a = \"\"\"x\"\"\"", 1, "multi-line strings")]
    [InlineData("a = '''x'''", 1, "multi-line strings")]
    [InlineData("a.b = \"c\"", 1, "dotted key")]
    [InlineData("a = \"unterminated", 1, "unterminated string")]
    [InlineData("a = 'unterminated\nb = 'x'", 1, "unterminated literal string")]
    [InlineData("a = \"bad \\e escape\"", 1, "unknown escape \\e")]
    [InlineData("a = \"\\u12\"", 1, "4 hexadecimal digits")]
    [InlineData("a = \"\\uD800\"", 1, "not a Unicode scalar value")]
    [InlineData("a = \"x\" b = \"y\"", 1, "unexpected 'b'")]
    [InlineData("a = bare", 1, "quote strings")]
    [InlineData("a = [\"x\", true]", 1, "only arrays of quoted strings")]
    [InlineData("a = [\"x\"\n\"y\"]", 2, "expected ',' or ']'")]
    [InlineData("a = [\"x\",\n", 1, "not closed")]
    [InlineData("a = \"x\"\na = \"y\"", 2, "set twice in the same table (first on line 1)")]
    [InlineData("[t]\n[t]", 2, "defined twice")]
    [InlineData("a = \"x\"\n[[a]]", 2, "already a string (line 1)")]
    [InlineData("[[registry\nlocation = \"x\"", 1, "not closed with ]]")]
    [InlineData("a =", 1, "has no value")]
    [InlineData("= \"x\"", 1, "cannot start a key")]
    [InlineData("a = \"x\"\rb = \"y\"", 1, "carriage return")]
    [InlineData("a = \"tab\tok but bell \u0007 not\"", 1, "control character U+0007")]
    [InlineData("# bell \u0007 in a comment", 1, "control character U+0007 inside a comment")]
    public void What_the_subset_does_not_support_is_refused_with_file_line_and_a_fix(string text, int line, string problem)
    {
        var error = Refused(text);

        error.File.ShouldBe(File);
        error.Line.ShouldBe(line);
        error.Message.ShouldContain(problem);
        error.Message.ShouldStartWith($"{File}:{line}: ");
        error.Fix.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void A_super_table_may_follow_its_sub_table_once()
    {
        var root = Read("[a.b]\nx = \"1\"\n[a]\ny = \"2\"");

        var a = (TomlTable)Get(root, "a");
        ((TomlString)Get(a, "y")).Value.ShouldBe("2");
        ((TomlString)Get((TomlTable)Get(a, "b"), "x")).Value.ShouldBe("1");
        Refused("[a.b]\n[a]\n[a]").Line.ShouldBe(3);
    }

    private static TomlValue Get(TomlTable table, string key) =>
        table.TryGet(key, out var value) ? value : throw new KeyNotFoundException(key);
}
