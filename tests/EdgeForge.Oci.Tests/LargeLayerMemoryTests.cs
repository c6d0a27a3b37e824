using EdgeForge.FileTree;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Testing;
using EdgeForge.Oci.Transports;

namespace EdgeForge.Oci.Tests;

/// <summary>
/// Given an image with a 1 GiB layer, when the CLI copies it to a registry and back, then the process never holds
/// more than 200 MiB — blobs stream, nothing is buffered whole. Peak RSS of the child process comes from
/// /usr/bin/time -v (the kernel's maxrss of the whole process, launcher included).
/// </summary>
[Trait("Tier", "Heavy")]
public class LargeLayerMemoryTests(AnonymousRegistryFixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<AnonymousRegistryFixture>, IDisposable
{
    private const long OneGiB = 1L << 30;
    private const long Limit = 200L << 20;
    private readonly TestDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Copying_an_image_with_a_1_GiB_layer_stays_under_200_MiB_of_memory()
    {
        // The layer is written straight into the layout's blob directory (a BlobCache has the same layout).
        var layout = _directory.Combine("layout");
        var layer = await LayerWriter.WriteAsync(new OneBigFileTree(OneGiB), new BlobCache(layout), new LayerOptions { Compression = LayerCompression.None });
        layer.Size.ShouldBeGreaterThan(OneGiB);
        var image = BuiltImage.Create(new ImageConfig { Architecture = "amd64", Os = "linux", RootFs = new RootFs { DiffIds = [] } }, [layer]);
        await ImageCopier.WriteAsync(image, new OciLayoutImageDestination(layout, "big"));
        var reference = $"{fixture.Registry.Address}/memory/big:v1";
        var environment = new Dictionary<string, string> { ["EDGEFORGE_CACHE"] = _directory.Combine("cache") };

        var push = await EdgeforgeCli.RunMeasuredAsync(environment, "image", "copy", $"oci:{layout}:big", $"docker://{reference}");
        push.ExitCode.ShouldBe(0, push.Output);
        push.PeakRssBytes.ShouldBeLessThan(Limit, $"push peak RSS {push.PeakRssBytes >> 20} MiB");

        var pulledLayout = _directory.Combine("pulled");
        var pull = await EdgeforgeCli.RunMeasuredAsync(environment, "image", "copy", $"docker://{reference}", $"oci:{pulledLayout}:big");
        pull.ExitCode.ShouldBe(0, pull.Output);
        pull.PeakRssBytes.ShouldBeLessThan(Limit, $"pull peak RSS {pull.PeakRssBytes >> 20} MiB");

        output.WriteLine($"peak RSS: push {push.PeakRssBytes >> 20} MiB, pull {pull.PeakRssBytes >> 20} MiB");
        var pulled = await SourceImage.LoadAsync(new OciLayoutImageSource(pulledLayout, "big"));
        pulled.Digest.ShouldBe(image.Digest);
        (await new RegistryClient().BlobExistsAsync(ImageReference.Parse(reference), layer.Descriptor)).ShouldBeTrue();
        new FileInfo(OciLayout.BlobPath(pulledLayout, layer.Digest)).Length.ShouldBe(layer.Size);
    }

    /// <summary>A tree of one large file whose contents are generated (xorshift) as they are read.</summary>
    private sealed class OneBigFileTree(long size) : IFileTreeSource
    {
        public IReadOnlyList<FileTreeEntry> Entries { get; } = [new FileTreeEntry { Path = "big.bin", Kind = FileTreeEntryKind.RegularFile, Mode = 0x1A4, Size = size }];

        public async Task ReadContentsAsync(Func<FileTreeEntry, Stream, CancellationToken, ValueTask> consumer, CancellationToken cancellationToken = default) =>
            await consumer(Entries[0], new GeneratedStream(size), cancellationToken);
    }

    private sealed class GeneratedStream(long length) : Stream
    {
        private ulong _state = 0x9E3779B97F4A7C15;
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, length - _position) & ~7;
            if (count == 0 && _position < length)
            {
                count = (int)Math.Min(buffer.Length, length - _position);
            }

            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buffer[..(count & ~7)]);
            for (var i = 0; i < words.Length; i++)
            {
                _state ^= _state << 13;
                _state ^= _state >> 7;
                _state ^= _state << 17;
                words[i] = _state;
            }

            for (var i = count & ~7; i < count; i++)
            {
                buffer[i] = (byte)i;
            }

            _position += count;
            return count;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
