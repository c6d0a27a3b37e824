using EdgeForge.FileTree;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

public class ImageFileTreeTests : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private async Task<(ImageFileTree Tree, Dictionary<string, string> Contents)> FlattenAsync(params (string Name, string? Content)[][] layers)
    {
        var store = new BlobCache(_directory.Combine("cache"));
        var tars = layers.Select((entries, i) => RootFsFixtures.WriteTar(_directory.Combine($"layer{i}.tar"), entries)).ToArray();
        var image = await TestImages.FromTarsAsync(store, tars);
        var tree = await ImageFileTree.LoadAsync(image);
        var contents = new Dictionary<string, string>();
        await tree.ReadContentsAsync(async (entry, stream, ct) =>
        {
            using var reader = new StreamReader(stream);
            contents.Add(entry.Path, await reader.ReadToEndAsync(ct));
        });
        return (tree, contents);
    }

    [Fact]
    public async Task Later_layers_replace_files_and_only_the_surviving_content_is_delivered()
    {
        var (tree, contents) = await FlattenAsync(
            [("etc/", null), ("etc/hostname", "old"), ("etc/keep", "kept")],
            [("etc/hostname", "new")]);

        tree.Entries.Select(e => e.Path).ShouldBe(["etc", "etc/hostname", "etc/keep"]);
        // Delivered in layer order: the surviving file of layer 0 first, then layer 1's replacement.
        contents.ToList().ShouldBe([new("etc/keep", "kept"), new("etc/hostname", "new")]);
    }

    [Fact]
    public async Task A_whiteout_deletes_a_file_or_a_whole_directory_of_lower_layers()
    {
        var (tree, contents) = await FlattenAsync(
            [("a/", null), ("a/file", "1"), ("b/", null), ("b/c/", null), ("b/c/deep", "2"), ("keep", "3")],
            [("a/.wh.file", ""), (".wh.b", "")]);

        tree.Entries.Select(e => e.Path).ShouldBe(["a", "keep"]);
        contents.Keys.ShouldBe(["keep"]);
    }

    [Fact]
    public async Task An_opaque_directory_hides_lower_children_but_keeps_its_own_layers_entries()
    {
        var (tree, contents) = await FlattenAsync(
            [("etc/", null), ("etc/app/", null), ("etc/app/old.conf", "old"), ("etc/app/sub/", null), ("etc/app/sub/x", "x")],
            [("etc/app/new.conf", "new"), ("etc/app/.wh..wh..opq", "")]);

        tree.Entries.Select(e => e.Path).ShouldBe(["etc", "etc/app", "etc/app/new.conf"]);
        contents.ShouldBe(new Dictionary<string, string> { ["etc/app/new.conf"] = "new" });
    }

    [Fact]
    public async Task A_file_replacing_a_directory_removes_everything_beneath_it()
    {
        var (tree, _) = await FlattenAsync(
            [("opt/", null), ("opt/tool/", null), ("opt/tool/bin", "b")],
            [("opt/tool", "now a file")]);

        tree.Entries.Single(e => e.Path == "opt/tool").Kind.ShouldBe(FileTreeEntryKind.RegularFile);
        tree.Entries.ShouldNotContain(e => e.Path.StartsWith("opt/tool/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Missing_parent_directories_are_implied_and_paths_normalised()
    {
        var (tree, _) = await FlattenAsync([("./usr/local/bin/tool", "t"), ("./usr/local/bin/link", "->tool")]);

        tree.Entries.Select(e => (e.Path, e.Kind)).ShouldBe([
            ("usr", FileTreeEntryKind.Directory),
            ("usr/local", FileTreeEntryKind.Directory),
            ("usr/local/bin", FileTreeEntryKind.Directory),
            ("usr/local/bin/link", FileTreeEntryKind.Symlink),
            ("usr/local/bin/tool", FileTreeEntryKind.RegularFile),
        ]);
        tree.Entries.Single(e => e.Path == "usr/local/bin/link").LinkTarget.ShouldBe("tool");
    }

    [Fact]
    public async Task A_layer_with_a_parent_reference_is_refused_when_flattened()
    {
        var error = await Should.ThrowAsync<UnsafeLayerEntryException>(() => FlattenAsync([("../evil", "x")]));
        error.Message.ShouldContain("../evil");
    }
}
