using EdgeForge.Configuration.Arguments;

namespace EdgeForge.Build.Composition;

/// <summary>
/// CanvOS's base-image with <c>UPDATE_KERNEL=true</c> (Earthfile, the Ubuntu block after <c>FROM DOCKERFILE</c>), its
/// kernel steps as one shell command for the RUN sandbox: the newest vendor kernel, every other kernel purged,
/// <c>/boot/vmlinuz</c> linked to it, its modules indexed and its initramfs regenerated with the image's dracut.
/// </summary>
public static class UpdateKernel
{
    /// <summary>
    /// The command for an apt system. The newest kernel: Ubuntu's HWE kernel for <c>OS_VERSION</c>
    /// (<c>linux-image-generic-hwe-22.04</c>, as CanvOS); Debian's is the kernel of its backports suite (the
    /// distribution's own "newer kernel" channel), taken from the mirror the image's sources name, whose source
    /// entry is removed again afterwards so the image's sources stay its own.
    /// </summary>
    public static string Command(BuildSettings settings)
    {
        if (PackageFamilies.Of(settings.OsDistribution) != PackageFamily.Apt)
        {
            throw new InvalidOperationException("the plan admits UPDATE_KERNEL only for apt operating systems");
        }

        var install = settings.OsDistribution == "ubuntu"
            ? $"apt-get install -y linux-image-generic-hwe-{settings.OsVersion}"
            : WithBackports($"apt-get install -y -t \"$VERSION_CODENAME-backports\" linux-image-{settings.Arch}");
        return string.Join(" && ",
            "export DEBIAN_FRONTEND=noninteractive",
            // CanvOS's dracut drop-in, written before its dracut run: a generic initramfs that boots from USB 3 on Renesas controllers.
            "mkdir -p /etc/dracut.conf.d",
            $"printf '%s\\n' 'hostonly=\"no\"' 'add_drivers+=\" xhci_pci_renesas \"' 'force_drivers+=\" xhci_pci_renesas \"' > /etc/dracut.conf.d/99-usb-media.conf",
            "apt-get update",
            install,
            // CanvOS: the newest module tree names the kernel to keep; every other kernel, header and module package goes
            // (awk with [[:space:]]: Debian's mawk has no \s).
            "latest=$(printf '%s\\n' /lib/modules/* | xargs -n1 basename | sort -V | tail -1)",
            "keep=$(echo \"$latest\" | awk -F '-' '{print $1\"-\"$2}')",
            "old=$(dpkg -l | awk '/^ii[[:space:]]+linux-(image|headers|modules)/ {print $2}' | grep -v -F \"$keep\" || true)",
            "if [ -n \"$old\" ]; then apt-get purge -y $old; fi",
            "apt-get autoremove -y",
            "rm -rf /var/lib/apt/lists/*",
            "kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)",
            "ln -sf \"${kernel#/boot/}\" /boot/vmlinuz",
            "if command -v dracut >/dev/null; then dracut -f \"/boot/initrd-$latest\" \"$latest\" && ln -sf \"initrd-$latest\" /boot/initrd; fi",
            "depmod -a \"$latest\"");
    }

    /// <summary>
    /// CanvOS's provider-image first step with UPDATE_KERNEL=true on Ubuntu (and always for kubeadm there): the
    /// headers of the image's newest kernel when <c>/usr/src</c> lacks them, so kernel modules built on the host (DKMS,
    /// CNI and storage drivers) match it. Here for every apt system with UPDATE_KERNEL=true; null otherwise. The
    /// kubeadm-without-UPDATE_KERNEL case is not replayed, as the rest of CanvOS's mirror-bound steps (docs/decisions.md).
    /// </summary>
    /// <remarks>Debian's headers of a backports kernel are in backports too: the same source, added and removed again.</remarks>
    public static string? HeadersCommand(BuildSettings settings)
    {
        if (!settings.UpdateKernel || PackageFamilies.Of(settings.OsDistribution) != PackageFamily.Apt)
        {
            return null;
        }

        return "kernel=$(printf '%s\\n' /lib/modules/* | xargs -n1 basename | sort -V | tail -1) && " +
               $"if ! ls /usr/src | grep -q \"linux-headers-$kernel\"; then {HeadersInstall(settings)}; fi";
    }

    /// <summary>
    /// The apt commands that install <c>linux-headers-$kernel</c> (the shell variable <c>kernel</c> names the image's
    /// kernel) on an apt system: from the image's sources, or, for Debian's backports kernel of
    /// <c>UPDATE_KERNEL=true</c>, from backports as that kernel came. Shared by the provider headers step and the GPU
    /// driver steps, whose DKMS modules build against these headers.
    /// </summary>
    public static string HeadersInstall(BuildSettings settings) =>
        settings.OsDistribution == "debian" && settings.UpdateKernel
            ? WithBackports("apt-get install -y -t \"$VERSION_CODENAME-backports\" \"linux-headers-$kernel\"")
            : "apt-get update && apt-get install -y \"linux-headers-$kernel\"";

    /// <summary>
    /// <paramref name="install"/> with the image's own Debian mirror's backports suite as a source for its duration: the
    /// mirror the image's sources name (one-line or deb822), the entry removed afterwards so the sources stay the image's.
    /// </summary>
    private static string WithBackports(string install) => string.Join(" && ",
        ". /etc/os-release",
        "mirror=$(sed -n 's/^deb \\(\\[[^]]*\\] \\)\\{0,1\\}\\([^ ]*\\) .*/\\2/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | head -n 1)",
        "[ -n \"$mirror\" ] || mirror=$(sed -n 's/^URIs: *\\([^ ]*\\).*/\\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1)",
        "[ -n \"$mirror\" ] || { echo 'UPDATE_KERNEL: the image names no Debian mirror in its apt sources' >&2; exit 1; }",
        "echo \"deb $mirror $VERSION_CODENAME-backports main\" > /etc/apt/sources.list.d/edgeforge-update-kernel.list",
        "apt-get update",
        install,
        "rm -f /etc/apt/sources.list.d/edgeforge-update-kernel.list");
}
