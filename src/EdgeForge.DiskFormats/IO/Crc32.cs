namespace EdgeForge.DiskFormats.IO;

/// <summary>
/// CRC-32 as the UEFI specification requires for GPT headers and partition entry arrays (UEFI 2.10 §5.3.2: the
/// ISO 3309 / ITU-T V.42 polynomial 0x04C11DB7, reflected, initial value and final XOR 0xFFFFFFFF).
/// </summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
