namespace EdgeForge.Compression.Tests;

internal static class SampleData
{
    /// <summary>Deterministic, half-compressible test data.</summary>
    public static byte[] HalfCompressible(int length, int seed = 7)
    {
        var random = new Random(seed);
        var data = new byte[length];
        random.NextBytes(data);
        for (var i = 0; i < length; i++)
        {
            data[i] &= 0x0F;
        }

        return data;
    }
}
