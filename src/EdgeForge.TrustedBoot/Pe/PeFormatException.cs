namespace EdgeForge.TrustedBoot.Pe;

/// <summary>
/// An input file is not the PE/COFF image it should be (an input error, not a bug): the message names the file and
/// what is wrong with it.
/// </summary>
public sealed class PeFormatException(string fileName, string problem) : Exception($"{fileName}: {problem}")
{
    public string FileName { get; } = fileName;

    public string Problem { get; } = problem;
}
