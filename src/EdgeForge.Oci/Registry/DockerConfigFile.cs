using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeForge.Oci.Registry;

/// <summary>
/// Docker's client configuration file (<c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>) as a
/// credential source and sink: <c>auths</c> entries (base64 <c>auth</c> of USER:PASSWORD, or <c>identitytoken</c>),
/// a default <c>credsStore</c> and per-registry <c>credHelpers</c>, run as <c>docker-credential-NAME get|store|erase</c>
/// (docker-credential-helpers protocol: the server URL or a JSON credential on stdin, JSON on stdout).
/// Fields this tool does not know are preserved when it writes the file.
/// </summary>
public sealed class DockerConfigFile : ICredentialProvider
{
    private const string DockerHubAuthKey = "https://index.docker.io/v1/";

    public DockerConfigFile(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public static string DefaultPath()
    {
        var directory = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(directory))
        {
            directory = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        }

        return System.IO.Path.Combine(directory, "config.json");
    }

    public static DockerConfigFile Default() => new(DefaultPath());

    /// <summary>The key a registry is stored under: Docker Hub keeps its historical v1 URL, every other registry its host[:port].</summary>
    public static string AuthKeyOf(string registry) =>
        registry is "docker.io" or "index.docker.io" or "registry-1.docker.io" ? DockerHubAuthKey : registry;

    public async Task<RegistryCredential?> GetCredentialAsync(string registry, CancellationToken cancellationToken = default)
    {
        var root = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var key = AuthKeyOf(registry);
        if (root["credHelpers"]?[registry]?.GetValue<string>() is { Length: > 0 } helper)
        {
            return await HelperGetAsync(helper, key, cancellationToken).ConfigureAwait(false);
        }

        if (root["auths"] is JsonObject auths)
        {
            foreach (var candidate in new[] { key, registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v1/", "https://" + registry + "/v2/" })
            {
                if (auths[candidate] is JsonObject entry && FromAuthEntry(entry) is { } credential)
                {
                    return credential;
                }
            }
        }

        if (root["credsStore"]?.GetValue<string>() is { Length: > 0 } store)
        {
            return await HelperGetAsync(store, key, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Stores a credential as <c>docker login</c> does: in the configured helper, else base64 in <c>auths</c>.</summary>
    public async Task StoreAsync(string registry, RegistryCredential credential, CancellationToken cancellationToken = default)
    {
        var root = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var key = AuthKeyOf(registry);
        var helper = root["credHelpers"]?[registry]?.GetValue<string>() ?? root["credsStore"]?.GetValue<string>();
        var auths = root["auths"] as JsonObject ?? new JsonObject();
        root["auths"] = auths;
        if (!string.IsNullOrEmpty(helper))
        {
            var payload = JsonSerializer.Serialize(new Dictionary<string, string> { ["ServerURL"] = key, ["Username"] = credential.Username, ["Secret"] = credential.IdentityToken ?? credential.Password });
            await RunHelperAsync(helper, "store", payload, cancellationToken).ConfigureAwait(false);
            // Docker leaves an empty entry so `docker` lists the registry as logged in.
            auths[key] = new JsonObject();
        }
        else
        {
            auths[key] = credential.IdentityToken is { } token
                ? new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.Username + ":")), ["identitytoken"] = token }
                : new JsonObject { ["auth"] = credential.BasicAuthorizationValue };
        }

        await WriteAsync(root, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a registry's credential; returns false when there was none.</summary>
    public async Task<bool> EraseAsync(string registry, CancellationToken cancellationToken = default)
    {
        var root = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var key = AuthKeyOf(registry);
        var removed = false;
        var helper = root["credHelpers"]?[registry]?.GetValue<string>() ?? root["credsStore"]?.GetValue<string>();
        if (!string.IsNullOrEmpty(helper))
        {
            removed |= await RunHelperAsync(helper, "erase", key, cancellationToken).ConfigureAwait(false) is not null;
        }

        if (root["auths"] is JsonObject auths)
        {
            removed |= auths.Remove(key);
            removed |= key != registry && auths.Remove(registry);
        }

        await WriteAsync(root, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    private RegistryCredential? FromAuthEntry(JsonObject entry)
    {
        if (entry["identitytoken"]?.GetValue<string>() is { Length: > 0 } identityToken)
        {
            return RegistryCredential.FromIdentityToken(identityToken);
        }

        if (entry["auth"]?.GetValue<string>() is { Length: > 0 } auth)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            }
            catch (FormatException)
            {
                throw new DockerConfigFileException(Path, "has an \"auth\" entry that is not valid base64", "run edgeforge login again for that registry");
            }

            return RegistryCredential.ParseUserPassword(decoded);
        }

        if (entry["username"]?.GetValue<string>() is { Length: > 0 } username && entry["password"]?.GetValue<string>() is { } password)
        {
            return new RegistryCredential(username, password);
        }

        return null;
    }

    private static async Task<RegistryCredential?> HelperGetAsync(string helper, string serverUrl, CancellationToken cancellationToken)
    {
        var output = await RunHelperAsync(helper, "get", serverUrl, cancellationToken).ConfigureAwait(false);
        if (output is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(output);
        var username = document.RootElement.TryGetProperty("Username", out var u) ? u.GetString() ?? "" : "";
        var secret = document.RootElement.TryGetProperty("Secret", out var s) ? s.GetString() ?? "" : "";
        // The helpers protocol marks an identity token with the user name "<token>".
        return username == "<token>" ? RegistryCredential.FromIdentityToken(secret) : new RegistryCredential(username, secret);
    }

    /// <summary>Runs a helper; null when it reports that it has no credentials for the server.</summary>
    private static async Task<string?> RunHelperAsync(string helper, string verb, string input, CancellationToken cancellationToken)
    {
        var program = "docker-credential-" + helper;
        var start = new ProcessStartInfo(program, verb)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new IOException($"cannot start {program}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"credential helper {program} is not installed or not executable: {e.Message}", e);
        }

        using (process)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var output = (await stdout.ConfigureAwait(false)).Trim();
            var error = (await stderr.ConfigureAwait(false)).Trim();
            if (process.ExitCode == 0)
            {
                return output;
            }

            // The helpers' agreed message for "nothing stored" (credentials.ErrCredentialsNotFound).
            if ((output + error).Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            // The helper's output can echo what it was given; keep it out of the message (it may hold a secret).
            throw new IOException($"credential helper {program} {verb} failed with exit code {process.ExitCode}");
        }
    }

    /// <summary>Docker's own files are kilobytes; 4 MiB leaves room for many registries and refuses an endless input.</summary>
    private const long MaxConfigBytes = 4 << 20;

    private async Task<JsonObject> ReadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Path))
        {
            return new JsonObject();
        }

        // A regular file of bounded size only: a FIFO would block the read forever, a device never end.
        var real = File.ResolveLinkTarget(Path, returnFinalTarget: true)?.FullName ?? Path;
        var status = EdgeForge.FileTree.LinuxFileStatus.Get(real);
        if (status.Type != EdgeForge.FileTree.LinuxFileStatus.TypeRegular)
        {
            throw new DockerConfigFileException(Path, "is not a regular file", "point DOCKER_CONFIG at a directory holding a config.json file");
        }

        if (status.Size > MaxConfigBytes)
        {
            throw new DockerConfigFileException(Path, $"is {status.Size:N0} bytes, more than the {MaxConfigBytes:N0} a credentials file needs", "check DOCKER_CONFIG");
        }

        var bytes = await File.ReadAllBytesAsync(Path, cancellationToken).ConfigureAwait(false);
        if (bytes.Length == 0)
        {
            return new JsonObject();
        }

        JsonNode? parsed;
        try
        {
            // Docker's file is four levels deep; the bound refuses a nesting attack while reading, before a tree exists.
            parsed = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException e) when (e.Message.Contains("maximum configured depth", StringComparison.Ordinal))
        {
            throw new DockerConfigFileException(Path, $"is nested more than {MaxDepth} levels deep", "it is not a Docker config.json; restore it or run edgeforge login again");
        }
        catch (JsonException e)
        {
            // JsonException messages quote a character of the input: only where the problem is is said.
            throw new DockerConfigFileException(Path, $"is not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1})",
                "fix the JSON, or move the file away and run edgeforge login again");
        }

        if (parsed is not JsonObject root)
        {
            throw new DockerConfigFileException(Path, "is not a JSON object", "a Docker config.json is an object with \"auths\", \"credsStore\" or \"credHelpers\"");
        }

        CheckShape(root);
        return root;
    }

    /// <summary>The nesting <see cref="ReadAsync"/> accepts: Docker's own file is four levels deep.</summary>
    public const int MaxDepth = 16;

    /// <summary>The parts this reader uses, with the types it reads them as (a number where a string belongs must not surface as a crash).</summary>
    private void CheckShape(JsonObject root)
    {
        if (root["auths"] is { } auths && (auths is not JsonObject entries || entries.Any(e => e.Value is not (null or JsonObject))))
        {
            throw new DockerConfigFileException(Path, "has an \"auths\" that is not an object of objects", "expected \"auths\": {\"registry.example.com\": {\"auth\": \"…\"}}");
        }

        if (root["credHelpers"] is { } helpers && (helpers is not JsonObject map || map.Any(h => !IsString(h.Value))))
        {
            throw new DockerConfigFileException(Path, "has a \"credHelpers\" that is not an object of strings", "expected \"credHelpers\": {\"registry.example.com\": \"helper-name\"}");
        }

        if (root["credsStore"] is { } store && !IsString(store))
        {
            throw new DockerConfigFileException(Path, "has a \"credsStore\" that is not a string", "expected \"credsStore\": \"helper-name\"");
        }

        foreach (var (registry, entry) in (root["auths"] as JsonObject)?.Where(e => e.Value is JsonObject).Select(e => (e.Key, (JsonObject)e.Value!)) ?? [])
        {
            foreach (var field in new[] { "auth", "identitytoken", "username", "password" })
            {
                if (entry[field] is { } value && !IsString(value))
                {
                    throw new DockerConfigFileException(Path, $"has a \"{field}\" of \"{registry}\" that is not a string", "restore the file, or run edgeforge login again");
                }
            }
        }
    }

    private static bool IsString(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String;

    /// <summary>Writes the file as Docker does: mode 0600, via a temporary file renamed over the old one.</summary>
    private async Task WriteAsync(JsonObject root, CancellationToken cancellationToken)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        Directory.CreateDirectory(directory);
        var temp = System.IO.Path.Combine(directory, $".config.json.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            };
            await using (var stream = new FileStream(temp, options))
            {
                await JsonSerializer.SerializeAsync(stream, root, new JsonSerializerOptions { WriteIndented = true }, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, Path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}

/// <summary>
/// A Docker config.json that cannot be used as written: the file, what is wrong and how to fix it (never its content,
/// which holds credentials). An <see cref="IOException"/>, like every other unreadable input, so callers report it as one line.
/// </summary>
public sealed class DockerConfigFileException(string path, string problem, string fix) : IOException($"{path}: {problem} ({fix})");
