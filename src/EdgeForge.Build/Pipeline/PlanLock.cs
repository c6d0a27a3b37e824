using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeForge.Build.Pipeline;

/// <summary>One upstream image as a build used it.</summary>
public sealed record LockedUpstream(string Role, string Reference, string SetBy, string Digest);

/// <summary>The luet repository revision and the packages each Kubernetes version was built from.</summary>
public sealed record LockedLuet(string Repository, string IndexDigest, IReadOnlyDictionary<string, IReadOnlyList<string>> Packages);

/// <summary>An output and its digest, so a <c>--locked</c> rebuild can be compared with the original.</summary>
public sealed record LockedOutput(string Name, string Digest);

/// <summary>
/// <c>build/plan.lock.json</c>: the resolved plan of a build — every value with where it came from, SOURCE_DATE_EPOCH,
/// every upstream image by digest, the luet repository revision — and what it produced. <c>build --locked</c> rebuilds
/// exactly it: the same digests in give the same digests out (the layers are deterministic, the timestamps fixed).
/// </summary>
public sealed record PlanLock
{
    public const string FileName = "plan.lock.json";
    public const int CurrentSchema = 1;

    public int Schema { get; init; } = CurrentSchema;

    public required long SourceDateEpoch { get; init; }

    public required string Arch { get; init; }

    /// <summary>Key → value as resolved, for the values that decide the build.</summary>
    public required IReadOnlyDictionary<string, string> Values { get; init; }

    /// <summary>Key → where each value came from (.arg:LINE, Earthfile:LINE, environment, --build-arg, built-in).</summary>
    public IReadOnlyDictionary<string, string> Origins { get; init; } = new Dictionary<string, string>();

    public required IReadOnlyList<LockedUpstream> Upstreams { get; init; }

    public LockedLuet? Luet { get; init; }

    public IReadOnlyList<LockedOutput> Outputs { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Reads a lock file; a damaged or foreign file is an invalid input naming the file.</summary>
    public static PlanLock Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new PlanLockException($"{path}: no such file — run a build without --locked first (it writes build/{FileName})");
        }

        try
        {
            // Read as every input is: a regular file of bounded size (a lock is kilobytes; a FIFO or device is refused).
            var diagnostics = new EdgeForge.Configuration.Diagnostics.DiagnosticBag();
            var bytes = EdgeForge.Configuration.Inputs.InputFileReader.ForStandaloneFile(path).ReadBytes(path, path, diagnostics)
                ?? throw new PlanLockException(string.Join("; ", diagnostics.Errors.Select(d => d.ToString())));
            var lockFile = JsonSerializer.Deserialize<PlanLock>(bytes, Json) ?? throw new JsonException("empty");
            if (lockFile.Schema != CurrentSchema)
            {
                throw new PlanLockException($"{path}: schema {lockFile.Schema} is not the one this edgeforge writes ({CurrentSchema}); rebuild without --locked");
            }

            return lockFile;
        }
        catch (JsonException e)
        {
            throw new PlanLockException($"{path}: not a plan lock ({e.Message}); rebuild without --locked to write a new one");
        }
    }

    /// <summary>The upstream digest the lock pins for a role and reference, or null.</summary>
    public string? DigestOf(string role, string reference) =>
        Upstreams.FirstOrDefault(u => u.Role == role && u.Reference == reference)?.Digest;
}

/// <summary>A lock file that cannot be used, or a plan that no longer matches it.</summary>
public sealed class PlanLockException(string message) : Exception(message);
