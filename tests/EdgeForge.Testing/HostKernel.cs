namespace EdgeForge.Testing;

/// <summary>
/// A Debian kernel as its package installs it: the image, and the module tree with the modules.dep that depmod wrote
/// — the machine's own (<see cref="HostKernel"/>) or one unpacked from another architecture's package
/// (<see cref="DebianArm64Packages"/>).
/// </summary>
public sealed record DebianKernel(string Version, string ImagePath, string ModuleDirectory)
{
    /// <summary>The files a build from this kernel depends on, for a <see cref="BuildCache"/> key.</summary>
    public IEnumerable<string> Fingerprints => [BuildCache.Fingerprint(ImagePath), BuildCache.Fingerprint(Path.Combine(ModuleDirectory, "modules.dep"))];

    /// <summary>
    /// The module files (relative to <see cref="ModuleDirectory"/>) that load <paramref name="names"/>, dependencies
    /// first, from modules.dep; a name built into the kernel needs none, and one that is neither fails the test.
    /// </summary>
    public IReadOnlyList<string> ModulesInLoadOrder(IEnumerable<string> names)
    {
        var dependencies = File.ReadAllLines(Path.Combine(ModuleDirectory, "modules.dep"))
            .Select(l => l.Split(':'))
            .ToDictionary(p => p[0], p => p[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var builtin = File.ReadAllText(Path.Combine(ModuleDirectory, "modules.builtin"));
        var order = new List<string>();
        void Add(string module)
        {
            if (order.Contains(module))
            {
                return;
            }

            foreach (var dependency in dependencies[module])
            {
                Add(dependency);
            }

            order.Add(module);
        }

        foreach (var name in names)
        {
            var module = dependencies.Keys.FirstOrDefault(k => ModuleName(k) == name);
            if (module is null)
            {
                builtin.ShouldContain($"/{name}.ko", customMessage: $"kernel module {name} is neither a module nor built in ({Version})");
                continue;
            }

            Add(module);
        }

        return order;
    }

    /// <summary>The name insmod and modules.builtin know a module file by (kernel/fs/isofs/isofs.ko.xz → isofs).</summary>
    public static string ModuleName(string modulePath) => Path.GetFileName(modulePath).Split('.')[0].Replace('-', '_');
}

/// <summary>The machine's Debian kernel (linux-image-amd64): the one the test OS and the guest-kernel tests boot.</summary>
public static class HostKernel
{
    private static readonly Lazy<string> LatestVersion = new(() =>
    {
        var version = Directory.Exists("/lib/modules")
            ? Directory.GetDirectories("/lib/modules").Select(Path.GetFileName).Where(v => File.Exists($"/boot/vmlinuz-{v}")).Order(StringComparer.Ordinal).LastOrDefault()
            : null;
        return version ?? throw new FileNotFoundException("no /boot/vmlinuz-* with modules: install linux-image-amd64 (scripts/test-packages.txt)");
    });

    /// <summary>The newest installed version that has both a kernel image and modules.</summary>
    public static string Version => LatestVersion.Value;

    public static string ImagePath => $"/boot/vmlinuz-{Version}";

    public static string ModuleDirectory => $"/lib/modules/{Version}";

    /// <summary>The host kernel as a <see cref="DebianKernel"/>.</summary>
    public static DebianKernel Kernel => new(Version, ImagePath, ModuleDirectory);

    /// <summary>The host files a build from this kernel depends on, for a <see cref="BuildCache"/> key.</summary>
    public static IEnumerable<string> Fingerprints => Kernel.Fingerprints;

    /// <inheritdoc cref="DebianKernel.ModulesInLoadOrder"/>
    public static IReadOnlyList<string> ModulesInLoadOrder(IEnumerable<string> names) => Kernel.ModulesInLoadOrder(names);

    /// <inheritdoc cref="DebianKernel.ModuleName"/>
    public static string ModuleName(string modulePath) => DebianKernel.ModuleName(modulePath);
}
