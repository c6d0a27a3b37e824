namespace EdgeForge.Configuration.Arguments;

/// <summary>How an operating system installs packages, for the build steps that install them (TWO_NODE's PostgreSQL, UPDATE_KERNEL's kernel).</summary>
public enum PackageFamily
{
    /// <summary>dpkg and apt-get: Ubuntu, and Debian (the same apt paths).</summary>
    Apt,

    /// <summary>rpm and zypper: openSUSE Leap and SLES.</summary>
    Zypper,
}

/// <summary>The one owner of which <c>OS_DISTRIBUTION</c> takes which package manager.</summary>
public static class PackageFamilies
{
    /// <summary>The family of <paramref name="osDistribution"/>, or null for one edgeforge installs no packages on.</summary>
    public static PackageFamily? Of(string osDistribution) => osDistribution switch
    {
        "ubuntu" or "debian" => PackageFamily.Apt,
        "opensuse-leap" or "sles" => PackageFamily.Zypper,
        _ => null,
    };
}
