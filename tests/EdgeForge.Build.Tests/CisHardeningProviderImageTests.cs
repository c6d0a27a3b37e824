using EdgeForge.Build.Composition;
using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// Issue 13 item 2: given a debootstrap Debian base (the apt paths Ubuntu takes) with sshd, sudo and rsyslog as a
/// Kairos image has them, and <c>CIS_HARDENING=true</c>, when I build the provider images, then the image carries a
/// report whose every control ran and whose every file line is what coreutils read in the umoci-unpacked image; and
/// the image's own OpenSSH, sudo and the host's systemctl, modprobe and dpkg agree with what the controls claim.
/// </summary>
[Collection(nameof(DebianBaseCollection))]
public sealed class CisHardeningProviderImageTests(DebianBaseFixture fixture)
{
    [Fact]
    [Trait("Tier", "Heavy")]
    public async Task A_hardened_image_matches_its_report_and_the_tools_of_the_image_agree()
    {
        var project = fixture.Project("cis", "CIS_HARDENING=true\n");
        File.WriteAllText(Path.Combine(project, "Dockerfile"), """
            # Add any other image customizations here
            RUN apt-get update && apt-get install -y --no-install-recommends openssh-server sudo rsyslog && rm -rf /var/lib/apt/lists/*

            """);
        var (plan, _) = DebianBaseFixture.Load(project);

        var report = await fixture.BuildProviderImagesAsync(plan);

        report.RunsExecuted.ShouldBe(2);
        var root = await fixture.UnpackAsync(project, report, "cis-unpacked");

        // The report: every control, in order, applied (none of them is inapplicable to an image with sshd).
        var text = File.ReadAllText(Path.Combine(root, CisHardening.ReportPath));
        var controls = CisHardening.ReadControls(text);
        controls.Select(c => c.Section).ShouldBe(CisHardening.Controls.Select(c => c.Section));
        controls.Where(c => !c.Status.StartsWith("applied", StringComparison.Ordinal)).Select(c => c.Section + " " + c.Status)
            .ShouldBe(["1.4.2 not-applicable: no Kairos /etc/cos/grub.cfg"]);

        // Every file line is what stat and sha256sum (not our reader) see in the unpacked image.
        var files = text.Split('\n').Select(l => l.Split('\t')).Where(f => f[0] == "file").ToList();
        files.Count.ShouldBeGreaterThan(40);
        foreach (var line in files)
        {
            var path = Path.Combine(root, line[1].TrimStart('/'));
            if (line[2] == "link")
            {
                (await ExternalTool.RunAsync("readlink", path)).Trim().ShouldBe(line[3], line[1]);
                continue;
            }

            (await ExternalTool.RunAsync("stat", "-c", "%a %u:%g", path)).Trim().ShouldBe(line[2], line[1]);
            if (line[3] != "-")
            {
                (await ExternalTool.RunAsync("sha256sum", path)).Split(' ')[0].ShouldBe(line[3], line[1]);
            }
        }

        // dpkg: CanvOS's packages in, the legacy clients out.
        var status = await ExternalTool.RunAsync("dpkg-query", ["--admindir", Path.Combine(root, "var/lib/dpkg"), "-W", "-f", "${Package} ${db:Status-Status}\n", .. CisHardening.Packages]);
        foreach (var package in CisHardening.Packages)
        {
            status.ShouldContain($"{package} installed");
        }

        (await ExternalTool.RunAsync("stat", "-c", "%a %U %G", Path.Combine(root, "etc/shadow"))).Trim().ShouldBe("640 root shadow");

        // The image's OpenSSH takes the hardened values as its effective configuration.
        await ExternalTool.RunAsync("chroot", root, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/tmp/cis-test-key");
        Directory.CreateDirectory(Path.Combine(root, "run/sshd"));
        var sshd = await ExternalTool.RunAsync("chroot", root, "/usr/sbin/sshd", "-T", "-f", "/etc/ssh/sshd_config", "-h", "/tmp/cis-test-key");
        foreach (var expected in new[] { "permitrootlogin no", "maxauthtries 4", "x11forwarding no", "disableforwarding yes", "logingracetime 60", "banner /etc/issue.net", "clientaliveinterval 300" })
        {
            sshd.Split('\n').ShouldContain(expected);
        }

        // sudo parses the drop-ins; systemctl (offline, --root) sees the units as the controls set them.
        await ExternalTool.RunAsync("chroot", root, "visudo", "-c", "-q");
        (await ExternalTool.RunAsync("systemctl", "--root", root, "is-enabled", "auditd.service")).Trim().ShouldBe("enabled");
        (await ExternalTool.RunAsync("systemctl", "--root", root, "is-enabled", "apparmor.service")).Trim().ShouldBe("enabled");
        // is-enabled exits 1 for masked units: the words are what counts.
        var masked = (await ExternalTool.RunUncheckedAsync("systemctl", "--root", root, "is-enabled", "apport.service", "ctrl-alt-del.target")).Output;
        masked.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(["masked", "masked"]);

        // modprobe reads the drop-in as configuration that makes cramfs unloadable.
        var modprobe = await ExternalTool.RunAsync("modprobe", "-C", Path.Combine(root, "etc/modprobe.d"), "-c");
        modprobe.ShouldContain("install cramfs /bin/false");
        modprobe.ShouldContain("blacklist cramfs");

        // The lockout is in the auth stack in the order PAM needs: preauth, unix (skipping two on success), authfail.
        var auth = File.ReadAllLines(Path.Combine(root, "etc/pam.d/common-auth")).Where(l => l.StartsWith("auth", StringComparison.Ordinal)).ToList();
        var unix = auth.FindIndex(l => l.Contains("pam_unix.so", StringComparison.Ordinal));
        auth[unix - 1].ShouldEndWith("pam_faillock.so preauth");
        auth[unix].ShouldContain("success=2");
        auth[unix + 1].ShouldEndWith("pam_faillock.so authfail");
        File.ReadAllLines(Path.Combine(root, "etc/login.defs")).Where(l => l.StartsWith("PASS_MAX_DAYS", StringComparison.Ordinal)).ShouldBe(["PASS_MAX_DAYS 365"]);
        new FileInfo(Path.Combine(root, "var/lib/aide/aide.db")).Length.ShouldBeGreaterThan(0);

        // Nothing changed: the hardening layer comes from the cache.
        var again = await fixture.BuildProviderImagesAsync(plan);
        again.RunsExecuted.ShouldBe(0);
    }
}
