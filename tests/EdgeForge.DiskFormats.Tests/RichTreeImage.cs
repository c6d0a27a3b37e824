using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;

namespace EdgeForge.DiskFormats.Tests;

/// <summary>The rich test tree and the Rock Ridge + Joliet image written from it, shared by the tests that read it.</summary>
public sealed class RichTreeImage : IDisposable
{
    private readonly TestDirectory _temp = new();

    public RichTreeImage()
    {
        SourceRoot = _temp.Combine("tree");
        TestTrees.BuildRich(SourceRoot);
        Source = new DirectoryFileTreeSource(SourceRoot);
        ImagePath = _temp.Combine("rich.iso");
        var writer = new Iso9660Writer(new IsoImageOptions { VolumeId = "RICH_TREE", Timestamp = 1_700_000_000, ComputeSha256 = true });
        writer.AddFileTree(Source);
        using var output = File.Create(ImagePath);
        Result = writer.WriteAsync(output).GetAwaiter().GetResult();
    }

    public string SourceRoot { get; }
    public DirectoryFileTreeSource Source { get; }
    public string ImagePath { get; }
    public IsoImageResult Result { get; }

    public string Scratch(string name) => _temp.Combine(name);

    public void Dispose() => _temp.Dispose();
}
