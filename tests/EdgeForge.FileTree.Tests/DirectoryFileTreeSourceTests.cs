using EdgeForge.FileTree;
using EdgeForge.Testing;

namespace EdgeForge.FileTree.Tests;

public sealed class DirectoryFileTreeSourceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ef-tree-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Reads_kinds_modes_links_and_contents_as_lstat_sees_them()
    {
        Directory.CreateDirectory(Path.Combine(_root, "usr/bin"));
        File.WriteAllText(Path.Combine(_root, "usr/bin/tool"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(_root, "usr/bin/tool"), (UnixFileMode)Convert.ToInt32("4755", 8));
        File.CreateSymbolicLink(Path.Combine(_root, "usr/bin/alias"), "tool");
        ExternalTool.Output("ln", Path.Combine(_root, "usr/bin/tool"), Path.Combine(_root, "usr/bin/zz-second-name"));
        File.WriteAllBytes(Path.Combine(_root, "empty"), []);
        ExternalTool.Output("mkfifo", Path.Combine(_root, "pipe"));

        var source = new DirectoryFileTreeSource(_root);

        source.Entries.Select(e => e.Path).ShouldBe(["empty", "pipe", "usr", "usr/bin", "usr/bin/alias", "usr/bin/tool", "usr/bin/zz-second-name"]);
        var tool = source.Entries.Single(e => e.Path == "usr/bin/tool");
        tool.Kind.ShouldBe(FileTreeEntryKind.RegularFile);
        tool.Mode.ShouldBe(Convert.ToInt32("4755", 8));
        tool.Size.ShouldBe(18);
        source.Entries.Single(e => e.Path == "usr/bin/alias").ShouldSatisfyAllConditions(
            e => e.Kind.ShouldBe(FileTreeEntryKind.Symlink), e => e.LinkTarget.ShouldBe("tool"));
        source.Entries.Single(e => e.Path == "usr/bin/zz-second-name").ShouldSatisfyAllConditions(
            e => e.Kind.ShouldBe(FileTreeEntryKind.Hardlink), e => e.LinkTarget.ShouldBe("usr/bin/tool"));
        source.Entries.Single(e => e.Path == "pipe").Kind.ShouldBe(FileTreeEntryKind.Fifo);

        var delivered = new List<(string, string)>();
        await source.ReadContentsAsync(async (entry, stream, ct) =>
        {
            using var reader = new StreamReader(stream);
            delivered.Add((entry.Path, await reader.ReadToEndAsync(ct)));
        });
        delivered.ShouldBe([("empty", ""), ("usr/bin/tool", "#!/bin/sh\necho hi\n")]);
    }

    [Fact]
    public void Lists_what_find_lists_and_never_follows_a_symlink_to_a_directory()
    {
        Directory.CreateDirectory(Path.Combine(_root, "etc/.hidden/deeper"));
        File.WriteAllText(Path.Combine(_root, "etc/.hidden/deeper/file"), "x");
        File.WriteAllText(Path.Combine(_root, "etc/.dotfile"), "y");
        File.CreateSymbolicLink(Path.Combine(_root, "etc-link"), "etc");
        File.CreateSymbolicLink(Path.Combine(_root, "etc/loop"), "..");
        Directory.CreateDirectory(Path.Combine(_root, "empty-dir"));
        for (var i = 0; i < 200; i++)
        {
            File.WriteAllText(Path.Combine(_root, $"etc/many-{i:D3}"), i.ToString());
        }

        var source = new DirectoryFileTreeSource(_root);

        // find(1) -P (the default) lists symlinks without descending into them; byte order, as the tree sorts.
        var listed = ExternalTool.Output("find", _root, "-mindepth", "1", "-printf", "%P\\n")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();
        source.Entries.Select(e => e.Path).ShouldBe(listed);
        source.Entries.Single(e => e.Path == "etc-link").Kind.ShouldBe(FileTreeEntryKind.Symlink);
        source.Entries.Single(e => e.Path == "etc/loop").Kind.ShouldBe(FileTreeEntryKind.Symlink);
        source.Entries.ShouldNotContain(e => e.Path.StartsWith("etc-link/", StringComparison.Ordinal));
    }

    [Fact]
    public void Reads_user_extended_attributes()
    {
        var file = Path.Combine(_root, "labelled");
        File.WriteAllText(file, "x");
        ExternalTool.Output("setfattr", "-n", "user.edgeforge", "-v", "yes", file);

        var entry = new DirectoryFileTreeSource(_root).Entries.Single();

        entry.ExtendedAttributes.Keys.ShouldContain("user.edgeforge");
        System.Text.Encoding.ASCII.GetString(entry.ExtendedAttributes["user.edgeforge"]).ShouldBe("yes");
    }
}
