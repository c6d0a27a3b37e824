namespace EdgeForge.Cli;

/// <summary>The process exit codes every command keeps to.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>A build or an operation failed (network, disk, a tool, a matrix cell).</summary>
    public const int Failure = 1;

    /// <summary>The input is wrong: a file, a key, an argument. Nothing heavy has started.</summary>
    public const int InvalidInput = 2;
}

/// <summary>Thrown by a command for input the user must fix; the message is printed as-is and the exit code is 2.</summary>
public sealed class InvalidInputException(string message) : Exception(message);

/// <summary>Thrown by a command when the work itself failed; the message is printed as-is and the exit code is 1.</summary>
public sealed class CommandFailedException(string message, Exception? inner = null) : Exception(message, inner);
