namespace EdgeForge.DiskFormats.IO;

/// <summary>
/// The build timestamp of reproducible images: <c>SOURCE_DATE_EPOCH</c>
/// (https://reproducible-builds.org/specs/source-date-epoch/), or 0 when it is unset, so two runs give the same bytes.
/// </summary>
public static class SourceDateEpoch
{
    public const string VariableName = "SOURCE_DATE_EPOCH";

    /// <summary>Seconds since the Unix epoch from the environment, 0 when unset; a malformed value is an error.</summary>
    public static long FromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(VariableName);
        if (string.IsNullOrWhiteSpace(value))
        {
            return 0;
        }

        return long.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            ? seconds
            : throw new FormatException($"{VariableName}={value}: expected a non-negative integer number of seconds");
    }
}
