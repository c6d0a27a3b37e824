namespace EdgeForge.Configuration.Dockerfiles;

/// <summary>A user customisation from the Dockerfile (after the CanvOS marker), with its line for messages.</summary>
public abstract record DockerInstruction(int Line)
{
    public abstract string Keyword { get; }
}

/// <summary><c>RUN</c>: a shell command (<see cref="ShellCommand"/>) or an exec-form argument list (<see cref="Exec"/>).</summary>
public sealed record RunInstruction(int Line, string? ShellCommand, IReadOnlyList<string>? Exec) : DockerInstruction(Line)
{
    public override string Keyword => "RUN";
}

/// <summary><c>COPY</c> or <c>ADD</c> from the build context (the project directory).</summary>
public sealed record CopyInstruction(int Line, bool IsAdd, IReadOnlyList<string> Sources, string Destination, string? Chown, string? Chmod) : DockerInstruction(Line)
{
    public override string Keyword => IsAdd ? "ADD" : "COPY";
}

public sealed record EnvInstruction(int Line, IReadOnlyList<KeyValuePair<string, string>> Variables) : DockerInstruction(Line)
{
    public override string Keyword => "ENV";
}

public sealed record ArgInstruction(int Line, string Name, string? DefaultValue) : DockerInstruction(Line)
{
    public override string Keyword => "ARG";
}

public sealed record LabelInstruction(int Line, IReadOnlyList<KeyValuePair<string, string>> Labels) : DockerInstruction(Line)
{
    public override string Keyword => "LABEL";
}

public sealed record WorkdirInstruction(int Line, string Path) : DockerInstruction(Line)
{
    public override string Keyword => "WORKDIR";
}

public sealed record UserInstruction(int Line, string User) : DockerInstruction(Line)
{
    public override string Keyword => "USER";
}

/// <summary>The user's customisations: what the provider images and the installer get on top of the base OS.</summary>
public sealed record DockerfileCustomisations(string? Path, IReadOnlyList<DockerInstruction> Instructions)
{
    public static DockerfileCustomisations None { get; } = new(null, []);
}
