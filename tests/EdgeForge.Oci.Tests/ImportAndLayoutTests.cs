using System.Text.Json;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

/// <summary>Given a root filesystem, when I import it, then the image is valid, reproducible and readable by umoci and skopeo.</summary>
public class ImportAndLayoutTests : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private BlobCache Store(string name = "cache") => new(_directory.Combine(name));

    [Fact]
    public async Task Importing_the_same_root_filesystem_twice_gives_the_same_manifest_digest()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var options = new ImportOptions { Env = ["PATH=/usr/bin", "LANG=C.UTF-8"], Labels = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } };

        var first = await RootFsImporter.ImportAsync(rootfs, Store("cache1"), options);
        // Touch every file's timestamp: the tar's times come from SOURCE_DATE_EPOCH, not the disk.
        foreach (var file in Directory.EnumerateFiles(rootfs, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow);
        }

        await Task.Delay(1100);
        var second = await RootFsImporter.ImportAsync(rootfs, Store("cache2"), options);

        second.Digest.ShouldBe(first.Digest);
        second.Layers[0].Digest.ShouldBe(first.Layers[0].Digest);
        await ImageValidator.ValidateAsync(first);
        first.Config.Config!.Labels!.Keys.ShouldBe(["a", "b"]);
    }

    [Fact]
    public async Task The_layer_is_a_sorted_tar_with_fixed_times_owners_and_the_trees_links()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var image = await RootFsImporter.ImportAsync(rootfs, Store(), new ImportOptions { Layer = new LayerOptions { SourceDateEpoch = 1700000000 } });

        var tarPath = _directory.Combine("layer.tar");
        await using (var uncompressed = await image.Layers[0].OpenUncompressedAsync())
        await using (var file = File.Create(tarPath))
        {
            await uncompressed.CopyToAsync(file);
        }

        // System.Formats.Tar would name pax headers after the process id; nothing process-specific may remain.
        System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(tarPath)).ShouldNotContain($"PaxHeaders.{Environment.ProcessId}");
        var listing = await ExternalTool.RunAsync("tar", "--numeric-owner", "--full-time", "-tvf", tarPath);
        var lines = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.ShouldAllBe(l => l.Contains(" 0/0 ") || l.Contains($" {Environment.GetEnvironmentVariable("UID") ?? "0"}/"));
        lines.ShouldAllBe(l => l.Contains("2023-11-14 22:13:20"));
        listing.ShouldContain("usr/bin/hi -> hello");
        listing.ShouldContain("usr/bin/hello-again link to usr/bin/hello");
        listing.ShouldContain("var/lib/" + new string('d', 120) + "/state");
        var names = lines.Select(l => l[(l.IndexOf(" 2023-11-14 22:13:20 ", StringComparison.Ordinal) + 21)..].Split(" -> ")[0].Split(" link to ")[0].TrimEnd('/')).ToList();
        names.ShouldBe(names.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task An_imported_image_written_to_an_oci_layout_is_unpacked_by_umoci()
    {
        ExternalTool.Require("umoci");
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var image = await RootFsImporter.ImportAsync(rootfs, Store());
        var layout = _directory.Combine("layout");

        await ImageCopier.WriteAsync(image, new OciLayoutImageDestination(layout, "v1"));

        var bundle = _directory.Combine("bundle");
        await ExternalTool.RunAsync("umoci", "unpack", "--rootless", "--image", layout + ":v1", bundle);
        File.ReadAllText(Path.Combine(bundle, "rootfs", "etc", "os-release")).ShouldBe("ID=edgeforge-test\nVERSION_ID=1\n");
        new FileInfo(Path.Combine(bundle, "rootfs", "usr", "bin", "hi")).LinkTarget.ShouldBe("hello");
        File.GetUnixFileMode(Path.Combine(bundle, "rootfs", "usr", "bin", "hello")).ShouldBe((UnixFileMode)0x1ED);
        File.ReadAllBytes(Path.Combine(bundle, "rootfs", "var", "lib", "blob.bin")).ShouldBe(File.ReadAllBytes(Path.Combine(rootfs, "var", "lib", "blob.bin")));

        var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
        var entry = index.RootElement.GetProperty("manifests")[0];
        entry.GetProperty("annotations").GetProperty(Annotations.RefName).GetString().ShouldBe("v1");
        entry.GetProperty("digest").GetString().ShouldBe(image.Digest.ToString());

        // And read back through the layout transport, byte for byte the same image.
        var readBack = await SourceImage.LoadAsync(new OciLayoutImageSource(layout, "v1"));
        readBack.Digest.ShouldBe(image.Digest);
        await ImageValidator.ValidateAsync(readBack);
    }

    [Fact]
    public async Task A_tarball_root_filesystem_imports_to_the_same_tree_as_the_directory()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var tarball = _directory.Combine("rootfs.tar.gz");
        await ExternalTool.RunAsync("tar", "-czf", tarball, "-C", rootfs, ".");

        var fromDirectory = await ImageFileTree.LoadAsync(await RootFsImporter.ImportAsync(rootfs, Store()));
        var fromTar = await ImageFileTree.LoadAsync(await RootFsImporter.ImportAsync(tarball, Store()));

        fromTar.Entries.Select(e => (e.Path, e.Kind, e.Size, e.Mode, e.LinkTarget))
            .ShouldBe(fromDirectory.Entries.Select(e => (e.Path, e.Kind, e.Size, e.Mode, e.LinkTarget)));
    }

    [Fact]
    public async Task A_docker_archive_round_trips_and_skopeo_reads_it()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var image = await RootFsImporter.ImportAsync(rootfs, Store());
        var archive = _directory.Combine("image.tar");

        await using (var destination = new DockerArchiveImageDestination(archive, ImageReference.Parse("example.com/team/app:v2")))
        {
            await ImageCopier.WriteAsync(image, destination);
        }


        var source = DockerArchiveImageSource.Open(archive, ImageReference.Parse("example.com/team/app:v2"));
        var readBack = await SourceImage.LoadAsync(source);
        await ImageValidator.ValidateAsync(readBack);
        readBack.RawConfig.ToArray().ShouldBe(image.RawConfig.ToArray());
        readBack.Layers.Select(l => l.DiffId).ShouldBe(image.Layers.Select(l => l.DiffId));
        readBack.Layers[0].MediaType.ShouldBe(MediaTypes.DockerLayer);

        // skopeo finds the image by the name and tag recorded in manifest.json.
        var inspect = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "docker-archive:" + archive + ":example.com/team/app:v2"));
        inspect.RootElement.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()).ShouldBe([image.Layers[0].DiffId.ToString()]);

        // Back from the archive into an OCI layout: the layer is recompressed by nobody; diff-ids still match.
        var layout = _directory.Combine("layout");
        await ImageCopier.CopyAsync(source, new OciLayoutImageDestination(layout, "back"));
        await ImageValidator.ValidateAsync(await SourceImage.LoadAsync(new OciLayoutImageSource(layout, "back")));
    }

    [Fact]
    public async Task An_oci_archive_round_trips_and_skopeo_reads_it()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var image = await RootFsImporter.ImportAsync(rootfs, Store());
        var archive = _directory.Combine("image-oci.tar");

        await using (var destination = new OciArchiveImageDestination(archive, "latest"))
        {
            await ImageCopier.WriteAsync(image, destination);
        }


        var readBack = await SourceImage.LoadAsync(OciArchiveImageSource.Open(archive, "latest"));
        readBack.Digest.ShouldBe(image.Digest);
        await ImageValidator.ValidateAsync(readBack);
        var inspect = JsonDocument.Parse(await ExternalTool.RunAsync("skopeo", "inspect", "oci-archive:" + archive + ":latest"));
        inspect.RootElement.GetProperty("Digest").GetString().ShouldBe(image.Digest.ToString());
        Directory.EnumerateDirectories(_directory.Path, "image-oci.tar.staging-*").ShouldBeEmpty();
    }

    [Fact]
    public async Task The_validator_catches_a_corrupted_layer_blob()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var image = await RootFsImporter.ImportAsync(rootfs, Store());
        var layout = _directory.Combine("layout");
        await ImageCopier.WriteAsync(image, new OciLayoutImageDestination(layout, "v1"));
        var blob = OciLayout.BlobPath(layout, image.Layers[0].Digest);
        var bytes = File.ReadAllBytes(blob);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(blob, bytes);

        var readBack = await SourceImage.LoadAsync(new OciLayoutImageSource(layout, "v1"));
        var error = await Should.ThrowAsync<ImageValidationException>(() => ImageValidator.ValidateAsync(readBack));
        error.Message.ShouldContain(image.Layers[0].Digest.ToString());
    }

    [Fact]
    public async Task Two_writers_sharing_the_blob_cache_leave_one_complete_blob()
    {
        var rootfs = RootFsFixtures.Create(_directory.Path);
        var store = Store();
        var images = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => RootFsImporter.ImportAsync(rootfs, store))));

        images.Select(i => i.Digest).Distinct().ShouldHaveSingleItem();
        Directory.EnumerateFiles(Path.Combine(store.Root, "blobs", "sha256")).Select(Path.GetFileName).ShouldBe([images[0].Layers[0].Digest.Encoded]);
        await ImageValidator.ValidateAsync(images[0]);
    }
}
