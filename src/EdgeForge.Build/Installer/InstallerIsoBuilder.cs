using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using EdgeForge.DiskFormats.Fat;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;
using EdgeForge.SquashFs;
using ConfigCompressor = EdgeForge.Configuration.Arguments.SquashFsCompressor;

namespace EdgeForge.Build.Installer;

public sealed record InstallerIsoOptions
{
    /// <summary>Boot assets overriding <c>BOOT_ASSETS</c>: a directory (relative to the project) or an image reference.</summary>
    public string? BootAssets { get; init; }

    /// <summary>Appended to every boot menu entry's kernel command line (issue 6: "extra kernel arguments appendable").</summary>
    public string ExtraKernelArguments { get; init; } = "";

    /// <summary>
    /// The project's <c>overlay/files-iso/</c> (CanvOS build-iso: <c>--overlay-iso</c>), copied to the ISO root; its
    /// <c>boot/grub2/grub.cfg</c>, when present, is the menu template instead of ours.
    /// </summary>
    public string? IsoOverlayDirectory { get; init; }

    /// <summary><c>DEBUG=true</c>: CanvOS's debug kernel arguments on the installer entries.</summary>
    public bool Debug { get; init; }

    /// <summary>Content bundle part size; §6 fixes it at 3 GB, tests choose smaller parts to exercise the splitting quickly.</summary>
    public long ContentPartSize { get; init; } = ContentBundleParts.DefaultPartSize;

    /// <summary>Timestamps of generated files and ISO descriptors (<c>SOURCE_DATE_EPOCH</c>).</summary>
    public long SourceDateEpoch { get; init; } = EdgeForge.DiskFormats.IO.SourceDateEpoch.FromEnvironment();

    /// <summary>For a <c>BOOT_ASSETS</c> image reference.</summary>
    public RegistryClient? Registry { get; init; }

    public BlobCache? Blobs { get; init; }

    /// <summary>
    /// Receives the ISO's stages as steps of their own — <c>STEP/squashfs</c>, <c>STEP/esp</c>, <c>STEP/iso</c>,
    /// <c>STEP/checksum</c> with <c>STEP</c> = <see cref="StepName"/> — with byte progress for the SquashFS and the ISO.
    /// </summary>
    public IBuildObserver Observer { get; init; } = NullBuildObserver.Instance;

    /// <summary>The step this build runs in: messages outside a stage are its own, and it prefixes the stages' names.</summary>
    public string StepName { get; init; } = "installer-iso";
}

public sealed record InstallerIsoResult(
    string IsoPath,
    string ChecksumPath,
    long Length,
    string Sha256,
    long RootfsSquashFsSize,
    string Kernel,
    string Initrd,
    string BootAssetsFrom,
    IReadOnlyList<string> ContentParts);

/// <summary>
/// Builds the installer ISO of EDGEFORGE.md §6 from the plan and the installer image: one streamed pass over the image's
/// layers writes <c>rootfs.squashfs</c> (to a temporary file in the build directory — the writer of the ISO needs every
/// size before its first byte) and captures kernel, initramfs and in-image boot loaders on the way; then the ESP and the
/// hybrid ISO are written in one forward pass under a temporary name, hashed while written, and renamed when complete.
/// </summary>
public sealed class InstallerIsoBuilder(BuildPlan plan, InstallerIsoOptions options)
{
    public const string EspLabel = "EFI_LIVE";

    private sealed record BootAsset(string Name, string? LocalPath, string? ImagePath);

    private StepScope? _stage;

    private void Log(string message) => StepScope.Message(options.Observer, _stage, options.StepName, message);

    /// <summary>Runs one stage of the ISO as a step of its own (started, progress, finished or failed).</summary>
    private async Task<T> StageAsync<T>(string name, string title, Func<StepScope, Task<T>> work, Func<T, string?>? summary = null)
    {
        try
        {
            return await StepScope.RunAsync(options.Observer, $"{options.StepName}/{name}", title, stage =>
            {
                _stage = stage;
                return work(stage);
            }, summary).ConfigureAwait(false);
        }
        finally
        {
            _stage = null;
        }
    }

    public async Task<InstallerIsoResult> BuildAsync(IImage image, CancellationToken cancellationToken = default)
    {
        var isoPath = Path.GetFullPath(plan.Iso.Path);
        var checksumPath = Path.GetFullPath(plan.Iso.ChecksumPath);
        var buildDirectory = Path.GetDirectoryName(isoPath)!;
        Directory.CreateDirectory(buildDirectory);
        RemoveLeftovers(buildDirectory, Path.GetFileName(isoPath), Path.GetFileName(checksumPath));
        var work = Path.Combine(buildDirectory, $".iso-work.{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        try
        {
            return await BuildInAsync(image, work, isoPath, checksumPath, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task<InstallerIsoResult> BuildInAsync(IImage image, string work, string isoPath, string checksumPath, CancellationToken cancellationToken)
    {
        Log("installer: reading the image's file list");
        var tree = await ImageFileTree.LoadAsync(image, cancellationToken).ConfigureAwait(false);
        var locator = new BootFileLocator(tree.Entries);
        if (Composition.CanvosFiles.MissingInstallerPieces(tree.Entries) is { Count: > 0 } missingPieces)
        {
            throw new Composition.UpstreamContentException($"the installer image cannot install a host: it lacks {string.Join(", ", missingPieces)}; " +
                "the base image must be a Kairos image (kairos-init adds the agent; EDGEFORGE.md §8)");
        }


        // Everything is located from metadata before any data moves, so a missing file fails in seconds, not after the SquashFS.
        var kernel = locator.Kernel(out var kernelVersion)
            ?? throw new InstallerInputException("the installer image has no kernel: searched /boot/kernel, /boot/vmlinuz and /boot/vmlinuz-* (the base image must contain one, EDGEFORGE.md §8)");
        var initrd = locator.Initrd(kernelVersion)
            ?? throw new InstallerInputException($"the installer image has no initramfs: searched /boot/initrd*, /boot/initramfs*{(kernelVersion is null ? "" : $" (for kernel {kernelVersion})")}");
        var (assets, assetsFrom) = await LocateBootAssetsAsync(locator, work, cancellationToken).ConfigureAwait(false);

        var captures = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [kernel.Path] = Path.Combine(work, "kernel"),
            [initrd.Path] = Path.Combine(work, "initrd"),
        };
        foreach (var asset in assets.Where(a => a.ImagePath is not null))
        {
            captures[asset.ImagePath!] = Path.Combine(work, "asset-" + asset.Name.Replace('/', '_'));
        }

        // The SquashFS: the one allowed copy of the root filesystem (§6), compressed as SQUASHFS_COMPRESSION says.
        var squashfsPath = Path.Combine(work, "rootfs.squashfs");
        var compression = plan.Iso.RootfsCompression;
        var source = new CapturingFileTreeSource(tree, captures);
        var squashfs = await StageAsync("squashfs", $"rootfs.squashfs ({compression}) from {tree.Entries.Count} entries; /{kernel.Path} → /boot/kernel, /{initrd.Path} → /boot/initrd",
            async stage =>
            {
                await using var output = new FileStream(squashfsPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
                return await SquashFsWriter.WriteAsync(source, output, new SquashFsOptions
                {
                    Compressor = compression.Compressor == ConfigCompressor.Gzip ? SquashFsCompressor.Gzip : SquashFsCompressor.Zstd,
                    CompressionLevel = compression.Level,
                    ModificationTime = options.SourceDateEpoch,
                }, progress: stage, cancellationToken).ConfigureAwait(false);
            }, result => $"{result.ContentBytes:N0} bytes of file data in, {result.ImageSize:N0} bytes out").ConfigureAwait(false);

        var missing = captures.Keys.Where(p => !source.Captured.Contains(p)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"the image's layers did not deliver {string.Join(", ", missing.Select(p => "/" + p))}");
        }

        string LocalOf(BootAsset asset) => asset.LocalPath ?? captures[asset.ImagePath!];
        var eltorito = LocalOf(assets.Single(a => a.Name == "eltorito.img"));
        var bootHybrid = LocalOf(assets.Single(a => a.Name == "boot_hybrid.img"));
        var bootEfi = LocalOf(assets.Single(a => a.Name == "EFI/BOOT/bootx64.efi"));
        var grubEfi = assets.SingleOrDefault(a => a.Name == "EFI/BOOT/grubx64.efi") is { } grub ? LocalOf(grub) : bootEfi;

        // The ESP (§6: FAT, label EFI_LIVE): the loader UEFI firmware starts by its fallback name, GRUB next to it for a
        // shim to chain to, and the stub that finds the ISO 9660 tree.
        var espPath = Path.Combine(work, "uefi.img");
        await StageAsync("esp", $"the EFI system partition ({EspLabel})", async _ =>
        {
            var fat = new FatImageWriter(new FatImageOptions { Label = EspLabel, Timestamp = options.SourceDateEpoch });
            fat.AddFile("EFI/BOOT/bootx64.efi", bootEfi);
            fat.AddFile("EFI/BOOT/grubx64.efi", grubEfi);
            fat.AddFile("EFI/BOOT/grub.cfg", System.Text.Encoding.ASCII.GetBytes(GrubMenu.StubConfig));
            await using var esp = new FileStream(espPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            await fat.WriteAsync(esp, cancellationToken).ConfigureAwait(false);
            return esp.Length;
        }, length => $"{length:N0} bytes").ConfigureAwait(false);

        var writer = new Iso9660Writer(new IsoImageOptions
        {
            VolumeId = plan.Iso.VolumeId,
            Timestamp = options.SourceDateEpoch,
            ComputeSha256 = true,
            ElTorito = new ElToritoOptions
            {
                CatalogPath = "boot/boot.catalog",
                HideCatalog = true,
                Entries =
                [
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Bios, ImagePath = "boot/eltorito.img", BootInfoTable = true, Grub2BootInfo = true },
                    new ElToritoBootEntry { Platform = ElToritoPlatform.Efi, AppendedPartition = 2 },
                ],
            },
            Partitions = new HybridPartitionOptions
            {
                MbrBootCode = await File.ReadAllBytesAsync(bootHybrid, cancellationToken).ConfigureAwait(false),
                PartitionOffset = 16,
                ForceBootable = true,
                AppendedPartitions = [new AppendedPartition(2, 0xEF, espPath)],
            },
        });
        writer.AddFile("boot/eltorito.img", eltorito);
        writer.AddFile("boot/kernel", captures[kernel.Path]);
        writer.AddFile("boot/initrd", captures[initrd.Path]);
        writer.AddFile("boot/uefi.img", espPath);
        writer.AddFile("rootfs.squashfs", squashfsPath);
        writer.AddFileTree(IsoRootFiles());
        if (plan.Inputs.EdgeCustomConfig is { } signing)
        {
            writer.AddFile(".edge_custom_config.yaml", signing.Path);
        }

        if (plan.Inputs.ClusterConfig is { } cluster)
        {
            writer.AddFile("opt/spectrocloud/clusterconfig/spc.tgz", cluster.Path);
        }

        var content = new ContentBundleParts(plan.Inputs.ContentBundles, options.ContentPartSize, options.SourceDateEpoch);
        if (plan.Inputs.ContentBundles.Count > 0)
        {
            writer.AddFileTree(content);
        }

        // Written under a temporary name and renamed only when complete (issue 6): an interrupted build never leaves
        // something that looks like an ISO. The checksum file follows the same rule, after the image.
        var partialIso = Path.Combine(Path.GetDirectoryName(isoPath)!, $".{Path.GetFileName(isoPath)}.{Environment.ProcessId}.partial");
        var partialChecksum = Path.Combine(Path.GetDirectoryName(checksumPath)!, $".{Path.GetFileName(checksumPath)}.{Environment.ProcessId}.partial");
        try
        {
            var result = await StageAsync("iso", $"the hybrid ISO (BIOS + UEFI, CD + USB) {Path.GetFileName(isoPath)}", async stage =>
            {
                // The writer plans every extent first, so it reports bytes of a known total.
                await using var file = new FileStream(partialIso, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                var written = await writer.WriteAsync(file, stage, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                return written;
            }, written => $"{written.Length:N0} bytes").ConfigureAwait(false);

            var sha256 = result.Sha256 ?? throw new InvalidOperationException("the ISO writer computed no checksum");
            await StageAsync("checksum", $"sha256 → {Path.GetFileName(checksumPath)}, then both renamed into place", async _ =>
            {
                await File.WriteAllTextAsync(partialChecksum, $"{sha256}  {Path.GetFileName(isoPath)}\n", cancellationToken).ConfigureAwait(false);

                // A stale checksum must not describe the new image while it is being renamed into place.
                File.Delete(checksumPath);
                File.Move(partialIso, isoPath, overwrite: true);
                File.Move(partialChecksum, checksumPath, overwrite: true);
                return sha256;
            }, hash => "sha256 " + hash).ConfigureAwait(false);
            return new InstallerIsoResult(isoPath, checksumPath, result.Length, sha256, squashfs.ImageSize, "/" + kernel.Path, "/" + initrd.Path, assetsFrom,
                plan.Inputs.ContentBundles.Count > 0 ? content.PartPaths.ToList() : []);
        }
        finally
        {
            File.Delete(partialIso);
            File.Delete(partialChecksum);
        }
    }

    /// <summary>ISO paths the build writes itself; an ISO overlay file at one of them is left out (ours are what boots).</summary>
    private static readonly HashSet<string> BuildOwnedPaths = new(StringComparer.Ordinal)
    {
        "boot/eltorito.img", "boot/kernel", "boot/initrd", "boot/uefi.img", "boot/boot.catalog", "rootfs.squashfs", ".edge_custom_config.yaml",
        "opt/spectrocloud/clusterconfig/spc.tgz",
    };

    /// <summary>The ISO overlay (<c>overlay/files-iso/</c>) with the generated files over it.</summary>
    private IFileTreeSource IsoRootFiles()
    {
        var generated = GeneratedFiles();
        if (options.IsoOverlayDirectory is not { } overlay || !Directory.Exists(overlay))
        {
            return generated;
        }

        var taken = generated.Entries.Where(e => e.Kind != FileTreeEntryKind.Directory).Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        return Composition.MappedFileTree.Create(new DirectoryFileTreeSource(overlay, readExtendedAttributes: false), path =>
        {
            if (BuildOwnedPaths.Contains(path) || taken.Contains(path) || path.StartsWith("opt/spectrocloud/content/", StringComparison.Ordinal) && path.Contains("_part", StringComparison.Ordinal))
            {
                Log($"iso overlay: {path} is written by the build; the overlay's copy is not used");
                return null;
            }

            return path;
        }, generated, entry => entry with { Uid = 0, Gid = 0, ModificationTime = options.SourceDateEpoch });
    }

    /// <summary>The boot menu: the overlay's template (CanvOS sed: <c>{{DEFAULT_ENTRY}}</c>) when it has one, else ours.</summary>
    private string BootMenu()
    {
        var template = options.IsoOverlayDirectory is { } overlay ? Path.Combine(overlay, "boot", "grub2", "grub.cfg") : null;
        var menu = template is not null && File.Exists(template)
            ? GrubMenu.FromTemplate(File.ReadAllText(template), plan.Iso.DefaultBootEntry, options.ExtraKernelArguments)
            : GrubMenu.Render(plan.Iso.DefaultBootEntry, plan.Settings.DisableSelinux, plan.Iso.VolumeId, options.ExtraKernelArguments);
        return options.Debug ? GrubMenu.WithDebugArguments(menu) : menu;
    }

    /// <summary>The small files the build generates or copies verbatim: menus, stubs and the user data (§6).</summary>
    private InMemoryFileTreeSource GeneratedFiles()
    {
        var time = options.SourceDateEpoch;
        var files = new InMemoryFileTreeSource()
            .AddFile("boot/grub2/grub.cfg", BootMenu(), modificationTime: time)
            .AddFile("boot/grub/grub.cfg", GrubMenu.StubConfig, modificationTime: time)
            .AddFile("EFI/BOOT/grub.cfg", GrubMenu.StubConfig, modificationTime: time);
        if (plan.Inputs.UserData is { } userData)
        {
            // Validated by the plan; read once here (kilobytes) so both names hold the same bytes even if the file changes.
            var bytes = File.ReadAllBytes(userData.Path);
            files.AddFile("config.yaml", bytes, modificationTime: time);
            files.AddFile("files-iso/config.yaml", bytes, modificationTime: time);
        }

        return files;
    }

    /// <summary>
    /// The boot assets from <c>--boot-assets</c>/<c>BOOT_ASSETS</c> (a directory or an image) or, without either, from the
    /// installer image at the paths Kairos images use. A missing asset names every place searched.
    /// </summary>
    private async Task<(IReadOnlyList<BootAsset> Assets, string From)> LocateBootAssetsAsync(BootFileLocator image, string work, CancellationToken cancellationToken)
    {
        var setting = options.BootAssets ?? plan.Settings.BootAssets;
        if (setting is null)
        {
            return (FromImage(image, "the installer image"), "installer image");
        }

        var directory = Path.GetFullPath(Path.Combine(plan.ProjectDirectory, setting));
        if (Directory.Exists(directory))
        {
            var missing = new List<string>();
            string? Local(string name, bool required)
            {
                var path = Path.Combine(directory, name);
                if (File.Exists(path))
                {
                    return path;
                }

                if (required)
                {
                    missing.Add(path);
                }

                return null;
            }

            var assets = new List<BootAsset>
            {
                new("eltorito.img", Local("eltorito.img", true), null),
                new("boot_hybrid.img", Local("boot_hybrid.img", true), null),
                new("EFI/BOOT/bootx64.efi", Local("EFI/BOOT/bootx64.efi", true), null),
            };
            if (Local("EFI/BOOT/grubx64.efi", false) is { } grub)
            {
                assets.Add(new BootAsset("EFI/BOOT/grubx64.efi", grub, null));
            }

            if (missing.Count > 0)
            {
                throw new InstallerInputException($"boot assets directory {directory} lacks {string.Join(", ", missing)} " +
                    "(it needs eltorito.img, boot_hybrid.img and EFI/BOOT/bootx64.efi, plus EFI/BOOT/grubx64.efi when bootx64.efi is shim)");
            }

            return (assets, directory);
        }

        if (setting.StartsWith('/') || setting.StartsWith('.'))
        {
            throw new InstallerInputException($"boot assets directory {directory} does not exist");
        }

        return (await FromAssetImageAsync(setting, work, cancellationToken).ConfigureAwait(false), setting);
    }

    private static List<BootAsset> FromImage(BootFileLocator image, string where)
    {
        var shim = image.First(BootFileLocator.ShimPaths);
        var grub = image.First(BootFileLocator.GrubEfiPaths);
        var eltorito = image.First(BootFileLocator.EltoritoPaths);
        var hybrid = image.First(BootFileLocator.BootHybridPaths);
        var problems = new List<string>();
        if (eltorito is null)
        {
            problems.Add($"eltorito.img (searched {Listing(BootFileLocator.EltoritoPaths)})");
        }

        if (hybrid is null)
        {
            problems.Add($"boot_hybrid.img (searched {Listing(BootFileLocator.BootHybridPaths)})");
        }

        if (grub is null)
        {
            problems.Add($"the GRUB EFI loader (searched {Listing(BootFileLocator.GrubEfiPaths)}; shims looked for: {Listing(BootFileLocator.ShimPaths)})");
        }

        if (problems.Count > 0)
        {
            throw new InstallerInputException($"{where} lacks boot assets: {string.Join("; ", problems)} — " +
                "set BOOT_ASSETS (or --boot-assets) to a directory or image holding eltorito.img, boot_hybrid.img and EFI/BOOT/bootx64.efi");
        }

        var assets = new List<BootAsset>
        {
            new("eltorito.img", null, eltorito!.Path),
            new("boot_hybrid.img", null, hybrid!.Path),
            new("EFI/BOOT/bootx64.efi", null, (shim ?? grub)!.Path),
        };
        if (shim is not null)
        {
            assets.Add(new BootAsset("EFI/BOOT/grubx64.efi", null, grub!.Path));
        }

        return assets;
    }

    /// <summary>A boot assets image: its files at the directory layout's names, else at the Kairos paths; read in one pass.</summary>
    private async Task<IReadOnlyList<BootAsset>> FromAssetImageAsync(string reference, string work, CancellationToken cancellationToken)
    {
        if (options.Registry is null || options.Blobs is null)
        {
            throw new InvalidOperationException("a boot assets image needs InstallerIsoOptions.Registry and Blobs");
        }

        Log($"boot assets: pull {reference}");
        var location = ImageLocation.Parse(reference.Contains("://", StringComparison.Ordinal) || reference.StartsWith("oci:", StringComparison.Ordinal) ? reference : "docker://" + reference);
        var image = await SourceImage.LoadAsync(location.OpenSource(options.Registry, options.Blobs),
            new Platform { Os = "linux", Architecture = plan.Settings.Arch }, cancellationToken).ConfigureAwait(false);
        var tree = await ImageFileTree.LoadAsync(image, cancellationToken).ConfigureAwait(false);
        var locator = new BootFileLocator(tree.Entries);
        List<BootAsset> found;
        if (locator.Resolve("eltorito.img") is { } e && locator.Resolve("boot_hybrid.img") is { } h && locator.Resolve("EFI/BOOT/bootx64.efi") is { } b)
        {
            found = [new("eltorito.img", null, e.Path), new("boot_hybrid.img", null, h.Path), new("EFI/BOOT/bootx64.efi", null, b.Path)];
            if (locator.Resolve("EFI/BOOT/grubx64.efi") is { } g)
            {
                found.Add(new BootAsset("EFI/BOOT/grubx64.efi", null, g.Path));
            }
        }
        else
        {
            found = FromImage(locator, $"boot assets image {reference} (neither /eltorito.img, /boot_hybrid.img and /EFI/BOOT/bootx64.efi at its root, nor)");
        }

        var captures = found.ToDictionary(a => a.ImagePath!, a => Path.Combine(work, "bootimage-" + a.Name.Replace('/', '_')), StringComparer.Ordinal);
        var capturing = new CapturingFileTreeSource(tree, captures);
        await capturing.ReadContentsAsync((_, stream, token) => new ValueTask(stream.CopyToAsync(Stream.Null, token)), cancellationToken).ConfigureAwait(false);
        return found.Select(a => a with { LocalPath = captures[a.ImagePath!], ImagePath = null }).ToList();
    }

    /// <summary>
    /// A killed build leaves its temporary files (never a final name); the next build removes those of processes that
    /// no longer run, so they do not pile up in build/.
    /// </summary>
    private static void RemoveLeftovers(string buildDirectory, string isoName, string checksumName)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(buildDirectory, ".*"))
        {
            var name = Path.GetFileName(path);
            string? pid = null;
            if (name.StartsWith(".iso-work.", StringComparison.Ordinal))
            {
                pid = name[".iso-work.".Length..];
            }
            else
            {
                foreach (var final in new[] { isoName, checksumName })
                {
                    var prefix = "." + final + ".";
                    if (name.StartsWith(prefix, StringComparison.Ordinal) && name.EndsWith(".partial", StringComparison.Ordinal))
                    {
                        pid = name[prefix.Length..^".partial".Length];
                    }
                }
            }

            if (pid is null || !int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) ||
                id == Environment.ProcessId || Directory.Exists($"/proc/{id}"))
            {
                continue;
            }

            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
    }

    private static string Listing(IEnumerable<string> paths) => string.Join(", ", paths.Select(p => "/" + p));

}

/// <summary>The project or its image cannot make an installer ISO (no kernel, no boot assets…): the user's to fix.</summary>
public sealed class InstallerInputException(string message) : Exception(message);
