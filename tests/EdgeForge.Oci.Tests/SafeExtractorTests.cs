using EdgeForge.Oci.Layers;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

public class SafeExtractorTests : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private async Task ExtractAsync(string root, params (string Name, string? Content)[] entries)
    {
        var tar = RootFsFixtures.WriteTar(_directory.Combine($"layer-{Guid.NewGuid():N}.tar"), entries);
        await using var stream = File.OpenRead(tar);
        await SafeExtractor.ExtractLayerAsync(stream, root);
    }

    [Fact]
    public async Task Parent_directory_components_are_refused_with_the_entry_named()
    {
        var root = _directory.Combine("root");
        var error = await Should.ThrowAsync<UnsafeLayerEntryException>(() => ExtractAsync(root, ("etc/", null), ("etc/../../escaped", "x")));

        error.Message.ShouldContain("etc/../../escaped");
        error.Message.ShouldContain("..");
        File.Exists(_directory.Combine("escaped")).ShouldBeFalse();
    }

    [Fact]
    public async Task Absolute_paths_are_refused_with_the_entry_named()
    {
        var root = _directory.Combine("root");
        var target = _directory.Combine("absolute-target");
        var error = await Should.ThrowAsync<UnsafeLayerEntryException>(() => ExtractAsync(root, (target, "x")));

        error.Message.ShouldContain(target);
        error.Message.ShouldContain("absolute");
        File.Exists(target).ShouldBeFalse();
    }

    [Fact]
    public async Task Writing_through_a_symlink_that_leaves_the_root_is_refused()
    {
        var root = _directory.Combine("root");
        var error = await Should.ThrowAsync<UnsafeLayerEntryException>(() => ExtractAsync(root, ("escape", "->../../.."), ("escape/tmp/pwned", "x")));

        error.Message.ShouldContain("escape/tmp/pwned");
        error.Message.ShouldContain("outside the root");
        File.Exists("/tmp/pwned").ShouldBeFalse();
    }

    [Fact]
    public async Task Absolute_symlinks_resolve_inside_the_root_and_whiteouts_apply()
    {
        var root = _directory.Combine("root");
        await ExtractAsync(root, ("run/", null), ("var/", null), ("var/run", "->/run"), ("var/run/app.pid", "42"), ("etc/", null), ("etc/gone", "x"), ("etc/opaque/", null), ("etc/opaque/lower", "l"));
        await ExtractAsync(root, ("etc/.wh.gone", ""), ("etc/opaque/upper", "u"), ("etc/opaque/.wh..wh..opq", ""));

        File.ReadAllText(Path.Combine(root, "run", "app.pid")).ShouldBe("42");
        File.Exists(Path.Combine(root, "etc", "gone")).ShouldBeFalse();
        Directory.EnumerateFileSystemEntries(Path.Combine(root, "etc", "opaque")).Select(Path.GetFileName).ShouldBe(["upper"]);
    }
}
