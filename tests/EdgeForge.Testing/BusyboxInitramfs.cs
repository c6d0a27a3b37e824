namespace EdgeForge.Testing;

/// <summary>
/// An initramfs for the host kernel made of busybox, the kernel modules a test needs (for its script to load in the
/// order of /etc/modules.load) and an /init that runs the test's script; built once per content and kept in the
/// <see cref="BuildCache"/>.
/// </summary>
public static class BusyboxInitramfs
{
    /// <summary>What every /init starts with: busybox's applets on PATH, and /proc, /sys and /dev mounted.</summary>
    private const string Preamble = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev

        """;

    /// <summary>
    /// The gzip-compressed newc cpio whose /init runs <paramref name="script"/> after the preamble, with
    /// <paramref name="modules"/> (names as insmod knows them) under /lib/modules, and <paramref name="directories"/>
    /// the script mounts on; for the host kernel and busybox unless <paramref name="kernel"/> and
    /// <paramref name="busybox"/> name another architecture's.
    /// </summary>
    public static async Task<string> CachedAsync(string script, IReadOnlyList<string> modules, IReadOnlyList<string> directories,
        DebianKernel? kernel = null, string? busybox = null)
    {
        kernel ??= HostKernel.Kernel;
        busybox ??= BusyboxRootfs.Binary;
        var init = Preamble + script.Replace("\r", "");
        var cached = await BuildCache.GetOrBuildAsync("initramfs", [init, string.Join(' ', modules), string.Join(' ', directories), BuildCache.Fingerprint(busybox), .. kernel.Fingerprints],
            directory => WriteAsync(Path.Combine(directory, "initrd.img"), init, modules, directories, kernel, busybox));
        return Path.Combine(cached, "initrd.img");
    }

    private static async Task WriteAsync(string output, string init, IReadOnlyList<string> modules, IReadOnlyList<string> directories, DebianKernel kernel, string busybox)
    {
        using var scratch = new TestDirectory("edgeforge-initramfs-");
        var root = scratch.Combine("root");
        BusyboxRootfs.Populate(root, [.. directories, "proc", "sys", "dev", "etc", "lib/modules"], [], busybox);
        var names = new List<string>();
        foreach (var module in kernel.ModulesInLoadOrder(modules))
        {
            var name = DebianKernel.ModuleName(module);
            var source = Path.Combine(kernel.ModuleDirectory, module);
            var target = Path.Combine(root, "lib", "modules", name + ".ko");
            // Debian ships modules uncompressed, xz- or zstd-compressed; busybox insmod takes them plain.
            var decompressor = module.EndsWith(".xz", StringComparison.Ordinal) ? "xz" : module.EndsWith(".zst", StringComparison.Ordinal) ? "zstd" : null;
            if (decompressor is null)
            {
                File.Copy(source, target);
            }
            else
            {
                await using var file = File.Create(target);
                await ExternalTool.RunAsync(decompressor, new ToolOptions { ReadOutput = s => s.CopyToAsync(file) }, "-dc", source);
            }

            names.Add(name);
        }

        await File.WriteAllLinesAsync(Path.Combine(root, "etc", "modules.load"), names);
        await File.WriteAllTextAsync(Path.Combine(root, "init"), init + "\n");
        File.SetUnixFileMode(Path.Combine(root, "init"), (UnixFileMode)0x1ED);
        // Sorted names, root ownership and no gzip timestamp: the same inputs give the same bytes.
        await ExternalTool.RunAsync("sh", "-c", "cd \"$1\" && find . | sort | cpio -o -H newc --owner=0:0 --quiet | gzip -1 -n > \"$2\"", "sh", root, output);
    }
}
