using System.Diagnostics;

namespace EdgeForge.Build.Sandbox;

/// <summary>A command to run inside an image's root filesystem, as a Dockerfile <c>RUN</c> does.</summary>
public sealed record SandboxCommand(
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory = "/",
    int Uid = 0,
    int Gid = 0);

/// <summary>How the command ended, with the last lines it printed (shown when it failed).</summary>
public sealed record SandboxResult(int ExitCode, IReadOnlyList<string> OutputTail);

public enum SandboxKind
{
    /// <summary><c>unshare</c> (mount, PID, IPC, UTS namespaces) + <c>chroot</c>: needs root; files keep their real owners.</summary>
    UnshareChroot,

    /// <summary>bubblewrap in a user namespace mapping the caller to root: works without root, files end up owned by the caller.</summary>
    Bubblewrap,
}

public sealed class SandboxUnavailableException(string message) : Exception(message);

/// <summary>
/// Runs <c>RUN</c> commands on an unpacked root filesystem in fresh mount/PID/IPC/UTS namespaces: the image's
/// <c>/proc</c>, a minimal <c>/dev</c> and the host's <c>/etc/resolv.conf</c> are mounted for the command and vanish
/// with its namespace, so they never reach a layer. The network is the host's (package installs need it; build
/// proxies come in through the environment). Standard input is closed.
/// </summary>
public sealed class RunSandbox
{
    private const int TailLines = 200;

    /// <summary>Mounts the command needs, then <c>exec env -i VARS… chroot --userspec=U:G ROOT /bin/sh -c 'cd "$0" &amp;&amp; exec "$@"' DIR ARGV…</c>.</summary>
    private const string UnshareScript = """
        set -eu
        mount --make-rprivate /
        mount -t proc proc "$EF_ROOT/proc"
        mount -t tmpfs -o mode=755,nosuid edgeforge-dev "$EF_ROOT/dev"
        for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
          name=${node%%:*}; numbers=${node#*:}
          mknod -m 666 "$EF_ROOT/dev/$name" c "${numbers%%:*}" "${numbers#*:}"
        done
        mkdir -p "$EF_ROOT/dev/pts" "$EF_ROOT/dev/shm"
        ln -s /proc/self/fd "$EF_ROOT/dev/fd"
        ln -s /proc/self/fd/0 "$EF_ROOT/dev/stdin"
        ln -s /proc/self/fd/1 "$EF_ROOT/dev/stdout"
        ln -s /proc/self/fd/2 "$EF_ROOT/dev/stderr"
        if [ -f /etc/resolv.conf ] && [ -f "$EF_ROOT/etc/resolv.conf" ]; then mount --bind /etc/resolv.conf "$EF_ROOT/etc/resolv.conf"; fi
        exec env -i "$@"
        """;

    private RunSandbox(SandboxKind kind) => Kind = kind;

    public SandboxKind Kind { get; }

    /// <summary>unshare + chroot when running as root, else bubblewrap; a clear error when neither is possible.</summary>
    public static RunSandbox Detect(SandboxKind? preferred = null)
    {
        var isRoot = Environment.UserName == "root" || GetEffectiveUserId() == 0;
        var kind = preferred ?? (isRoot && OnPath("unshare") && OnPath("chroot") ? SandboxKind.UnshareChroot : SandboxKind.Bubblewrap);
        if (kind == SandboxKind.UnshareChroot && !isRoot)
        {
            throw new SandboxUnavailableException("RUN with unshare + chroot needs root; run edgeforge as root or install bubblewrap (apt-get install bubblewrap)");
        }

        if (kind == SandboxKind.Bubblewrap && !OnPath("bwrap"))
        {
            throw new SandboxUnavailableException("RUN needs bubblewrap when edgeforge does not run as root: apt-get install bubblewrap");
        }

        return new RunSandbox(kind);
    }

    public async Task<SandboxResult> RunAsync(string rootfs, SandboxCommand command, Action<string>? onOutputLine = null, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(rootfs);
        var placeholders = CreateMountPoints(root);
        try
        {
            var start = Kind == SandboxKind.UnshareChroot ? UnshareStart(root, command) : BubblewrapStart(root, command);
            return await RunProcessAsync(start, onOutputLine, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Mount points the command needed but the image did not have must not end up in the layer.
            foreach (var placeholder in placeholders.AsEnumerable().Reverse())
            {
                if (Directory.Exists(placeholder))
                {
                    Directory.Delete(placeholder);
                }
                else
                {
                    File.Delete(placeholder);
                }
            }
        }
    }

    private static ProcessStartInfo UnshareStart(string root, SandboxCommand command)
    {
        var start = new ProcessStartInfo("unshare");
        foreach (var argument in new[] { "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--", "/bin/sh", "-c", UnshareScript, "edgeforge-sandbox" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in command.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            start.ArgumentList.Add($"{key}={value}");
        }

        // env -i clears PATH before it looks up its command: name chroot by its full path.
        foreach (var argument in new[] { FindOnPath("chroot")!, $"--userspec={command.Uid}:{command.Gid}", root, "/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", command.WorkingDirectory })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var argument in command.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["EF_ROOT"] = root;
        return start;
    }

    private static ProcessStartInfo BubblewrapStart(string root, SandboxCommand command)
    {
        var start = new ProcessStartInfo("bwrap");
        var arguments = new List<string>
        {
            "--unshare-user", "--uid", command.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--gid", command.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "edgeforge-build",
            // Not --die-with-parent: PR_SET_PDEATHSIG fires when the forking *thread* ends, and .NET forks from pool
            // threads. Cancellation kills the process tree instead.
            "--new-session",
            "--bind", root, "/", "--dev", "/dev", "--proc", "/proc",
        };
        if (File.Exists("/etc/resolv.conf") && File.Exists(Path.Combine(root, "etc/resolv.conf")))
        {
            arguments.AddRange(["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]);
        }

        arguments.AddRange(["--chdir", command.WorkingDirectory, "--clearenv"]);
        foreach (var (key, value) in command.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            arguments.AddRange(["--setenv", key, value]);
        }

        arguments.Add("--");
        arguments.AddRange(command.Arguments);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static async Task<SandboxResult> RunProcessAsync(ProcessStartInfo start, Action<string>? onOutputLine, CancellationToken cancellationToken)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new SandboxUnavailableException($"cannot start {start.FileName}");
        process.StandardInput.Close();
        var tail = new Queue<string>();
        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > TailLines)
                {
                    tail.Dequeue();
                }
            }

            onOutputLine?.Invoke(line);
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        lock (tail)
        {
            return new SandboxResult(process.ExitCode, tail.ToList());
        }
    }

    /// <summary>Creates the mount points the sandbox needs and the image lacks; returns them, to be removed afterwards.</summary>
    private static List<string> CreateMountPoints(string root)
    {
        var created = new List<string>();
        foreach (var directory in new[] { "proc", "dev", "etc" })
        {
            var path = Path.Combine(root, directory);
            if (!Directory.Exists(path) && !File.Exists(path))
            {
                Directory.CreateDirectory(path);
                created.Add(path);
            }
        }

        return created;
    }

    private static bool OnPath(string program) => FindOnPath(program) is not null;

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserIdNative();

    private static uint GetEffectiveUserId() => GetEffectiveUserIdNative();
}
