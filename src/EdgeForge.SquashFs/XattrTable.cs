using System.Buffers.Binary;
using System.Text;

namespace EdgeForge.SquashFs;

/// <summary>
/// The distinct extended attribute sets of the tree, each serialised once as SquashFS key/value entries
/// (format.adoc "Extended Attribute Table"): inodes with equal sets share one xattr id, as with mksquashfs.
/// Names are sorted so the image does not depend on the source's dictionary order.
/// </summary>
internal sealed class XattrTable(bool enabled)
{
    private readonly Dictionary<byte[], uint> _idBySet = new(ByteArrayComparer.Instance);
    private readonly List<(byte[] Entries, int Count, int Size)> _sets = [];

    public bool Enabled => enabled;

    /// <summary>The serialised key/value entries, pair count and the "size" mksquashfs records (Σ full name + 1 + value) of each id.</summary>
    public IReadOnlyList<(byte[] Entries, int Count, int Size)> Sets => _sets;

    /// <summary>Attributes dropped because SquashFS has no prefix id for their namespace.</summary>
    public int Skipped { get; private set; }

    /// <summary>The xattr id for <paramref name="attributes"/>, or <see cref="SquashFsFormat.InvalidXattr"/> for none.</summary>
    public uint Add(IReadOnlyDictionary<string, byte[]> attributes)
    {
        if (!enabled || attributes.Count == 0)
        {
            return SquashFsFormat.InvalidXattr;
        }

        var names = new List<string>(attributes.Count);
        foreach (var name in attributes.Keys)
        {
            if (PrefixOf(name) is null)
            {
                Skipped++;
                continue;
            }

            names.Add(name);
        }

        if (names.Count == 0)
        {
            return SquashFsFormat.InvalidXattr;
        }

        names.Sort(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        var size = 0;
        Span<byte> header = stackalloc byte[4];
        foreach (var fullName in names)
        {
            var (type, prefix) = PrefixOf(fullName)!.Value;
            var suffix = Encoding.UTF8.GetBytes(fullName[prefix.Length..]);
            var value = attributes[fullName];
            if (suffix.Length > ushort.MaxValue)
            {
                throw new SquashFsTreeException($"xattr name {fullName}: too long");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(header, type);
            BinaryPrimitives.WriteUInt16LittleEndian(header[2..], (ushort)suffix.Length);
            buffer.Write(header);
            buffer.Write(suffix);
            BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)value.Length);
            buffer.Write(header);
            buffer.Write(value);
            size += Encoding.UTF8.GetByteCount(fullName) + 1 + value.Length;
        }

        var entries = buffer.ToArray();
        if (_idBySet.TryGetValue(entries, out var id))
        {
            return id;
        }

        id = (uint)_sets.Count;
        _idBySet.Add(entries, id);
        _sets.Add((entries, names.Count, size));
        return id;
    }

    private static (ushort Type, string Prefix)? PrefixOf(string name) =>
        name.StartsWith("user.", StringComparison.Ordinal) ? (SquashFsFormat.XattrUser, "user.")
        : name.StartsWith("trusted.", StringComparison.Ordinal) ? (SquashFsFormat.XattrTrusted, "trusted.")
        : name.StartsWith("security.", StringComparison.Ordinal) ? (SquashFsFormat.XattrSecurity, "security.")
        : null;

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
