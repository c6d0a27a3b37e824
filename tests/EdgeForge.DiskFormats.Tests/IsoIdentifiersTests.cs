using EdgeForge.DiskFormats.Iso9660;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>ECMA-119 §7.5/§7.6 identifiers and Joliet names: unique per directory, within length, correctly ordered.</summary>
public sealed class IsoIdentifiersTests
{
    [Fact]
    public void Thousands_of_names_sharing_a_long_prefix_get_unique_identifiers_within_the_limits()
    {
        var names = Enumerable.Range(0, 5000).Select(i => $"a-shared-prefix-that-is-longer-than-thirty-characters-{i:D5}.conf").ToList();
        var iso = IsoIdentifiers.AssignIso(names.Select(n => (n, false)).ToList());
        iso.Distinct(StringComparer.Ordinal).Count().ShouldBe(names.Count);
        iso.ShouldAllBe(id => id.EndsWith(";1") && id.Length - 2 <= IsoIdentifiers.MaxFileIdentifierLength + 1 && id.Contains(".CONF"));
        iso.ShouldAllBe(id => id.TrimEnd(';', '1').All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_' || c == '.'));

        var joliet = IsoIdentifiers.AssignJoliet(names);
        joliet.Distinct(StringComparer.Ordinal).Count().ShouldBe(names.Count);
        joliet.ShouldAllBe(n => n.Length <= IsoIdentifiers.MaxJolietLength && n.EndsWith(".conf"));
    }

    [Fact]
    public void Records_sort_by_name_then_extension_as_if_padded_with_spaces()
    {
        // §9.3: names compare padded with spaces (0x20 sorts before every d-character, so "A" < "A_B" < "B"; "AB" < "A_B"
        // as 'B' is 0x42 and '_' 0x5F); equal names compare by extension, then by version, descending; the separator
        // '.' itself is never compared.
        var ids = new List<string> { "A_B.;1", "AB.;1", "A.TXT;1", "A.;1", "B", "A" };
        ids.Sort(IsoIdentifiers.CompareIso);
        ids.ShouldBe(["A.;1", "A", "A.TXT;1", "AB.;1", "A_B.;1", "B"]);
    }
}
