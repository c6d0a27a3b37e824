using EdgeForge.Build.Pipeline;
using EdgeForge.Content.Bundles;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.SquashFs;

namespace EdgeForge.Cli;

/// <summary>How an outcome is reported: the exit code, the message, and whether it is a defect of edgeforge's own.</summary>
public readonly record struct MappedError(int ExitCode, string Message, bool IsDefect = false);

/// <summary>
/// The one place where exceptions become exit codes: invalid input (a file, a key, an argument — exit 2) or a failed
/// operation (the network, the disk, a damaged blob — exit 1). Libraries throw their own types with messages that
/// name the file, key or image and a fix; commands let them through and never map them themselves. Anything not
/// listed here is a defect of edgeforge and says so.
/// </summary>
public static class ErrorMapping
{
    public static MappedError Classify(Exception e) => e switch
    {
        // Input the user must fix: nothing heavy has started, or what was given cannot be used.
        InvalidInputException or BuildInputException or PlanLockException or ContentInputException or RegistriesConfigurationException
            or PlatformNotFoundException or SquashFsTreeException or EdgeForge.Content.Signing.SigningKeyException
            or EdgeForge.TrustedBoot.SecureBoot.SecureBootKeyException => new(ExitCodes.InvalidInput, e.Message),
        FileNotFoundException or DirectoryNotFoundException => new(ExitCodes.InvalidInput, e.Message),

        // Text given on the command line or in an environment variable that does not parse (a reference, a platform,
        // SOURCE_DATE_EPOCH) and option values a library refuses (SquashFsOptions.Validate names the option).
        FormatException => new(ExitCodes.InvalidInput, e.Message),
        ArgumentException argument => new(ExitCodes.InvalidInput, WithoutParameterName(argument)),

        OperationCanceledException => new(ExitCodes.Failure, "cancelled"),

        // The work failed: a registry, the network, the disk, a damaged download or bundle, a build step.
        BuildFailedException or CommandFailedException or ContentBundleException or EdgeForge.Oci.ImageValidationException
            or InvalidDataException or EndOfStreamException or HttpRequestException or IOException or UnauthorizedAccessException
            or NotSupportedException => new(ExitCodes.Failure, e.Message),

        // The machine lacks a system library the compressors bind to; the message names its Debian package.
        DllNotFoundException => new(ExitCodes.Failure, e.Message),

        _ => new(ExitCodes.Failure, $"internal error: {e.GetType().Name}: {e.Message}", IsDefect: true),
    };

    /// <summary>ArgumentException appends " (Parameter 'name')": the message already says which option.</summary>
    private static string WithoutParameterName(ArgumentException e) => e.ParamName is null ? e.Message : e.Message.Split(" (Parameter", 2)[0];
}
