using System.Buffers.Binary;

namespace EdgeForge.TrustedBoot.SecureBoot;

/// <summary>
/// EFI_TIME (UEFI 2.10 §8.3, 16 bytes): Year UINT16, Month, Day, Hour, Minute, Second, Pad1 (UINT8 each),
/// Nanosecond UINT32, TimeZone INT16, Daylight UINT8, Pad2 UINT8, all little-endian.
/// </summary>
public readonly record struct EfiTime(ushort Year, byte Month, byte Day, byte Hour, byte Minute, byte Second, uint Nanosecond = 0, short TimeZone = 0, byte Daylight = 0)
{
    public const int Size = 16;

    /// <summary>
    /// The TimeStamp of an EFI_VARIABLE_AUTHENTICATION_2 (§8.2.2): a UTC time whose Pad1, Nanosecond, TimeZone,
    /// Daylight and Pad2 "shall be set to 0" — firmware rejects an update whose stamp has them set.
    /// </summary>
    public static EfiTime ForAuthentication(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return new EfiTime((ushort)utc.Year, (byte)utc.Month, (byte)utc.Day, (byte)utc.Hour, (byte)utc.Minute, (byte)utc.Second);
    }

    public static EfiTime Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(source),
        source[2], source[3], source[4], source[5], source[6],
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadInt16LittleEndian(source[12..]),
        source[14]);

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Year);
        destination[2] = Month;
        destination[3] = Day;
        destination[4] = Hour;
        destination[5] = Minute;
        destination[6] = Second;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Nanosecond);
        BinaryPrimitives.WriteInt16LittleEndian(destination[12..], TimeZone);
        destination[14] = Daylight;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        Write(bytes);
        return bytes;
    }

    /// <summary>The form efitools' <c>sign-efi-sig-list -t</c> takes, for tests that compare with it.</summary>
    public override string ToString() => $"{Year:D4}-{Month:D2}-{Day:D2} {Hour:D2}:{Minute:D2}:{Second:D2}";
}
