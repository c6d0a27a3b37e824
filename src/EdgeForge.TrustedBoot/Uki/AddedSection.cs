using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Uki;

/// <summary>A section the UKI adds to the stub: its bytes in memory (small text) or a stream it is copied from (kernel, initrd).</summary>
internal sealed record AddedSection(string Name, byte[]? Bytes, Stream? Source, long Length, uint Characteristics, long VirtualSize)
{
    public static AddedSection Data(string name, byte[] bytes) =>
        new(name, bytes, null, bytes.Length, SectionHeader.ContainsInitializedData, bytes.Length);

    public static AddedSection Streamed(string name, Stream source, long length, uint contents, long virtualSize) =>
        new(name, null, source, length, contents, virtualSize);
}
