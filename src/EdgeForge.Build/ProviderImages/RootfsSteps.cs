using System.Formats.Tar;
using EdgeForge.Build.Sandbox;
using EdgeForge.Compression;
using EdgeForge.Configuration.Dockerfiles;
using EdgeForge.Configuration.Inputs;
using EdgeForge.Oci.Layers;

namespace EdgeForge.Build.ProviderImages;

/// <summary>A step failed: which instruction, why, and what the command printed.</summary>
public sealed class BuildStepException(string message, IReadOnlyList<string>? output = null) : Exception(message)
{
    public IReadOnlyList<string> Output { get; } = output ?? [];
}

/// <summary>
/// Applies the filesystem-changing steps (certificates, RUN, COPY, ADD, WORKDIR) to an unpacked root filesystem; the
/// caller snapshots before and after to turn each into a layer.
/// </summary>
public sealed class RootfsSteps(string rootfs, ContextFiles context, RunSandbox sandbox, Action<string> log)
{
    /// <summary>Installs the CA certificates into the distribution's anchor directory and regenerates the bundle.</summary>
    public async Task InstallCertificatesAsync(IReadOnlyList<CertificateFile> certificates, TrustStore store, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        EnsureDirectory("/" + store.AnchorDirectory);
        var anchors = InRootfs("/" + store.AnchorDirectory, followLast: true);
        foreach (var certificate in certificates)
        {
            var name = Path.GetFileNameWithoutExtension(certificate.Path) + store.CertificateExtension;
            var target = Path.Combine(anchors, name);
            File.Copy(certificate.Path, target, overwrite: true);
            File.SetUnixFileMode(target, (UnixFileMode)Convert.ToInt32("644", 8));
        }

        if (store.FindRegenerateTool(rootfs) is { } tool)
        {
            log($"regenerating the CA bundle with /{tool}");
            var result = await sandbox.RunAsync(rootfs, new SandboxCommand(["/" + tool, .. store.RegenerateCommand[1..]], environment), log, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode != 0)
            {
                throw new BuildStepException($"{store.RegenerateCommand[0]} failed with exit code {result.ExitCode}", result.OutputTail);
            }

            return;
        }

        // No regeneration tool in the image (minimal images): append to the bundle file the OS's TLS stack reads.
        log($"no {store.RegenerateCommand[0]} in the image: appending to /{store.BundleFile}");
        EnsureDirectory("/" + Path.GetDirectoryName(store.BundleFile)!);
        var bundle = InRootfs("/" + store.BundleFile, followLast: true);
        await using var output = new FileStream(bundle, FileMode.Append, FileAccess.Write);
        foreach (var certificate in certificates)
        {
            var pem = await File.ReadAllTextAsync(certificate.Path, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(System.Text.Encoding.ASCII.GetBytes(pem.TrimEnd() + "\n"), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a RUN in the sandbox; <paramref name="origin"/> names where it comes from in a failure (default: its Dockerfile line).</summary>
    public async Task RunAsync(RunInstruction run, BuildVariables variables, IReadOnlyDictionary<string, string> buildProxies, string workingDirectory, string? user, CancellationToken cancellationToken,
        string? origin = null)
    {
        var environment = variables.ForRun();
        foreach (var (name, value) in buildProxies)
        {
            environment[name] = value;
        }

        var (uid, gid) = ResolveUser(user);
        var arguments = run.Exec ?? ["/bin/sh", "-c", run.ShellCommand!];
        EnsureDirectory(workingDirectory);
        var result = await sandbox.RunAsync(rootfs, new SandboxCommand(arguments, environment, workingDirectory, uid, gid), log, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new BuildStepException($"{origin ?? $"Dockerfile:{run.Line}"}: RUN failed with exit code {result.ExitCode}", result.OutputTail);
        }
    }

    public async Task CopyAsync(CopyInstruction copy, BuildVariables variables, string workingDirectory, CancellationToken cancellationToken)
    {
        var destination = variables.Substitute(copy.Destination);
        var sources = copy.Sources.Select(variables.Substitute).SelectMany(context.Expand).ToList();
        if (sources.Count == 0)
        {
            throw new BuildStepException($"Dockerfile:{copy.Line}: {copy.Keyword} sources match nothing in the build context (check .dockerignore)");
        }

        var target = destination.StartsWith('/') ? destination : workingDirectory.TrimEnd('/') + "/" + destination;
        var intoDirectory = destination.EndsWith('/') || sources.Count > 1 || (sources.Count == 1 && Directory.Exists(Path.Combine(context.Root, sources[0])));
        var (uid, gid) = copy.Chown is null ? (0, 0) : ResolveUser(copy.Chown);
        var mode = copy.Chmod is null ? (UnixFileMode?)null : (UnixFileMode)Convert.ToInt32(copy.Chmod, 8);
        foreach (var source in sources)
        {
            var full = source.Length == 0 ? context.Root : Path.Combine(context.Root, source);
            if (copy.IsAdd && File.Exists(full) && await TryExtractArchiveAsync(full, target, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            if (Directory.Exists(full) && new DirectoryInfo(full).LinkTarget is null)
            {
                foreach (var path in context.Walk(source).Where(p => p != source))
                {
                    var relative = source.Length == 0 ? path : path[(source.Length + 1)..];
                    CopyEntry(Path.Combine(context.Root, path), target.TrimEnd('/') + "/" + relative, uid, gid, mode);
                }

                EnsureDirectory(target, uid, gid);
            }
            else
            {
                CopyEntry(full, intoDirectory ? target.TrimEnd('/') + "/" + Path.GetFileName(source) : target, uid, gid, mode);
            }
        }
    }

    /// <summary>
    /// A build input put into the root filesystem for the next RUN, as CanvOS COPYs one for its script (the
    /// AMDGPU_ARTIFACT_PATH tarball): owned by root, 0644; the command removes it again.
    /// </summary>
    public void PlaceFile(string source, string imagePath) => CopyEntry(source, imagePath, 0, 0, (UnixFileMode)Convert.ToInt32("644", 8));

    /// <summary>WORKDIR creates its directory, as Docker does.</summary>
    public void MakeWorkingDirectory(string path) => EnsureDirectory(path);

    /// <summary>A <c>USER</c>/<c>--chown</c> value (names or ids) as numbers, looked up in the image's passwd and group files.</summary>
    public (int Uid, int Gid) ResolveUser(string? user)
    {
        if (string.IsNullOrEmpty(user))
        {
            return (0, 0);
        }

        var parts = user.Split(':', 2);
        var passwd = ReadDatabase("etc/passwd");
        int uid;
        int? primaryGid = null;
        if (int.TryParse(parts[0], out var numericUid))
        {
            uid = numericUid;
            primaryGid = passwd.FirstOrDefault(p => p.Length > 3 && p[2] == parts[0]) is { } byId && int.TryParse(byId[3], out var g) ? g : null;
        }
        else if (passwd.FirstOrDefault(p => p[0] == parts[0]) is { Length: > 3 } entry && int.TryParse(entry[2], out var named))
        {
            uid = named;
            primaryGid = int.TryParse(entry[3], out var g) ? g : null;
        }
        else
        {
            throw new BuildStepException($"user '{parts[0]}' is not in the image's /etc/passwd");
        }

        if (parts.Length == 1)
        {
            return (uid, primaryGid ?? uid);
        }

        if (int.TryParse(parts[1], out var gid))
        {
            return (uid, gid);
        }

        return ReadDatabase("etc/group").FirstOrDefault(g => g[0] == parts[1]) is { Length: > 2 } group && int.TryParse(group[2], out var namedGid)
            ? (uid, namedGid)
            : throw new BuildStepException($"group '{parts[1]}' is not in the image's /etc/group");
    }

    private List<string[]> ReadDatabase(string relative)
    {
        var path = Path.Combine(rootfs, relative);
        return File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(':')).ToList() : [];
    }

    private void CopyEntry(string source, string imagePath, int uid, int gid, UnixFileMode? mode)
    {
        EnsureDirectory(Path.GetDirectoryName(imagePath.TrimEnd('/'))!.Replace('\\', '/'));
        var target = InRootfs(imagePath);
        var info = new FileInfo(source);
        if (info.LinkTarget is { } link)
        {
            DeleteExisting(target);
            File.CreateSymbolicLink(target, link);
        }
        else if (Directory.Exists(source))
        {
            Directory.CreateDirectory(target);
            File.SetUnixFileMode(target, mode ?? File.GetUnixFileMode(source));
        }
        else
        {
            DeleteExisting(target);
            File.Copy(source, target);
            File.SetUnixFileMode(target, mode ?? File.GetUnixFileMode(source));
        }

        Lchown(target, uid, gid);
    }

    private void EnsureDirectory(string imagePath, int uid = 0, int gid = 0)
    {
        var parts = imagePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var depth = 1; depth <= parts.Length; depth++)
        {
            var current = InRootfs("/" + string.Join('/', parts[..depth]), followLast: true);
            if (!Directory.Exists(current))
            {
                Directory.CreateDirectory(current);
                File.SetUnixFileMode(current, (UnixFileMode)Convert.ToInt32("755", 8));
                Lchown(current, uid, gid);
            }
        }
    }

    /// <summary>
    /// The host path of an image path, resolving symlinks as the image sees them (absolute targets are relative to the
    /// image root, <c>..</c> stops at the root): a symlink such as <c>/etc -> /host/etc</c> can never lead a write
    /// out of the root filesystem. The last component is not followed unless <paramref name="followLast"/>.
    /// </summary>
    private string InRootfs(string imagePath, bool followLast = false)
    {
        var pending = new LinkedList<string>(imagePath.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var resolved = new List<string>();
        var hops = 0;
        while (pending.First is { } node)
        {
            pending.RemoveFirst();
            var part = node.Value;
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var candidate = Path.Combine([rootfs, .. resolved, part]);
            var isLast = pending.Count == 0;
            if ((!isLast || followLast) && new FileInfo(candidate).LinkTarget is { } target)
            {
                if (++hops > 40)
                {
                    throw new BuildStepException($"'{imagePath}': too many levels of symbolic links in the image");
                }

                if (target.StartsWith('/'))
                {
                    resolved.Clear();
                }

                foreach (var targetPart in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
                {
                    pending.AddFirst(targetPart);
                }

                continue;
            }

            resolved.Add(part);
        }

        return Path.Combine([rootfs, .. resolved]);
    }

    private static void DeleteExisting(string path)
    {
        if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null)
        {
            Directory.Delete(path, recursive: true);
        }
        else if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }
    }

    /// <summary>ADD unpacks local tar archives (plain, gzip, zstd) into the destination directory, as Docker does.</summary>
    private async Task<bool> TryExtractArchiveAsync(string archive, string destination, CancellationToken cancellationToken)
    {
        var magic = new byte[262];
        int read;
        await using (var probe = File.OpenRead(archive))
        {
            read = await probe.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        }

        Func<Stream, Stream>? open = magic switch
        {
            [0x1F, 0x8B, ..] => s => new GzipDecompressStream(s),
            [0x28, 0xB5, 0x2F, 0xFD, ..] => s => new ZstdDecompressStream(s),
            _ when read >= 262 && System.Text.Encoding.ASCII.GetString(magic, 257, 5) == "ustar" => s => s,
            _ => null,
        };
        if (open is null)
        {
            return false;
        }

        EnsureDirectory(destination);
        await using var file = File.OpenRead(archive);
        await using var tar = open(file);
        await SafeExtractor.ExtractLayerAsync(tar, InRootfs(destination, followLast: true), cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static void Lchown(string path, int uid, int gid)
    {
        if (Native.lchown(path, uid, gid) != 0)
        {
            throw new IOException($"{path}: cannot set owner {uid}:{gid} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())})");
        }
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        public static extern int lchown([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int owner, int group);
    }
}
