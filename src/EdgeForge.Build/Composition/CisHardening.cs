using System.Text;
using EdgeForge.Configuration.Arguments;

namespace EdgeForge.Build.Composition;

/// <summary>
/// CanvOS's base-image with <c>CIS_HARDENING=true</c> (Earthfile: <c>COPY cis-harden/harden.sh</c> and run it, after
/// the kernel and GPU steps): the CIS benchmark items CanvOS's script applies, as our own controls, each named by its
/// section of the <see cref="Benchmark"/>, run as one command in the RUN sandbox, and a report in the image of what
/// was applied and the state of every file the controls govern (docs/cis-hardening.md lists them).
/// </summary>
/// <remarks>
/// Where CanvOS appends to a file another file can override (sysctl.conf, sshd_config below a Match block,
/// journald.conf) the controls write a drop-in that is read last, or put their lines where the first value wins; the
/// values are CanvOS's, also where they depart from the benchmark (rp_filter 0 for CNIs, dictcheck 0). Every control
/// fails the build when a command fails: CanvOS's <c>|| true</c> would ship an image called hardened that is not.
/// </remarks>
public static class CisHardening
{
    /// <summary>The benchmark whose section numbers the controls carry.</summary>
    public const string Benchmark = "CIS Ubuntu Linux 22.04 LTS Benchmark v2.0.0";

    /// <summary>Where the report is in the image: one <c>control</c> line per control, one <c>file</c> line per governed file.</summary>
    public const string ReportPath = "etc/edgeforge/cis-hardening.tsv";

    /// <summary>The sysctl drop-in: after <c>99-sysctl.conf</c> (the link to /etc/sysctl.conf) in systemd-sysctl's name order, so it wins.</summary>
    public const string SysctlPath = "etc/sysctl.d/99-zz-cis-hardening.conf";

    /// <summary>CanvOS's package set (its <c>upgrade_packages</c>): audit, AppArmor, password quality, AIDE, vlock.</summary>
    public static readonly string[] Packages = ["auditd", "apparmor", "apparmor-utils", "libpam-pwquality", "aide", "vlock"];

    /// <summary>CanvOS's removals (<c>remove_services</c>): legacy network clients and servers, X, vim; only those installed are purged.</summary>
    public static readonly string[] Removed =
    [
        "openbsd-inetd", "rsh-client", "rsh-redone-client", "nis", "talk", "telnet", "ldap-utils", "gdm3", "vim", "vim-common", "vim-runtime",
        "vim-tiny", "avahi-daemon", "cups", "rpcbind", "nfs-kernel-server", "vsftpd", "apache2", "nginx", "samba", "squid", "snmpd", "xinetd",
    ];

    /// <summary>CanvOS's kernel parameters (<c>harden_sysctl</c>), forwarding left on for Kubernetes.</summary>
    public static readonly (string Key, string Value, string Section)[] KernelParameters =
    [
        ("net.ipv4.conf.all.send_redirects", "0", "3.3.2"), ("net.ipv4.conf.default.send_redirects", "0", "3.3.2"),
        ("net.ipv4.icmp_ignore_bogus_error_responses", "1", "3.3.3"), ("net.ipv4.icmp_echo_ignore_broadcasts", "1", "3.3.4"),
        ("net.ipv4.conf.all.accept_redirects", "0", "3.3.5"), ("net.ipv4.conf.default.accept_redirects", "0", "3.3.5"),
        ("net.ipv6.conf.all.accept_redirects", "0", "3.3.5"), ("net.ipv6.conf.default.accept_redirects", "0", "3.3.5"),
        ("net.ipv4.conf.all.secure_redirects", "0", "3.3.6"), ("net.ipv4.conf.default.secure_redirects", "0", "3.3.6"),
        // The benchmark wants all.rp_filter=1; CanvOS sets 0 because strict reverse-path filtering drops CNI traffic.
        ("net.ipv4.conf.all.rp_filter", "0", "3.3.7"), ("net.ipv4.conf.default.rp_filter", "1", "3.3.7"),
        ("net.ipv4.conf.all.accept_source_route", "0", "3.3.8"), ("net.ipv4.conf.default.accept_source_route", "0", "3.3.8"),
        ("net.ipv6.conf.all.accept_source_route", "0", "3.3.8"), ("net.ipv6.conf.default.accept_source_route", "0", "3.3.8"),
        ("net.ipv4.conf.all.log_martians", "1", "3.3.9"), ("net.ipv4.conf.default.log_martians", "1", "3.3.9"),
        ("net.ipv4.tcp_syncookies", "1", "3.3.10"),
        ("net.ipv6.conf.all.accept_ra", "0", "3.3.11"), ("net.ipv6.conf.default.accept_ra", "0", "3.3.11"),
        ("kernel.randomize_va_space", "2", "1.5.1"), ("kernel.yama.ptrace_scope", "1", "1.5.2"), ("fs.suid_dumpable", "0", "1.5.3"),
        // Level 2 kernel items CanvOS adds on Ubuntu (not numbered in the benchmark's Ubuntu 22.04 edition).
        ("kernel.dmesg_restrict", "1", "-"), ("kernel.kptr_restrict", "2", "-"), ("kernel.perf_event_paranoid", "3", "-"),
    ];

    /// <summary>CanvOS's sshd settings (<c>harden_ssh</c>), in benchmark order.</summary>
    public static readonly (string Keyword, string Value, string Section)[] SshSettings =
    [
        ("Banner", "/etc/issue.net", "5.1.5"),
        ("Ciphers", "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr", "5.1.6"),
        ("ClientAliveInterval", "300", "5.1.7"), ("ClientAliveCountMax", "3", "5.1.7"),
        ("DisableForwarding", "yes", "5.1.8"), ("X11Forwarding", "no", "5.1.8"), ("AllowTcpForwarding", "no", "5.1.8"), ("AllowAgentForwarding", "no", "5.1.8"),
        ("GSSAPIAuthentication", "no", "5.1.9"), ("HostbasedAuthentication", "no", "5.1.10"), ("IgnoreRhosts", "yes", "5.1.11"),
        ("KexAlgorithms", "curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group14-sha256,diffie-hellman-group16-sha512," +
            "diffie-hellman-group18-sha512,ecdh-sha2-nistp521,ecdh-sha2-nistp384,ecdh-sha2-nistp256,diffie-hellman-group-exchange-sha256", "5.1.12"),
        ("LoginGraceTime", "60", "5.1.13"), ("LogLevel", "INFO", "5.1.14"),
        ("MACs", "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512,hmac-sha2-256", "5.1.15"),
        ("MaxAuthTries", "4", "5.1.16"), ("MaxSessions", "10", "5.1.17"), ("MaxStartups", "10:30:60", "5.1.18"),
        ("PermitEmptyPasswords", "no", "5.1.19"), ("PermitRootLogin", "no", "5.1.20"), ("PermitUserEnvironment", "no", "5.1.21"),
        ("UsePAM", "yes", "5.1.22"), ("PubkeyAuthentication", "yes", "-"), ("TCPKeepAlive", "no", "-"),
    ];

    /// <summary>Filesystem and protocol modules CanvOS makes unloadable; squashfs, udf and usb-storage stay (Kairos boots from them).</summary>
    public static readonly (string Module, string Section)[] DisabledModules =
    [
        ("cramfs", "1.1.1.1"), ("freevxfs", "1.1.1.2"), ("hfs", "1.1.1.3"), ("hfsplus", "1.1.1.4"), ("jffs2", "1.1.1.5"),
        ("dccp", "3.2.1"), ("tipc", "3.2.2"), ("rds", "3.2.3"), ("sctp", "3.2.4"),
    ];

    /// <summary>The shadow files (section 7.1): mode CanvOS sets. Group shadow is kept where the image has it (unix_chkpwd is setgid shadow).</summary>
    public static readonly (string Path, string Mode, string Section)[] AccountFiles =
    [
        ("/etc/passwd", "644", "7.1.1"), ("/etc/passwd-", "644", "7.1.2"), ("/etc/group", "644", "7.1.3"), ("/etc/group-", "644", "7.1.4"),
        ("/etc/shadow", "640", "7.1.5"), ("/etc/shadow-", "000", "7.1.6"), ("/etc/gshadow", "000", "7.1.7"), ("/etc/gshadow-", "000", "7.1.8"),
    ];

    /// <summary>The audit rules CanvOS writes, one rules.d file per benchmark item (<c>augenrules</c> joins them at boot).</summary>
    public static readonly (string File, string[] Lines)[] AuditRules =
    [
        ("audit.rules", ["-D", "-b 8192", "--backlog_wait_time 60000", "-f 1"]),
        ("50-scope.rules", ["-w /etc/sudoers -p wa -k scope", "-w /etc/sudoers.d/ -p wa -k scope"]),
        ("50-actions.rules", [
            "-a always,exit -F arch=b64 -C euid!=uid -F euid=0 -F auid>=1000 -F auid!=4294967295 -S execve -k actions",
            "-a always,exit -F arch=b32 -C euid!=uid -F euid=0 -F auid>=1000 -F auid!=4294967295 -S execve -k actions"]),
        ("50-time-change.rules", [
            "-a always,exit -F arch=b64 -S adjtimex -S settimeofday -k time-change",
            "-a always,exit -F arch=b32 -S adjtimex -S settimeofday -S stime -k time-change",
            "-a always,exit -F arch=b64 -S clock_settime -k time-change", "-a always,exit -F arch=b32 -S clock_settime -k time-change",
            "-w /etc/localtime -p wa -k time-change"]),
        ("50-system-locale.rules", [
            "-a always,exit -F arch=b64 -S sethostname -S setdomainname -k system-locale",
            "-a always,exit -F arch=b32 -S sethostname -S setdomainname -k system-locale",
            "-w /etc/issue -p wa -k system-locale", "-w /etc/issue.net -p wa -k system-locale", "-w /etc/hosts -p wa -k system-locale",
            "-w /etc/network -p wa -k system-locale"]),
        ("50-access.rules", [
            "-a always,exit -F arch=b64 -S creat -S open -S openat -S truncate -S ftruncate -F exit=-EACCES -F auid>=1000 -F auid!=4294967295 -k access",
            "-a always,exit -F arch=b32 -S creat -S open -S openat -S truncate -S ftruncate -F exit=-EACCES -F auid>=1000 -F auid!=4294967295 -k access",
            "-a always,exit -F arch=b64 -S creat -S open -S openat -S truncate -S ftruncate -F exit=-EPERM -F auid>=1000 -F auid!=4294967295 -k access",
            "-a always,exit -F arch=b32 -S creat -S open -S openat -S truncate -S ftruncate -F exit=-EPERM -F auid>=1000 -F auid!=4294967295 -k access"]),
        ("50-identity.rules", [
            "-w /etc/group -p wa -k identity", "-w /etc/passwd -p wa -k identity", "-w /etc/gshadow -p wa -k identity",
            "-w /etc/shadow -p wa -k identity", "-w /etc/security/opasswd -p wa -k identity"]),
        ("50-perm_mod.rules", [
            "-a always,exit -F arch=b64 -S chmod -S fchmod -S fchmodat -F auid>=1000 -F auid!=4294967295 -k perm_mod",
            "-a always,exit -F arch=b32 -S chmod -S fchmod -S fchmodat -F auid>=1000 -F auid!=4294967295 -k perm_mod",
            "-a always,exit -F arch=b64 -S chown -S fchown -S fchownat -S lchown -F auid>=1000 -F auid!=4294967295 -k perm_mod",
            "-a always,exit -F arch=b32 -S chown -S fchown -S fchownat -S lchown -F auid>=1000 -F auid!=4294967295 -k perm_mod",
            "-a always,exit -F arch=b64 -S setxattr -S lsetxattr -S fsetxattr -S removexattr -S lremovexattr -S fremovexattr -F auid>=1000 -F auid!=4294967295 -k perm_mod",
            "-a always,exit -F arch=b32 -S setxattr -S lsetxattr -S fsetxattr -S removexattr -S lremovexattr -S fremovexattr -F auid>=1000 -F auid!=4294967295 -k perm_mod"]),
        ("50-mounts.rules", [
            "-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=4294967295 -k mounts",
            "-a always,exit -F arch=b32 -S mount -F auid>=1000 -F auid!=4294967295 -k mounts"]),
        ("50-session.rules", ["-w /var/run/utmp -p wa -k session", "-w /var/log/wtmp -p wa -k session", "-w /var/log/btmp -p wa -k session"]),
        ("50-logins.rules", ["-w /var/log/faillog -p wa -k logins", "-w /var/log/lastlog -p wa -k logins", "-w /var/log/tallylog -p wa -k logins"]),
        ("50-delete.rules", [
            "-a always,exit -F arch=b64 -S unlink -S unlinkat -S rename -S renameat -F auid>=1000 -F auid!=4294967295 -k delete",
            "-a always,exit -F arch=b32 -S unlink -S unlinkat -S rename -S renameat -F auid>=1000 -F auid!=4294967295 -k delete"]),
        ("50-MAC-policy.rules", ["-w /etc/apparmor/ -p wa -k MAC-policy"]),
        ("50-modules.rules", [
            "-w /sbin/insmod -p x -k modules", "-w /sbin/rmmod -p x -k modules", "-w /sbin/modprobe -p x -k modules",
            "-a always,exit -F arch=b64 -S init_module -S delete_module -k modules"]),
        ("99-finalize.rules", ["-e 2"]),
    ];

    /// <summary>One control: its benchmark section (<c>-</c> for CanvOS items the benchmark does not number), title, and shell.</summary>
    /// <param name="Script">
    /// POSIX shell run under <c>set -eu</c>; it may set <c>status</c> to <c>not-applicable: why</c> (the image lacks what
    /// the control governs), and list the files it governs in <paramref name="Files"/> for the report.
    /// </param>
    public sealed record Control(string Section, string Title, string Script, params string[] Files);

    /// <summary>The controls in the order they run: packages first (later controls configure what they install).</summary>
    public static IReadOnlyList<Control> Controls { get; } = BuildControls();

    /// <summary>The whole step as one command for the RUN sandbox.</summary>
    public static string Command(BuildSettings settings)
    {
        if (PackageFamilies.Of(settings.OsDistribution) != PackageFamily.Apt)
        {
            throw new InvalidOperationException("the plan admits CIS_HARDENING only for apt operating systems");
        }

        var script = new StringBuilder();
        script.Append(Prologue).Append(OfflineSystemd.Functions).Append('\n');
        foreach (var control in Controls)
        {
            script.Append($"status=applied\necho {Quote($"edgeforge-cis: {control.Section} {control.Title}")} >&2\n");
            script.Append(control.Script.TrimEnd()).Append('\n');
            script.Append($"record {Quote(control.Section)} \"$status\" {Quote(control.Title)}\n");
            foreach (var file in control.Files)
            {
                script.Append($"governed {Quote(file)}\n");
            }
        }

        script.Append(Epilogue);
        return script.ToString();
    }

    /// <summary>docs/cis-hardening.md: what the step does, generated from <see cref="Controls"/> so the list cannot drift.</summary>
    public static string RenderDocument()
    {
        var text = new StringBuilder($$"""
            # CIS hardening (`CIS_HARDENING=true`)

            <!-- Generated from src/EdgeForge.Build/Composition/CisHardening.cs; regenerate with
                 EDGEFORGE_UPDATE_DOCS=1 dotnet test tests/EdgeForge.Build.Tests -->

            CanvOS runs `cis-harden/harden.sh` in its base image after the kernel and GPU steps. EdgeForge runs its own
            controls at the same place — after the Dockerfile's customisations, `UPDATE_KERNEL` and the GPU drivers — as one step in the
            RUN sandbox (with the build's proxies and `certs/`), cached as one layer. Section numbers are those of the
            **{{Benchmark}}**; `-` marks items CanvOS applies that the benchmark does not number.

            Built for apt systems (`OS_DISTRIBUTION` `ubuntu` or `debian`; `validate` refuses the others). Every command of
            every control must succeed: where CanvOS's script ends a command with `|| true`, a failure here fails the build
            with the control's section in the message (`edgeforge-cis: SECTION TITLE` is the last line before the error).

            ## The report

            The image carries `/{{ReportPath}}` (mode 600), tab-separated:

            - `control SECTION STATUS TITLE` — one line per control, in the order they ran; `STATUS` is `applied` or
              `not-applicable: why` (the image lacks what the control governs, e.g. no `/etc/cos/grub.cfg` outside Kairos).
            - `file PATH MODE UID:GID SHA256` — the state after hardening of every file the controls govern that exists
              (`-` for directories; `file PATH link TARGET` for symlinks such as masked units).

            The heavy test builds an image with `CIS_HARDENING=true`, unpacks it with umoci and checks every `file` line
            with `stat`/`sha256sum`, and the claims with the image's `sshd -T` and `visudo -c`, `systemctl --root
            is-enabled`, `modprobe -C … -c` and `dpkg-query`.

            ## Where EdgeForge departs from CanvOS's script

            - Values are CanvOS's, also where they depart from the benchmark: `net.ipv4.conf.all.rp_filter=0` (CNIs),
              IP forwarding left on (Kubernetes), `dictcheck = 0`, `su` restricted to group `sudo`, remember 5 passwords.
            - Kernel parameters go to `/{{SysctlPath}}`, which systemd-sysctl reads after `99-sysctl.conf` (the link to
              `/etc/sysctl.conf` CanvOS edits), so no other file overrides them; the step fails if one sorts later.
            - sshd settings are placed at the top of `sshd_config` (sshd takes the first value of a keyword), ahead of its
              `Include` and `Match` blocks; CanvOS appends them at the end, where a `Match` block would capture them.
            - journald settings are a drop-in (`journald.conf.d/60-cis-hardening.conf`); module blacklists one file
              (`modprobe.d/60-cis-hardening.conf`); audit rules files are written whole rather than appended, so a rebuild
              cannot double them.
            - PAM: `pam_faillock` is put around `pam_unix` in `common-auth` (preauth before, authfail after, the success
              jump adjusted) with its limits in `faillock.conf`; password history is `pam_pwhistory` before `pam_unix` in
              `common-password`. CanvOS appends a second auth stack after the first, which PAM then runs twice.
            - `/etc/shadow` keeps group `shadow` where the image has it (`unix_chkpwd` is setgid shadow); CanvOS sets
              group root. Login banners replace `/etc/issue`'s OS details instead of appending to them (benchmark 1.6.2).
            - Units are enabled, disabled and masked as `systemctl` does offline (the `[Install]` links, `/dev/null`
              masks): the sandbox has no systemd for `systemctl` to detect.
            - Not replayed: CanvOS's fallback that adds Ubuntu focal's archive when a package is missing (a build site's
              mirror is the image's own sources), and its `/etc/os-release` backup and restore (nothing here changes it).

            ## Controls

            | Section | Control | Files |
            |---|---|---|

            """);
        foreach (var control in Controls)
        {
            var files = control.Files.Length == 0 ? "" : string.Join(", ", control.Files.Select(f => $"`{f}`"));
            text.Append($"| {control.Section} | {control.Title.Replace("|", "\\|", StringComparison.Ordinal)} | {files} |\n");
        }

        text.Append("\n### Values\n\nKernel parameters:\n\n| Section | Key | Value |\n|---|---|---|\n");
        foreach (var (key, value, section) in KernelParameters)
        {
            text.Append($"| {section} | `{key}` | `{value}` |\n");
        }

        text.Append("\nsshd:\n\n| Section | Keyword | Value |\n|---|---|---|\n");
        foreach (var (keyword, value, section) in SshSettings)
        {
            text.Append($"| {section} | `{keyword}` | `{value}` |\n");
        }

        text.Append($"\nPackages installed: {string.Join(", ", Packages.Select(p => $"`{p}`"))}. Purged where installed: " +
            $"{string.Join(", ", Removed.Select(p => $"`{p}`"))}, `xserver-xorg*`. Modules made unloadable: " +
            $"{string.Join(", ", DisabledModules.Select(m => $"`{m.Module}` ({m.Section})"))}; squashfs, udf and usb-storage stay (Kairos boots from them).\n");
        return text.ToString();
    }

    /// <summary>The report's <c>control</c> lines: section, status, title.</summary>
    public static IReadOnlyList<(string Section, string Status, string Title)> ReadControls(string report) =>
        report.Split('\n').Select(l => l.Split('\t')).Where(f => f.Length == 4 && f[0] == "control").Select(f => (f[1], f[2], f[3])).ToList();

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Shell helpers: the report's two lists, package state, CanvOS's config-line edit; units are handled by <see cref="OfflineSystemd"/>.
    /// </summary>
    private const string Prologue = """
        set -eu
        export DEBIAN_FRONTEND=noninteractive
        report=/etc/edgeforge/cis-hardening.tsv
        mkdir -p /etc/edgeforge
        : > "$report.controls"
        : > "$report.files"
        record() { printf 'control\t%s\t%s\t%s\n' "$1" "$2" "$3" >> "$report.controls"; }
        governed() { printf '%s\n' "$1" >> "$report.files"; }
        installed() { [ "$(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]; }
        # CanvOS's update_config_files: the active lines of a key commented out, the new line appended.
        set_line() {
          [ -f "$3" ] || { echo "edgeforge-cis: $3 not found" >&2; return 1; }
          sed -i "s/^\($1\)/#\1/" "$3"
          printf '%s\n' "$2" >> "$3"
        }
        # key = value in files like pwquality.conf: replaced where set, appended where not.
        set_value() {
          if grep -q "^$1[[:space:]]*=" "$3"; then sed -i "s/^$1[[:space:]]*=.*/$1 = $2/" "$3"; else printf '%s = %s\n' "$1" "$2" >> "$3"; fi
        }

        """;

    /// <summary>The report: controls, then the state of every governed file that exists (mode, owner, SHA-256), sorted.</summary>
    private const string Epilogue = """
        {
          printf '# EdgeForge CIS hardening report (%s section numbers; - marks CanvOS items it does not number)\n' 'CIS Ubuntu Linux 22.04 LTS Benchmark v2.0.0'
          cat "$report.controls"
          LC_ALL=C sort -u "$report.files" | while IFS= read -r file; do
            if [ -L "$file" ]; then
              printf 'file\t%s\tlink\t%s\n' "$file" "$(readlink "$file")"
            elif [ -f "$file" ]; then
              printf 'file\t%s\t%s\t%s\n' "$file" "$(stat -c '%a %u:%g' "$file")" "$(sha256sum < "$file" | cut -d' ' -f1)"
            elif [ -d "$file" ]; then
              printf 'file\t%s\t%s\t-\n' "$file" "$(stat -c '%a %u:%g' "$file")"
            fi
          done
        } > "$report.new"
        rm -f "$report.controls" "$report.files"
        chmod 600 "$report.new"
        mv "$report.new" "$report"
        awk -F '\t' '$1 == "control" { if ($3 ~ /^applied/) a++; else n++ } END { printf "edgeforge-cis: %d controls applied, %d not applicable\n", a, n }' "$report" >&2

        """;

    private static List<Control> BuildControls()
    {
        var sysctl = new StringBuilder();
        foreach (var (key, value, _) in KernelParameters)
        {
            sysctl.Append($"{key} = {value}\\n");
        }

        var modules = new StringBuilder();
        foreach (var (module, _) in DisabledModules)
        {
            modules.Append($"install {module} /bin/false\\nblacklist {module}\\n");
        }

        var ssh = new StringBuilder();
        foreach (var (keyword, value, _) in SshSettings)
        {
            ssh.Append($"{keyword} {value}\\n");
        }

        var sshKeywords = string.Join("\\|", SshSettings.Select(s => s.Keyword));
        var accountFiles = string.Join("\n", AccountFiles.Select(f =>
            $"if [ -e {f.Path} ]; then chown root {f.Path}; if [ \"$(stat -c %G {f.Path})\" != shadow ]; then chgrp root {f.Path}; fi; chmod {f.Mode} {f.Path}; fi"));

        return
        [
            new("1.2.2.1", "Ensure updates, patches, and additional security software are installed",
                "apt-get update\napt-get -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade"),
            new("1.3.1.1", "Ensure AppArmor is installed; 5.3.1.3 libpam-pwquality; 6.1.1 AIDE; 6.3.1.1 auditd; vlock",
                $"apt-get install -y {string.Join(' ', Packages)}"),
            new("1.3.1.2", "Ensure AppArmor is enabled (its service at boot)", "enable_unit apparmor.service", "/etc/systemd/system/sysinit.target.wants/apparmor.service"),
            new("6.3.1.2", "Ensure auditd service is enabled and active", "enable_unit auditd.service", "/etc/systemd/system/multi-user.target.wants/auditd.service"),
            new("-", "rsyslog enabled where installed (CanvOS)",
                "if [ -n \"$(unit_file rsyslog.service || true)\" ]; then enable_unit rsyslog.service; else status='not-applicable: rsyslog is not installed'; fi"),
            new("5.2.2", "Ensure sudo commands use pty; 5.2.3 sudo log file; 5.2.4 password for privilege escalation",
                """
                mkdir -p /etc/sudoers.d
                printf 'Defaults use_pty\n' > /etc/sudoers.d/10-cis-pty
                printf 'Defaults logfile=/var/log/sudo.log\n' > /etc/sudoers.d/10-cis-logfile
                printf 'Defaults !targetpw\nDefaults !rootpw\nDefaults !runaspw\n' > /etc/sudoers.d/10-cis-password
                chmod 440 /etc/sudoers.d/10-cis-pty /etc/sudoers.d/10-cis-logfile /etc/sudoers.d/10-cis-password
                if command -v visudo >/dev/null; then visudo -c -q; fi
                """, "/etc/sudoers.d/10-cis-pty", "/etc/sudoers.d/10-cis-logfile", "/etc/sudoers.d/10-cis-password"),
            new("5.4.3.3", "Ensure default user umask is configured (027)",
                """
                for f in /etc/profile /etc/bash.bashrc; do
                  if [ -f "$f" ] && ! grep -q '^umask 027' "$f"; then sed -i '/^umask/d' "$f"; echo 'umask 027' >> "$f"; fi
                done
                echo 'umask 027' > /etc/profile.d/umask.sh
                chmod 644 /etc/profile.d/umask.sh
                """, "/etc/profile", "/etc/bash.bashrc", "/etc/profile.d/umask.sh"),
            new("5.4.3.2", "Ensure default user shell timeout is configured (900 s)",
                "printf 'TMOUT=900\\nreadonly TMOUT\\nexport TMOUT\\n' > /etc/profile.d/timeout.sh\nchmod 644 /etc/profile.d/timeout.sh", "/etc/profile.d/timeout.sh"),
            new("3.3", "Network and kernel parameters (3.3.2-3.3.11, 1.5.1-1.5.3; forwarding stays on for Kubernetes)",
                $$"""
                mkdir -p /etc/sysctl.d
                printf '{{sysctl}}' > /{{SysctlPath}}
                last=$(for f in /etc/sysctl.d/*.conf /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf; do if [ -e "$f" ]; then basename "$f"; fi; done | LC_ALL=C sort | tail -n 1)
                [ "$last" = "{{Path.GetFileName(SysctlPath)}}" ] || { echo "edgeforge-cis: sysctl file $last sorts after /{{SysctlPath}} and would override it" >&2; exit 1; }
                """, "/" + SysctlPath),
            new("1.5.3", "Ensure core dumps are restricted",
                """
                if [ -f /etc/security/limits.conf ]; then set_line '\* hard core' '* hard core 0' /etc/security/limits.conf; fi
                mkdir -p /etc/systemd/coredump.conf.d
                printf '[Coredump]\nStorage=none\nProcessSizeMax=0\n' > /etc/systemd/coredump.conf.d/disable-coredump.conf
                """, "/etc/security/limits.conf", "/etc/systemd/coredump.conf.d/disable-coredump.conf"),
            new("5.1.1", "Ensure permissions on /etc/ssh/sshd_config are configured; 5.1.5-5.1.22 sshd settings",
                $$"""
                if [ -f /etc/ssh/sshd_config ]; then
                  # sshd takes the first value of a keyword: the settings go first, ahead of Include and Match blocks.
                  sed -i 's/^\({{sshKeywords}}\)\([[:space:]]\)/#\1\2/' /etc/ssh/sshd_config
                  { printf '# CIS hardening (edgeforge)\n{{ssh}}\n'; cat /etc/ssh/sshd_config; } > /etc/ssh/sshd_config.cis
                  mv /etc/ssh/sshd_config.cis /etc/ssh/sshd_config
                  chown root:root /etc/ssh/sshd_config
                  chmod 600 /etc/ssh/sshd_config
                else
                  status='not-applicable: openssh-server is not installed'
                fi
                """, "/etc/ssh/sshd_config"),
            new("-", "Ctrl-Alt-Del reboot disabled (CanvOS)", "mask_unit ctrl-alt-del.target", "/etc/systemd/system/ctrl-alt-del.target"),
            new("1.4.2", "Ensure access to bootloader config is configured; 6.3.1.3 audit=1 on the kernel command line",
                """
                if [ -f /etc/cos/grub.cfg ]; then
                  chown root:root /etc/cos/grub.cfg
                  chmod u-wx,go-rwx /etc/cos/grub.cfg
                  if [ -f /etc/cos/bootargs.cfg ]; then sed -i 's/set baseExtraArgs=""/set baseExtraArgs="audit=1"/' /etc/cos/bootargs.cfg; fi
                else
                  status='not-applicable: no Kairos /etc/cos/grub.cfg'
                fi
                """, "/etc/cos/grub.cfg", "/etc/cos/bootargs.cfg"),
            new("7.1.1", "Ensure permissions on /etc/passwd, group, shadow, gshadow and their backups are configured (7.1.1-7.1.8)",
                accountFiles, [.. AccountFiles.Select(f => f.Path)]),
            new("5.4.2.2", "Ensure root is the only GID 0 account (root's primary group 0)",
                "if [ \"$(awk -F: '$1 == \"root\" {print $4}' /etc/passwd)\" != 0 ]; then usermod -g 0 root; fi", "/etc/passwd"),
            new("7.2.2", "Ensure /etc/shadow password fields are not empty (checked: the build fails)",
                """
                empty=$(awk -F: '$2 == "" {print $1}' /etc/shadow | tr '\n' ' ')
                [ -z "$empty" ] || { echo "edgeforge-cis: accounts with an empty password: $empty- set a password or lock them (passwd -l) in the Dockerfile" >&2; exit 1; }
                """),
            new("5.4.2.1", "Ensure root is the only UID 0 account (checked: the build fails)",
                """
                others=$(awk -F: '$3 == 0 && $1 != "root" {print $1}' /etc/passwd | tr '\n' ' ')
                [ -z "$others" ] || { echo "edgeforge-cis: accounts other than root with UID 0: $others" >&2; exit 1; }
                """),
            new("2.4.1.2", "Ensure permissions on /etc/crontab and /etc/cron.{hourly,daily,weekly,monthly,d} are configured (2.4.1.2-2.4.1.7)",
                """
                for f in /etc/crontab /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly /etc/cron.d; do
                  if [ -e "$f" ]; then chown root:root "$f"; chmod og-rwx "$f"; fi
                done
                """, "/etc/crontab", "/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly", "/etc/cron.d"),
            new("2.4.1.8", "Ensure crontab is restricted to authorized users; 2.4.2.1 at",
                """
                rm -f /etc/cron.deny /etc/at.deny
                touch /etc/cron.allow /etc/at.allow
                chown root:root /etc/cron.allow /etc/at.allow
                chmod 640 /etc/cron.allow /etc/at.allow
                """, "/etc/cron.allow", "/etc/at.allow"),
            new("7.2.9", "Ensure local interactive user home directories are configured (750 or stricter)",
                """
                awk -F: '$1 !~ /^(halt|sync|shutdown|nfsnobody)$/ && $7 !~ /(nologin|false)$/ {print $6}' /etc/passwd | while IFS= read -r home; do
                  if [ -d "$home" ] && [ "$home" != / ]; then chmod g-w,o-rwx "$home"; fi
                done
                """),
            new("1.5.5", "Ensure Automatic Error Reporting is not enabled (apport masked); 2.1.12 rpcbind masked; kdump masked (CanvOS)",
                "for unit in apport.service rpcbind.service rpcbind.socket kdump-tools.service; do mask_unit \"$unit\"; done",
                "/etc/systemd/system/apport.service", "/etc/systemd/system/rpcbind.service", "/etc/systemd/system/rpcbind.socket",
                "/etc/systemd/system/kdump-tools.service"),
            new("2.1.1", "Ensure autofs, avahi, print, NFS, bluetooth and xinetd services are not in use (2.1.1, 2.1.2, 2.1.9, 2.1.11, 2.1.19, 3.1.3)",
                "for unit in autofs.service avahi-daemon.service cups.service nfs-server.service bluetooth.service xinetd.service; do disable_unit \"$unit\"; done"),
            new("2.2.1", "Ensure NIS, rsh, talk, telnet and LDAP clients are not installed (2.2.1-2.2.5); servers of 2.1.x, X, vim removed (CanvOS)",
                $$"""
                set --
                for p in {{string.Join(' ', Removed)}} $(dpkg-query -W -f '${Package}\n' 'xserver-xorg*' 2>/dev/null || true); do
                  if installed "$p"; then set -- "$@" "$p"; fi
                done
                if [ "$#" -gt 0 ]; then apt-get purge -y "$@"; else status='applied (none installed)'; fi
                """),
            new("1.1.1.1", "Ensure cramfs, freevxfs, hfs, hfsplus, jffs2 kernel modules are not available (1.1.1.1-1.1.1.5); dccp, tipc, rds, sctp (3.2.1-3.2.4)",
                $"mkdir -p /etc/modprobe.d\nprintf '{modules}' > /etc/modprobe.d/60-cis-hardening.conf", "/etc/modprobe.d/60-cis-hardening.conf"),
            new("6.2.1.1.4", "Ensure journald ForwardToSyslog is disabled; 6.2.1.1.6 Compress",
                "mkdir -p /etc/systemd/journald.conf.d\nprintf '[Journal]\\nCompress=yes\\nForwardToSyslog=no\\n' > /etc/systemd/journald.conf.d/60-cis-hardening.conf",
                "/etc/systemd/journald.conf.d/60-cis-hardening.conf"),
            new("6.3.3", "Audit rules (6.3.3.1-6.3.3.20: scope, time, identity, access, deletion, mounts, actions, modules, network, MAC, logins, sessions, permissions, immutable)",
                AuditRulesScript(), [.. AuditRules.Select(r => "/etc/audit/rules.d/" + r.File)]),
            new("6.3.2.1", "Ensure audit log storage size is configured; 6.3.2.2-6.3.2.4 rotation and space actions (CanvOS's values)",
                """
                conf=/etc/audit/auditd.conf
                for kv in max_log_file=100 max_log_file_action=ROTATE num_logs=10 space_left=250 space_left_action=SYSLOG \
                          admin_space_left=100 admin_space_left_action=ROTATE disk_full_action=ROTATE disk_error_action=SYSLOG; do
                  set_value "${kv%%=*}" "${kv#*=}" "$conf"
                done
                """, "/etc/audit/auditd.conf"),
            new("1.6.2", "Ensure local and remote login warning banners are configured (1.6.2, 1.6.3, 1.6.5, 1.6.6); 1.6.1 motd removed",
                """
                for f in /etc/issue /etc/issue.net; do
                  printf 'Authorized uses only. All activity may be monitored and reported.\n' > "$f"
                  chown root:root "$f"
                  chmod 644 "$f"
                done
                rm -f /etc/motd
                """, "/etc/issue", "/etc/issue.net"),
            new("6.2.2.1", "Ensure access to all logfiles has been configured; logrotate creates 0640",
                """
                find /var/log -type f -exec chmod g-wx,o-rwx {} + -o -type d -exec chmod g-w,o-rwx {} +
                if [ -f /etc/rsyslog.conf ]; then chmod 640 /etc/rsyslog.conf; fi
                if [ -f /etc/logrotate.conf ]; then
                  if grep -q '^create' /etc/logrotate.conf; then sed -i 's/^create.*/create 0640 root utmp/' /etc/logrotate.conf; else echo 'create 0640 root utmp' >> /etc/logrotate.conf; fi
                fi
                """, "/etc/logrotate.conf", "/etc/rsyslog.conf"),
            new("5.3.3.2", "Password quality: 5.3.3.2.1 difok 2, 5.3.3.2.2 minlen 14, 5.3.3.2.3 minclass 4, 5.3.3.2.4 maxrepeat 3, dictcheck 0 (CanvOS)",
                """
                for kv in minlen=14 minclass=4 difok=2 dictcheck=0 maxrepeat=3; do set_value "${kv%%=*}" "${kv#*=}" /etc/security/pwquality.conf; done
                grep -q 'pam_pwquality.so' /etc/pam.d/common-password || { echo 'edgeforge-cis: pam_pwquality is not in /etc/pam.d/common-password' >&2; exit 1; }
                """, "/etc/security/pwquality.conf"),
            new("5.2.7", "Ensure access to the su command is restricted (group sudo, as CanvOS)",
                """
                if [ -f /etc/pam.d/su ]; then
                  if ! grep -q '^auth[[:space:]]*required[[:space:]]*pam_wheel.so' /etc/pam.d/su; then
                    { echo 'auth required pam_wheel.so use_uid group=sudo'; cat /etc/pam.d/su; } > /etc/pam.d/su.cis && mv /etc/pam.d/su.cis /etc/pam.d/su
                  fi
                else
                  status='not-applicable: no /etc/pam.d/su'
                fi
                """, "/etc/pam.d/su"),
            new("5.3.2.2", "Ensure pam_faillock module is enabled; 5.3.3.1.1-5.3.3.1.2 deny 4, unlock after 600 s (CanvOS's values)",
                """
                ls /lib/*/security/pam_faillock.so /usr/lib/*/security/pam_faillock.so >/dev/null 2>&1 || { echo 'edgeforge-cis: the image has no pam_faillock.so (libpam-modules 1.4 or later)' >&2; exit 1; }
                printf 'deny = 4\nfail_interval = 900\nunlock_time = 600\naudit\n' > /etc/security/faillock.conf
                if ! grep -q pam_faillock /etc/pam.d/common-auth; then
                  # preauth before pam_unix, authfail right after it (pam_unix's success jump grows by one to skip it).
                  awk '!done && /^auth[ \t].*pam_unix\.so/ {
                         print "auth\trequired\t\t\tpam_faillock.so preauth"
                         if (match($0, /success=[0-9]+/)) { n = substr($0, RSTART + 8, RLENGTH - 8) + 1; sub(/success=[0-9]+/, "success=" n) }
                         print; print "auth\t[default=die]\t\t\tpam_faillock.so authfail"; done = 1; next }
                       { print }
                       END { if (!done) exit 1 }' /etc/pam.d/common-auth > /etc/pam.d/common-auth.cis
                  mv /etc/pam.d/common-auth.cis /etc/pam.d/common-auth
                  echo 'account required pam_faillock.so' >> /etc/pam.d/common-account
                fi
                """, "/etc/security/faillock.conf", "/etc/pam.d/common-auth", "/etc/pam.d/common-account"),
            new("5.3.2.4", "Ensure pam_pwhistory module is enabled; 5.3.3.3.1 remember 5 (CanvOS's value), 5.3.3.3.3 use_authtok",
                """
                if ! grep -q pam_pwhistory /etc/pam.d/common-password; then
                  awk '!done && /^password[ \t].*pam_unix\.so/ { print "password\trequired\t\t\tpam_pwhistory.so remember=5 enforce_for_root use_authtok"; done = 1 }
                       { print }
                       END { if (!done) exit 1 }' /etc/pam.d/common-password > /etc/pam.d/common-password.cis
                  mv /etc/pam.d/common-password.cis /etc/pam.d/common-password
                fi
                """, "/etc/pam.d/common-password"),
            new("5.4.1.1", "Ensure password expiration is configured; 5.4.1.2 minimum age; 5.4.1.3 warning; 5.4.1.4 strong hashing",
                """
                set_line 'PASS_MIN_DAYS' 'PASS_MIN_DAYS 1' /etc/login.defs
                set_line 'PASS_MAX_DAYS' 'PASS_MAX_DAYS 365' /etc/login.defs
                set_line 'PASS_WARN_AGE' 'PASS_WARN_AGE 7' /etc/login.defs
                # yescrypt where PAM and shadow of the release have it (Ubuntu 22.04+, as CanvOS; Debian 11+), SHA512 before.
                release=$(. /etc/os-release && echo "${ID:-}:${VERSION_ID:-0}")
                case "$release" in
                  ubuntu:1*|ubuntu:20*|ubuntu:21*|debian:[0-9]|debian:10*) method=SHA512 ;;
                  *) method=yescrypt ;;
                esac
                set_line 'ENCRYPT_METHOD' "ENCRYPT_METHOD $method" /etc/login.defs
                """, "/etc/login.defs"),
            new("5.4.1.5", "Ensure inactive password lock is configured (30 days)",
                """
                if [ -f /etc/default/useradd ]; then set_line 'INACTIVE' 'INACTIVE=30' /etc/default/useradd; else printf 'INACTIVE=30\n' > /etc/default/useradd; fi
                """, "/etc/default/useradd"),
            new("6.1.1", "Ensure AIDE is installed (its database initialised)",
                """
                aideinit -y -f >/dev/null
                [ -s /var/lib/aide/aide.db ] || { echo 'edgeforge-cis: aideinit wrote no /var/lib/aide/aide.db' >&2; exit 1; }
                """, "/var/lib/aide/aide.db"),
            new("-", "Package manager cache cleaned (CanvOS)", "apt-get clean\nrm -rf /var/lib/apt/lists/*"),
        ];
    }

    /// <summary>The rules files written whole (not appended: a rebuilt layer must not double them), then checked by augenrules.</summary>
    private static string AuditRulesScript()
    {
        var script = new StringBuilder("mkdir -p /etc/audit/rules.d\n");
        foreach (var (file, lines) in AuditRules)
        {
            script.Append($"printf '%s\\n' {string.Join(' ', lines.Select(Quote))} > /etc/audit/rules.d/{file}\n");
        }

        script.Append("chmod 640 /etc/audit/rules.d/*.rules\n");
        return script.ToString();
    }
}
