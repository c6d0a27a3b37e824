using System.Buffers.Binary;
using System.Text;

namespace EdgeForge.DiskFormats.IO;

/// <summary>
/// The numeric and text field encodings of ECMA-119 §7 (7.1.1 8-bit, 7.2.3 both-byte-order 16-bit, 7.3.3
/// both-byte-order 32-bit) and the little-endian fields of MBR, GPT and FAT.
/// </summary>
internal static class BinaryFields
{
    /// <summary>ECMA-119 §7.2.3: little-endian copy followed by big-endian copy.</summary>
    public static void WriteBoth16(Span<byte> destination, int value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)value);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)value);
    }

    /// <summary>ECMA-119 §7.3.3: little-endian copy followed by big-endian copy.</summary>
    public static void WriteBoth32(Span<byte> destination, long value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, checked((uint)value));
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], checked((uint)value));
    }

    public static uint ReadLsb32(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt32LittleEndian(source);

    public static ushort ReadLsb16(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt16LittleEndian(source);

    /// <summary>Writes <paramref name="text"/> as a fixed-width a-/d-character field padded with spaces (ECMA-119 §7.4).</summary>
    public static void WriteSpacePadded(Span<byte> destination, string text)
    {
        destination.Fill((byte)' ');
        var bytes = Encoding.ASCII.GetBytes(text);
        bytes.AsSpan(0, Math.Min(bytes.Length, destination.Length)).CopyTo(destination);
    }

    /// <summary>Writes <paramref name="text"/> as a fixed-width UCS-2 big-endian field padded with (0x00 0x20) (Joliet §3.1, SVD fields).</summary>
    public static void WriteUcs2SpacePadded(Span<byte> destination, string text)
    {
        for (var i = 0; i + 1 < destination.Length; i += 2)
        {
            var c = i / 2 < text.Length ? text[i / 2] : ' ';
            BinaryPrimitives.WriteUInt16BigEndian(destination[i..], c);
        }
    }

    public static string ReadTrimmedAscii(ReadOnlySpan<byte> source) => Encoding.ASCII.GetString(source).TrimEnd(' ', '\0');

    public static string ReadTrimmedUcs2(ReadOnlySpan<byte> source) => Encoding.BigEndianUnicode.GetString(source[..(source.Length & ~1)]).TrimEnd(' ', '\0');

    public static long RoundUp(long value, long multiple) => (value + multiple - 1) / multiple * multiple;

    public static long DivideRoundingUp(long value, long divisor) => (value + divisor - 1) / divisor;
}
