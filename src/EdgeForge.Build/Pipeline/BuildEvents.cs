namespace EdgeForge.Build.Pipeline;

public enum BuildEventKind
{
    Started,
    Progress,
    Message,
    Finished,
    Failed,
}

/// <summary>
/// What a step reports: its start and end (with how long it took), free-text messages, and progress in bytes where
/// the work has a size (pulls, pushes, SquashFS, the ISO). A terminal display, plain log lines and <c>--json</c> event
/// lines are all renderings of this one stream.
/// </summary>
public sealed record BuildEvent(
    DateTimeOffset Time,
    string Step,
    BuildEventKind Kind,
    string? Message = null,
    long? Bytes = null,
    long? TotalBytes = null,
    TimeSpan? Elapsed = null);

/// <summary>Receives the events of a build, from any thread.</summary>
public interface IBuildObserver
{
    void OnEvent(BuildEvent buildEvent);
}

/// <summary>An observer that drops everything (library callers that only want the result).</summary>
public sealed class NullBuildObserver : IBuildObserver
{
    public static NullBuildObserver Instance { get; } = new();

    public void OnEvent(BuildEvent buildEvent)
    {
    }
}
