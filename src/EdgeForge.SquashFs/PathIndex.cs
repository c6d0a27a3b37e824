namespace EdgeForge.SquashFs;

/// <summary>
/// Tree path → node, storing a 64-bit FNV-1a hash per path instead of the path itself (a million paths would
/// otherwise cost ~150 MB of strings). A hash hit is confirmed against the real path; the rare paths whose hashes
/// collide move to an exact string dictionary.
/// </summary>
internal sealed class PathIndex(Func<int, string> pathOfNode)
{
    private const int Collided = -1;

    private readonly Dictionary<ulong, int> _byHash = [];
    private readonly Dictionary<string, int> _collisions = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="path"/>; false when it is already present.</summary>
    public bool TryAdd(string path, int node)
    {
        var hash = Hash(path);
        if (!_byHash.TryGetValue(hash, out var existing))
        {
            _byHash.Add(hash, node);
            return true;
        }

        if (existing != Collided)
        {
            var existingPath = pathOfNode(existing);
            if (existingPath == path)
            {
                return false;
            }

            _collisions[existingPath] = existing;
            _byHash[hash] = Collided;
        }

        return _collisions.TryAdd(path, node);
    }

    public bool TryGet(string path, out int node)
    {
        if (!_byHash.TryGetValue(Hash(path), out node))
        {
            return false;
        }

        if (node == Collided)
        {
            return _collisions.TryGetValue(path, out node);
        }

        return pathOfNode(node) == path || Fail(out node);
    }

    private static bool Fail(out int node)
    {
        node = 0;
        return false;
    }

    private static ulong Hash(string path)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in path)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
