using System.Text;

namespace EdgeForge.SquashFs;

/// <summary>
/// Every name and symlink target of the tree as UTF-8, packed into 1 MiB chunks: a million entries cost their bytes
/// and nothing per string. A handle is the byte offset; an item never straddles two chunks.
/// </summary>
internal sealed class NamePool
{
    private const int ChunkBits = 20, ChunkSize = 1 << ChunkBits;

    private readonly List<byte[]> _chunks = [];
    private int _used = ChunkSize;

    /// <summary>Stores <paramref name="text"/> and returns its handle and UTF-8 length.</summary>
    public (long Handle, int Length) Add(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        if (length > ChunkSize)
        {
            throw new SquashFsTreeException($"'{text[..64]}…': longer than {ChunkSize} bytes");
        }

        if (_used + length > ChunkSize)
        {
            _chunks.Add(new byte[ChunkSize]);
            _used = 0;
        }

        var handle = ((long)(_chunks.Count - 1) << ChunkBits) | (uint)_used;
        Encoding.UTF8.GetBytes(text, _chunks[^1].AsSpan(_used));
        _used += length;
        return (handle, length);
    }

    public ReadOnlySpan<byte> Get(long handle, int length) =>
        _chunks[(int)(handle >> ChunkBits)].AsSpan((int)(handle & (ChunkSize - 1)), length);
}
