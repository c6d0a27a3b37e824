using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Testing;

namespace EdgeForge.Oci.Tests;

/// <summary>
/// Issue 12: a build looks at the same layers' file lists several times; each layer is decompressed for its headers
/// once per process — while it is pulled, when it is pulled — and a blob that does not match its digest never slips
/// through because the tar ended before the stream did.
/// </summary>
public sealed class LayerHeaderCacheTests : IDisposable
{
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>A layer of content no other test has (so its digest is new to the shared cache), counting its opens.</summary>
    private async Task<CountingLayer> UniqueLayerAsync(string name)
    {
        var tar = RootFsFixtures.WriteTar(_directory.Combine(name + ".tar"), ("etc/", null), ("etc/unique", Guid.NewGuid().ToString()), ("etc/more", "x"));
        await using var stream = File.OpenRead(tar);
        return new CountingLayer(await LayerWriter.FromTarAsync(stream, new BlobCache(_directory.Combine("cache"))));
    }

    [Fact]
    public async Task Each_layer_is_read_for_its_headers_once_however_often_its_tree_is_loaded()
    {
        var bottom = await UniqueLayerAsync("bottom");
        var top = await UniqueLayerAsync("top");
        var image = LayeredImage(bottom, top);
        for (var look = 0; look < 3; look++)
        {
            (await ImageFileTree.LoadAsync(image)).Entries.Select(e => e.Path).ShouldBe(["etc", "etc/more", "etc/unique"]);
        }

        bottom.Opens.ShouldBe(1);
        top.Opens.ShouldBe(1);

        // The contents pass still reads the layers (only headers are kept), and gets the surviving files.
        var delivered = new List<string>();
        await (await ImageFileTree.LoadAsync(image)).ReadContentsAsync((entry, _, _) =>
        {
            delivered.Add(entry.Path);
            return ValueTask.CompletedTask;
        });
        delivered.ShouldBe(["etc/unique", "etc/more"], "the top layer's files, in its tar order");
        top.Opens.ShouldBe(2);
    }

    [Fact]
    public async Task Headers_read_from_a_download_as_it_passes_are_kept_only_for_a_verified_blob()
    {
        var verified = await UniqueLayerAsync("verified");
        var tee = new LayerHeaderTee(verified);
        await using (var download = tee.Wrap(await verified.OpenCompressedAsync()))
        {
            await download.CopyToAsync(Stream.Null);
        }

        await tee.CompleteAsync(verified: true);
        var opensAfterDownload = verified.Opens;
        (await LayerHeaderCache.Shared.GetAsync(verified, CancellationToken.None)).Entries.Select(e => e.Entry.Path).ShouldBe(["etc", "etc/unique", "etc/more"]);
        verified.Opens.ShouldBe(opensAfterDownload, "the headers came from the download, not from another read of the layer");

        var failed = await UniqueLayerAsync("failed");
        var tee2 = new LayerHeaderTee(failed);
        await using (var download = tee2.Wrap(await failed.OpenCompressedAsync()))
        {
            await download.CopyToAsync(Stream.Null);
        }

        await tee2.CompleteAsync(verified: false);
        await LayerHeaderCache.Shared.GetAsync(failed, CancellationToken.None);
        failed.Opens.ShouldBe(1, "a download that was not verified leaves nothing cached: the layer is read again");
    }

    [Fact]
    public async Task A_blob_that_differs_from_its_digest_after_the_tar_end_is_refused()
    {
        // Bytes after the tar's end marker are never parsed; the digest covers them all the same.
        var tar = RootFsFixtures.WriteTar(_directory.Combine("tail.tar"), ("file", Guid.NewGuid().ToString()));
        var descriptor = new Descriptor { MediaType = MediaTypes.OciLayer, Digest = Digest.Compute(await File.ReadAllBytesAsync(tar)), Size = new FileInfo(tar).Length };
        await using (var file = new FileStream(tar, FileMode.Open, FileAccess.Write))
        {
            file.Position = file.Length - 1;
            file.WriteByte(0x55);
        }

        var layer = new BlobLayer(tar, descriptor, descriptor.Digest);
        await Should.ThrowAsync<DigestMismatchException>(() => ImageFileTree.LoadAsync(LayeredImage(layer)));
    }

    private sealed class CountingLayer(ILayer inner) : ILayer
    {
        private int _opens;

        public int Opens => _opens;

        public Descriptor Descriptor => inner.Descriptor;

        public Digest DiffId => inner.DiffId;

        public Task<Stream> OpenCompressedAsync(CancellationToken cancellationToken = default) => inner.OpenCompressedAsync(cancellationToken);

        public Task<Stream> OpenUncompressedAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _opens);
            return inner.OpenUncompressedAsync(cancellationToken);
        }
    }

    private static BuiltImage LayeredImage(params ILayer[] layers) =>
        BuiltImage.Create(new ImageConfig { Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [] } }, layers);
}
