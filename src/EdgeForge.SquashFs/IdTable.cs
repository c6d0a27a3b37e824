namespace EdgeForge.SquashFs;

/// <summary>
/// The id table: every distinct uid and gid once; inodes hold 16-bit indexes into it (format.adoc "ID Table"), so an
/// image can name at most 65536 distinct ids.
/// </summary>
internal sealed class IdTable
{
    private readonly Dictionary<uint, ushort> _indexById = [];
    private readonly List<uint> _ids = [];

    public IReadOnlyList<uint> Ids => _ids;

    /// <summary>The ids in table order, as the on-disk u32 array.</summary>
    public ReadOnlySpan<uint> AsSpan() => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_ids);

    public ushort IndexOf(int id)
    {
        var key = unchecked((uint)id);
        if (_indexById.TryGetValue(key, out var index))
        {
            return index;
        }

        if (_ids.Count > ushort.MaxValue)
        {
            throw new SquashFsTreeException("the tree uses more than 65536 distinct uids and gids; SquashFS's id table cannot hold them");
        }

        index = (ushort)_ids.Count;
        _indexById.Add(key, index);
        _ids.Add(key);
        return index;
    }
}
