using EdgeForge.Build.Pipeline;
using EdgeForge.Configuration.Planning;
using TrustedBootSettings = EdgeForge.Configuration.Arguments.TrustedBootSettings;
using EdgeForge.DiskFormats.Fat;
using EdgeForge.DiskFormats.IO;
using EdgeForge.DiskFormats.Iso9660;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Blobs;
using EdgeForge.Oci.Layers;
using EdgeForge.Oci.Model;
using EdgeForge.Oci.Registry;
using EdgeForge.Oci.Transports;
using EdgeForge.SquashFs;
using EdgeForge.TrustedBoot.Authenticode;
using EdgeForge.TrustedBoot.SecureBoot;
using EdgeForge.TrustedBoot.Uki;
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

    /// <summary>For a Trusted Boot ISO: what CanvOS's build-uki-iso adds to the ISO root besides the user's overlay.</summary>
    public TrustedBootIsoPayload? TrustedBootPayload { get; init; }
}

/// <summary>A signed unified kernel image as written, and the entry it was made for.</summary>
public sealed record UnifiedKernelImageFile(TrustedBootMedia.BootEntry Entry, string Path, long Length);

/// <summary>The signed unified kernel images (one per entry, one initrd) and systemd-boot as written, with where their parts came from (for the build's summary).</summary>
public sealed record UnifiedKernelImageFiles(IReadOnlyList<UnifiedKernelImageFile> Images, string BootLoader, string Kernel, string AssetsFrom);

/// <summary>
/// CanvOS <c>+build-uki-iso</c>'s overlay additions: <c>stylus-image.tar</c>, the stylus package image packed as luet
/// packs it under the stylus framework's name (<c>+stylus-image-pack</c>), and the <c>luet</c> binary of the
/// third-party image, at the ISO root.
/// </summary>
public sealed record TrustedBootIsoPayload(IImage StylusPackage, string StylusImageName, IFileTreeSource Luet);

/// <param name="Boot">How the medium boots, for the build's summary: the kernel, the root filesystem image, where the boot loaders came from.</param>
public sealed record InstallerIsoResult(
    string IsoPath,
    string ChecksumPath,
    long Length,
    string Sha256,
    string Boot,
    IReadOnlyList<string> ContentParts);

/// <summary>
/// Builds the installer ISO of EDGEFORGE.md §6 from the plan and the installer image, in one file under a temporary
/// name: one streamed pass over the image's layers writes <c>rootfs.squashfs</c> straight into the ISO at the offset its
/// layout fixes (the ISO's tail file) and captures kernel, initramfs and in-image boot loaders on the way; then the ESP is
/// made and the rest of the hybrid ISO written around the SquashFS, the whole hashed, and renamed when complete.
/// </summary>
public sealed class InstallerIsoBuilder(BuildPlan plan, InstallerIsoOptions options)
{
    public const string EspLabel = "EFI_LIVE";

    private sealed record BootAsset(string Name, string? LocalPath, string? ImagePath);

    private StepScope? _stage;

    public const string StylusImageArchive = "stylus-image.tar", LuetBinary = "luet";

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


        var boot = plan.Settings.TrustedBoot is { } trustedBoot
            ? await TrustedBootLayoutAsync(tree, locator, trustedBoot, work, cancellationToken).ConfigureAwait(false)
            : await StandardLayoutAsync(tree, locator, work, cancellationToken).ConfigureAwait(false);
        var writer = new Iso9660Writer(boot.Options);
        foreach (var file in boot.Files)
        {
            if (file.AfterTail)
            {
                writer.AddFileAfterTail(file.IsoPath, file.LocalPath);
            }
            else
            {
                writer.AddFile(file.IsoPath, file.LocalPath);
            }
        }

        writer.AddFileTree(IsoRootFiles(boot.Generated));
        foreach (var payloadFiles in boot.RootTrees)
        {
            writer.AddFileTree(payloadFiles);
        }

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

        var tail = boot.Tail is { } tailWriter ? writer.AddTailFile(tailWriter.IsoPath) : null;

        // Written under a temporary name and renamed only when complete (issue 6): an interrupted build never leaves
        // something that looks like an ISO. The checksum file follows the same rule, after the image.
        var partialIso = Path.Combine(Path.GetDirectoryName(isoPath)!, $".{Path.GetFileName(isoPath)}.{Environment.ProcessId}.partial");
        var partialChecksum = Path.Combine(Path.GetDirectoryName(checksumPath)!, $".{Path.GetFileName(checksumPath)}.{Environment.ProcessId}.partial");
        try
        {
            // One file from the first byte on: the tail (the SquashFS) is written straight into its extent, then the
            // ISO around it — no temporary copy of the root filesystem image ever exists. Direct I/O: the image goes
            // from one aligned window to the device, not through newly allocated page-cache pages (see DirectIoFileStream).
            await using var file = new DirectIoFileStream(partialIso, FileMode.Create);
            var tailOnDisk = Task.CompletedTask;
            if (tail is not null)
            {
                await using (var region = new OffsetStream(file, writer.TailOffset))
                {
                    tail.Length = await boot.Tail!.WriteAsync(region, cancellationToken).ConfigureAwait(false);
                }

                // The SquashFS is most of the image: its write-back to disk starts now and runs while the rest of the
                // ISO is written and read back for its checksum, so the final fsync has only those blocks left to wait for.
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                var handle = file.SafeFileHandle;
                tailOnDisk = Task.Run(() => RandomAccess.FlushToDisk(handle), CancellationToken.None);
            }

            var result = await StageAsync("iso", $"{boot.Title} {Path.GetFileName(isoPath)}", async stage =>
            {
                // The writer plans every extent first, so it reports bytes of a known total.
                var written = await writer.WriteAsync(file, stage, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                await tailOnDisk.ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                return written;
            }, written => $"{written.Length:N0} bytes").ConfigureAwait(false);
            await file.DisposeAsync().ConfigureAwait(false);

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
            return new InstallerIsoResult(isoPath, checksumPath, result.Length, sha256, boot.Summary(),
                plan.Inputs.ContentBundles.Count > 0 ? content.PartPaths.ToList() : []);
        }
        finally
        {
            File.Delete(partialIso);
            File.Delete(partialChecksum);
        }
    }

    /// <summary>Every file the boot side named was delivered whole by the pass over the layers (else the image is not what its file list said).</summary>
    private static void EnsureCaptured(IReadOnlyDictionary<string, string> captures, CapturingFileTreeSource source)
    {
        var missing = captures.Keys.Where(p => !source.Captured.Contains(p)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"the image's layers did not deliver {string.Join(", ", missing.Select(p => "/" + p))}");
        }
    }

    /// <summary>A local file for the ISO; <paramref name="AfterTail"/>: made while the tail is written, so placed after it.</summary>
    private sealed record BootFile(string IsoPath, string LocalPath, bool AfterTail = false);

    /// <summary>The ISO's last file, written before the rest (<see cref="Iso9660Writer.AddTailFile"/>); returns its length.</summary>
    private sealed record TailWriter(string IsoPath, Func<Stream, CancellationToken, Task<long>> WriteAsync);

    /// <summary>
    /// What the boot side of the medium contributes: the ISO's boot options, its boot files, its generated files, and
    /// the summary for the build's report (made once everything is written, as it names sizes).
    /// </summary>
    private sealed record BootLayout(IsoImageOptions Options, IReadOnlyList<BootFile> Files, InMemoryFileTreeSource Generated, Func<string> Summary)
    {
        /// <summary>What the ISO stage calls the medium.</summary>
        public string Title { get; init; } = "the hybrid ISO (BIOS + UEFI, CD + USB)";

        /// <summary>Further trees for the ISO root (the Trusted Boot payload).</summary>
        public IReadOnlyList<IFileTreeSource> RootTrees { get; init; } = [];

        /// <summary>The tail file, when the layout streams one (the standard installer's rootfs.squashfs).</summary>
        public TailWriter? Tail { get; init; }
    }

    /// <summary>
    /// The standard installer (§6): GRUB on BIOS and UEFI, the image's kernel and initramfs, and the root filesystem as
    /// <c>rootfs.squashfs</c>, which the initramfs mounts.
    /// </summary>
    private async Task<BootLayout> StandardLayoutAsync(ImageFileTree tree, BootFileLocator locator, string work, CancellationToken cancellationToken)
    {
        // Everything is located from metadata before any data moves, so a missing file fails in seconds, not after the SquashFS.
        var kernel = locator.Kernel(out var kernelVersion)
            ?? throw new InstallerInputException("the installer image has no kernel: searched /boot/kernel, /boot/vmlinuz and /boot/vmlinuz-* (the base image must contain one, EDGEFORGE.md §8)");
        var initrd = locator.Initrd(kernelVersion)
            ?? throw new InstallerInputException($"the installer image has no initramfs: searched /boot/initrd*, /boot/initramfs*{(kernelVersion is null ? "" : $" (for kernel {kernelVersion})")}");
        var boot = BootArchitecture.For(plan.Settings.Arch);
        var (assets, assetsFrom) = await LocateBootAssetsAsync(locator, boot, work, cancellationToken).ConfigureAwait(false);

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
        var compression = plan.Iso.RootfsCompression;
        var source = new CapturingFileTreeSource(tree, captures);
        SquashFsWriteResult? squashfs = null;
        string LocalOf(BootAsset asset) => asset.LocalPath ?? captures[asset.ImagePath!];
        var loaderAsset = assets.Single(a => a.Name == boot.EfiLoaderPath);
        var espPath = Path.Combine(work, "uefi.img");

        // Written in one pass over the layers, then the ESP from the loaders captured on the way; returns the SquashFS's length.
        async Task<long> WriteRootAsync(Stream output, CancellationToken token)
        {
            squashfs = await StageAsync("squashfs", $"rootfs.squashfs ({compression}) from {tree.Entries.Count} entries; /{kernel.Path} → /boot/kernel, /{initrd.Path} → /boot/initrd",
                stage => SquashFsWriter.WriteAsync(source, output, new SquashFsOptions
                {
                    Compressor = compression.Compressor == ConfigCompressor.Gzip ? SquashFsCompressor.Gzip : SquashFsCompressor.Zstd,
                    CompressionLevel = compression.Level,
                    ModificationTime = options.SourceDateEpoch,
                }, progress: stage, token), result => $"{result.ContentBytes:N0} bytes of file data in, {result.ImageSize:N0} bytes out").ConfigureAwait(false);
            EnsureCaptured(captures, source);

            var bootEfi = LocalOf(loaderAsset);
            var grubEfi = assets.SingleOrDefault(a => a.Name == boot.GrubLoaderPath) is { } grub ? LocalOf(grub) : bootEfi;

            // The ESP (§6: FAT, label EFI_LIVE): the loader UEFI firmware starts by its fallback name, GRUB next to it for a
            // shim to chain to, and the stub that finds the ISO 9660 tree.
            await StageAsync("esp", $"the EFI system partition ({EspLabel})", async _ =>
            {
                var fat = new FatImageWriter(new FatImageOptions { Label = EspLabel, Timestamp = options.SourceDateEpoch });
                fat.AddFile(boot.EfiLoaderPath, bootEfi);
                fat.AddFile(boot.GrubLoaderPath, grubEfi);
                fat.AddFile("EFI/BOOT/grub.cfg", System.Text.Encoding.ASCII.GetBytes(GrubMenu.StubConfig));
                await using var esp = new FileStream(espPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                await fat.WriteAsync(esp, token).ConfigureAwait(false);
                return esp.Length;
            }, length => $"{length:N0} bytes").ConfigureAwait(false);
            return squashfs.ImageSize;
        }

        // Boot files come from the pass over the layers (or the boot assets directory): after the SquashFS in the ISO.
        List<BootFile> files =
            [new("boot/kernel", captures[kernel.Path], AfterTail: true), new("boot/initrd", captures[initrd.Path], AfterTail: true), new("boot/uefi.img", espPath, AfterTail: true)];
        TailWriter? tail = new("rootfs.squashfs", WriteRootAsync);
        if (SquashFsSizeBound.Maximum(tree.Entries) > Iso9660Writer.MaxExtentLength)
        {
            // Past one extent the SquashFS's directory records depend on its length, which must then be known before the
            // ISO is laid out: written to a temporary file first (a root filesystem of more than ~4 GB, rare for an installer).
            var squashfsPath = Path.Combine(work, "rootfs.squashfs");
            await using (var output = new FileStream(squashfsPath, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 64 << 10))
            {
                await WriteRootAsync(output, cancellationToken).ConfigureAwait(false);
            }

            files.Add(new BootFile("rootfs.squashfs", squashfsPath));
            tail = null;
        }

        string Summary() => $"kernel /{kernel.Path}, initrd /{initrd.Path}, rootfs.squashfs {squashfs!.ImageSize:N0} bytes, boot assets from {assetsFrom}";
        if (!boot.HasBios)
        {
            // arm64 has no BIOS: no El Torito BIOS entry, no eltorito.img, no hybrid MBR code.
            return new BootLayout(UefiOnlyIsoOptions(espPath), files, StandardGeneratedFiles(boot),
                () => $"{Summary()}; UEFI only, {boot.EfiLoaderPath} from {(loaderAsset.ImagePath is { } inImage ? "/" + inImage : loaderAsset.LocalPath)}")
            {
                Title = $"the {boot.Arch} ISO (UEFI, CD + USB)",
                Tail = tail,
            };
        }

        var eltorito = LocalOf(assets.Single(a => a.Name == "eltorito.img"));
        var bootHybrid = LocalOf(assets.Single(a => a.Name == "boot_hybrid.img"));
        var isoOptions = new IsoImageOptions
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
                // Read when the system area is written: it may be captured from the image during the SquashFS pass.
                MbrBootCodePath = bootHybrid,
                PartitionOffset = 16,
                ForceBootable = true,
                AppendedPartitions = [new AppendedPartition(2, 0xEF, espPath)],
            },
        };
        return new BootLayout(isoOptions, [new BootFile("boot/eltorito.img", eltorito, AfterTail: true), .. files], StandardGeneratedFiles(boot), Summary) { Tail = tail };
    }

    /// <summary>
    /// The signed unified kernel images of a root filesystem, as AuroraBoot's build-uki makes them for CanvOS's Trusted
    /// Boot ISO and for each Trusted Boot provider image: one per entry of <paramref name="entries"/>, each the image's
    /// kernel as <c>.linux</c>, the root filesystem without <c>/boot</c> as the zstd cpio <c>.initrd</c> (written once,
    /// shared by all), the entry's command line, its os-release and kernel version, on systemd-stub; written with
    /// systemd-boot into <paramref name="work"/>, all signed with the db key.
    /// <paramref name="what"/> names the image in messages ("installer", "provider").
    /// </summary>
    public async Task<UnifiedKernelImageFiles> UnifiedKernelImageAsync(IImage image, TrustedBootSettings settings, IReadOnlyList<TrustedBootMedia.BootEntry> entries,
        SecureBootKeySet keys, string what, string work, CancellationToken cancellationToken)
    {
        var tree = await ImageFileTree.LoadAsync(image, cancellationToken).ConfigureAwait(false);
        return await UnifiedKernelImageAsync(tree, new BootFileLocator(tree.Entries), settings, entries, keys, what, work, cancellationToken).ConfigureAwait(false);
    }

    private async Task<UnifiedKernelImageFiles> UnifiedKernelImageAsync(ImageFileTree tree, BootFileLocator locator, TrustedBootSettings settings,
        IReadOnlyList<TrustedBootMedia.BootEntry> entries, SecureBootKeySet keys, string what, string work, CancellationToken cancellationToken)
    {
        var kernel = locator.Kernel(out var kernelVersion)
            ?? throw new InstallerInputException($"the {what} image has no kernel: searched /boot/kernel, /boot/vmlinuz and /boot/vmlinuz-* (the unified kernel image's .linux section is made from it)");
        var osRelease = locator.Resolve("etc/os-release") ?? locator.Resolve("usr/lib/os-release")
            ?? throw new InstallerInputException($"the {what} image has no /etc/os-release or /usr/lib/os-release: the unified kernel image's .osrel section, which systemd-boot's menu reads, is made from it");
        var (assets, assetsFrom) = await LocateTrustedBootAssetsAsync(locator, $"the {what} image", work, cancellationToken).ConfigureAwait(false);
        var captures = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [kernel.Path] = Path.Combine(work, "kernel"),
            [osRelease.Path] = Path.Combine(work, "os-release"),
        };
        foreach (var asset in assets.Where(a => a.ImagePath is not null))
        {
            captures[asset.ImagePath!] = Path.Combine(work, "asset-" + asset.Name);
        }

        var source = new CapturingFileTreeSource(tree, captures);
        var initrdPath = Path.Combine(work, "initrd.zst");
        await StageAsync("initrd", $"the unified kernel image's initrd: the {what} root filesystem ({tree.Entries.Count} entries, without /boot) as zstd-compressed cpio",
            _ => TrustedBootMedia.WriteInitrdAsync(TrustedBootMedia.InitrdTree(source, options.SourceDateEpoch), initrdPath, cancellationToken),
            r => $"{r.Entries:N0} entries, {r.Archive:N0} bytes of cpio, {r.Compressed:N0} bytes compressed").ConfigureAwait(false);
        EnsureCaptured(captures, source);

        string LocalOf(string name) => assets.Single(a => a.Name == name) is var asset && asset.LocalPath is { } local ? local : captures[asset.ImagePath!];
        var loaderPath = Path.Combine(work, "BOOTX64.EFI");
        var names = string.Join(", ", entries.Select(e => e.Name + ".efi"));
        var images = await StageAsync("uki", $"the unified kernel image{(entries.Count > 1 ? "s" : "")} {names} and systemd-boot, signed by {keys.DbCertificate.Subject}", async _ =>
        {
            var osReleaseText = await File.ReadAllTextAsync(captures[osRelease.Path], cancellationToken).ConfigureAwait(false);
            var written = new List<UnifiedKernelImageFile>();
            // One initrd, one image per command line: the command line is a signed section, so it cannot be shared.
            foreach (var entry in entries)
            {
                var path = Path.Combine(work, entry.Name + ".efi");
                var contents = new UkiContents(captures[kernel.Path], initrdPath, entry.CommandLine, osReleaseText, kernelVersion ?? "");
                await UkiImage.WriteAsync(LocalOf(TrustedBootMedia.StubAssetName), contents, path, keys.DbCertificate, cancellationToken).ConfigureAwait(false);
                written.Add(new UnifiedKernelImageFile(entry, path, new FileInfo(path).Length));
            }

            await AuthenticodeSigner.SignAsync(LocalOf(TrustedBootMedia.BootLoaderAssetName), loaderPath, keys.DbCertificate, cancellationToken).ConfigureAwait(false);
            return written;
        }, written => string.Join("; ", written.Select(w => $"{w.Entry.Name}.efi {w.Length:N0} bytes, command line: {w.Entry.CommandLine}"))).ConfigureAwait(false);
        File.Delete(initrdPath);
        if (images.FirstOrDefault(i => i.Length > (long)settings.EfiMaxSizeMiB << 20) is { } large)
        {
            throw new InstallerInputException($"the unified kernel image {large.Entry.Name}.efi is {large.Length / (1 << 20):N0} MiB, more than EFI_MAX_SIZE={settings.EfiMaxSizeMiB} MiB " +
                $"(the largest file the target firmware was checked to load): make the {what} image smaller or raise EFI_MAX_SIZE after checking the firmware");
        }

        return new UnifiedKernelImageFiles(images, loaderPath, "/" + kernel.Path, assetsFrom);
    }

    /// <summary>
    /// The Trusted Boot installer (CanvOS <c>+build-uki-iso</c>): UEFI only, systemd-boot and one unified kernel image
    /// whose initrd is the whole installer root filesystem, both signed with the project's db key, on an EFI system
    /// partition that also carries the key set for enrolment. The ISO tree keeps what the installer reads from the
    /// medium (user data, content, cluster definition, the ISO overlay).
    /// </summary>
    private async Task<BootLayout> TrustedBootLayoutAsync(ImageFileTree tree, BootFileLocator locator, TrustedBootSettings settings, string work, CancellationToken cancellationToken)
    {
        // Checked by the plan (validate reports a missing or mismatched key set); loaded here for the db signing key.
        using var keys = SecureBootKeySet.Load(Path.Combine(plan.ProjectDirectory, TrustedBootSettings.KeysDirectory));
        var entries = TrustedBootMedia.InstallerEntries(settings, plan.Settings.ForceInteractiveInstall);
        var image = await UnifiedKernelImageAsync(tree, locator, settings, entries, keys, "installer", work, cancellationToken).ConfigureAwait(false);

        var espPath = Path.Combine(work, "efiboot.img");
        var espLength = await StageAsync("esp", $"the EFI system partition ({TrustedBootMedia.EspLabel}): systemd-boot, the image, loader entries, keys for enrolment" +
                                                (settings.AutoEnrollKeys ? " (enrolled automatically in Setup Mode)" : ""),
            _ => TrustedBootMedia.WriteEspAsync(espPath, image, TrustedBootMedia.LoaderConfiguration(settings, entries), EnrolmentFiles(keys), options.SourceDateEpoch, cancellationToken),
            length => $"{length:N0} bytes").ConfigureAwait(false);
        if (espLength > (long)settings.EfiImageSizeMiB << 20)
        {
            throw new InstallerInputException($"the EFI system partition is {espLength / (1 << 20):N0} MiB, more than EFI_IMG_SIZE={settings.EfiImageSizeMiB} MiB: " +
                "make the installer image smaller or raise EFI_IMG_SIZE");
        }

        var generated = new InMemoryFileTreeSource();
        if (plan.Inputs.UserData is { } userData)
        {
            generated.AddFile("config.yaml", File.ReadAllBytes(userData.Path), modificationTime: options.SourceDateEpoch);
        }

        var payload = options.TrustedBootPayload ?? throw new InvalidOperationException("a Trusted Boot ISO needs InstallerIsoOptions.TrustedBootPayload");
        var packed = Path.Combine(work, "payload");
        Directory.CreateDirectory(packed);
        await StageAsync("stylus-image", $"stylus-image.tar: the stylus package image packed as {payload.StylusImageName} (luet util pack)", async _ =>
            await EdgeForge.Luet.LuetImagePack.WriteAsync(await ImageFileTree.LoadAsync(payload.StylusPackage, cancellationToken).ConfigureAwait(false),
                payload.StylusImageName, "linux", plan.Settings.Arch, Path.Combine(packed, StylusImageArchive), options.SourceDateEpoch, cancellationToken).ConfigureAwait(false),
            length => $"{length:N0} bytes").ConfigureAwait(false);

        // UEFI only, as AuroraBoot's UKI ISO: a unified kernel image is an EFI program.
        // Made now: the key set is disposed when this method returns.
        var summary =
            $"Trusted Boot: {string.Join(", ", image.Images.Select(i => $"{i.Entry.Name}.efi {i.Length:N0} bytes"))} (kernel {image.Kernel}, initrd: the installer root filesystem), " +
            $"systemd-boot and stub from {image.AssetsFrom}, signed by {keys.DbCertificate.Subject}; keys {(settings.AutoEnrollKeys ? "enrolled automatically in Setup Mode" : "offered for enrolment")}";
        return new BootLayout(UefiOnlyIsoOptions(espPath), [], generated, () => summary)
        {
            Title = "the Trusted Boot ISO (UEFI, CD + USB)",
            RootTrees = [new DirectoryFileTreeSource(packed, readExtendedAttributes: false), payload.Luet],
        };
    }

    /// <summary>
    /// A UEFI-only medium (the Trusted Boot ISO, the arm64 ISO): one El Torito entry, platform 0xEF, no emulation, for
    /// the ESP, and the same ESP as GPT partition 2 behind a protective MBR with no boot code, so the image written to a
    /// USB stick or disk boots too.
    /// </summary>
    private IsoImageOptions UefiOnlyIsoOptions(string espPath) => new()
    {
        VolumeId = plan.Iso.VolumeId,
        Timestamp = options.SourceDateEpoch,
        ComputeSha256 = true,
        ElTorito = new ElToritoOptions
        {
            CatalogPath = "boot/boot.catalog",
            HideCatalog = true,
            Entries = [new ElToritoBootEntry { Platform = ElToritoPlatform.Efi, AppendedPartition = 2 }],
        },
        Partitions = new HybridPartitionOptions
        {
            PartitionOffset = 16,
            ForceBootable = false,
            AppendedPartitions = [new AppendedPartition(2, 0xEF, espPath)],
        },
    };

    /// <summary>The updates systemd-boot enrols from loader/keys/auto: PK, KEK, db, and dbx when the set has one (systemd-boot 253+ reads it).</summary>
    public static Dictionary<string, string> EnrolmentFiles(SecureBootKeySet keys)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal) { ["PK.auth"] = keys.PkAuthPath, ["KEK.auth"] = keys.KekAuthPath, ["db.auth"] = keys.DbAuthPath };
        if (keys.DbxAuthPath is { } dbx)
        {
            files["dbx.auth"] = dbx;
        }

        return files;
    }

    /// <summary>
    /// systemd-boot and systemd-stub for a Trusted Boot installer: from <c>--boot-assets</c>/<c>BOOT_ASSETS</c> (a
    /// directory or an image holding <c>systemd-bootx64.efi</c> and <c>linuxx64.efi.stub</c> at its root or at the
    /// package's path), else from the installer image's <c>systemd-boot-efi</c> files.
    /// </summary>
    private Task<(IReadOnlyList<BootAsset> Assets, string From)> LocateTrustedBootAssetsAsync(BootFileLocator image, string imageName, string work, CancellationToken cancellationToken) =>
        LocateAssetsAsync(image, imageName, FindTrustedBootAssets, FindTrustedBootAssets, directory =>
            FindTrustedBootAssets(new BootFileLocator(new DirectoryFileTreeSource(directory, readExtendedAttributes: false).Entries), $"boot assets directory {directory}")
                .Select(a => a with { LocalPath = Path.Combine(directory, a.ImagePath!), ImagePath = null }).ToList(), work, cancellationToken);

    private static List<BootAsset> FindTrustedBootAssets(BootFileLocator files, string where)
    {
        var loader = files.Resolve(TrustedBootMedia.BootLoaderAssetName) ?? files.First(TrustedBootMedia.BootLoaderPaths);
        var stub = files.Resolve(TrustedBootMedia.StubAssetName) ?? files.First(TrustedBootMedia.StubPaths);
        var problems = new List<string>();
        if (loader is null)
        {
            problems.Add($"systemd-boot (searched /{TrustedBootMedia.BootLoaderAssetName}, {Listing(TrustedBootMedia.BootLoaderPaths)})");
        }

        if (stub is null)
        {
            problems.Add($"systemd-stub (searched /{TrustedBootMedia.StubAssetName}, {Listing(TrustedBootMedia.StubPaths)})");
        }

        if (problems.Count > 0)
        {
            throw new InstallerInputException($"{where} lacks the Trusted Boot loaders: {string.Join("; ", problems)} — install systemd-boot-efi in the base image, " +
                $"or set BOOT_ASSETS (or --boot-assets) to a directory or image holding {TrustedBootMedia.BootLoaderAssetName} and {TrustedBootMedia.StubAssetName}");
        }

        return [new(TrustedBootMedia.BootLoaderAssetName, null, loader!.Path), new(TrustedBootMedia.StubAssetName, null, stub!.Path)];
    }

    /// <summary>ISO paths the build writes itself; an ISO overlay file at one of them is left out (ours are what boots).</summary>
    private static readonly HashSet<string> BuildOwnedPaths = new(StringComparer.Ordinal)
    {
        "boot/eltorito.img", "boot/kernel", "boot/initrd", "boot/uefi.img", "boot/boot.catalog", "rootfs.squashfs", ".edge_custom_config.yaml",
        "opt/spectrocloud/clusterconfig/spc.tgz", StylusImageArchive, LuetBinary,
    };

    /// <summary>The ISO overlay (<c>overlay/files-iso/</c>) with the generated files over it.</summary>
    private IFileTreeSource IsoRootFiles(InMemoryFileTreeSource generated)
    {
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
    private string BootMenu(BootArchitecture boot)
    {
        var template = options.IsoOverlayDirectory is { } overlay ? Path.Combine(overlay, "boot", "grub2", "grub.cfg") : null;
        var menu = template is not null && File.Exists(template)
            ? GrubMenu.FromTemplate(File.ReadAllText(template), plan.Iso.DefaultBootEntry, options.ExtraKernelArguments)
            : GrubMenu.Render(plan.Iso.DefaultBootEntry, plan.Settings.DisableSelinux, plan.Iso.VolumeId, options.ExtraKernelArguments, boot);
        return options.Debug ? GrubMenu.WithDebugArguments(menu) : menu;
    }

    /// <summary>The small files the standard installer generates or copies verbatim: menus, stubs and the user data (§6).</summary>
    private InMemoryFileTreeSource StandardGeneratedFiles(BootArchitecture boot)
    {
        var time = options.SourceDateEpoch;
        var files = new InMemoryFileTreeSource()
            .AddFile("boot/grub2/grub.cfg", BootMenu(boot), modificationTime: time)
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
    private Task<(IReadOnlyList<BootAsset> Assets, string From)> LocateBootAssetsAsync(BootFileLocator image, BootArchitecture boot, string work, CancellationToken cancellationToken) =>
        LocateAssetsAsync(image, "installer image", (files, where) => FromImage(files, where, boot), (files, where) => FindStandardAssets(files, where, boot),
            directory => StandardAssetsInDirectory(directory, boot), work, cancellationToken);

    /// <summary>What a boot assets directory or image must hold for <paramref name="boot"/>, for messages.</summary>
    private static string RequiredAssets(BootArchitecture boot) => boot.HasBios
        ? $"eltorito.img, boot_hybrid.img and {boot.EfiLoaderPath}"
        : $"{boot.EfiLoaderPath} ({boot.Arch} boots by UEFI only)";

    /// <summary>
    /// Where the boot assets come from — the one reading of <c>--boot-assets</c>/<c>BOOT_ASSETS</c> both installers
    /// share: unset, the installer image; an existing directory; a path that does not exist (an error); else an image
    /// reference. Each installer says what it needs from each.
    /// </summary>
    private async Task<(IReadOnlyList<BootAsset> Assets, string From)> LocateAssetsAsync(BootFileLocator image, string imageLabel,
        Func<BootFileLocator, string, List<BootAsset>> findInInstaller, Func<BootFileLocator, string, List<BootAsset>> findInAssetImage,
        Func<string, List<BootAsset>> findInDirectory, string work, CancellationToken cancellationToken)
    {
        var setting = options.BootAssets ?? plan.Settings.BootAssets;
        if (setting is null)
        {
            return (findInInstaller(image, "the installer image"), imageLabel);
        }

        var directory = Path.GetFullPath(Path.Combine(plan.ProjectDirectory, setting));
        if (Directory.Exists(directory))
        {
            return (findInDirectory(directory), directory);
        }

        if (setting.StartsWith('/') || setting.StartsWith('.'))
        {
            throw new InstallerInputException($"boot assets directory {directory} does not exist");
        }

        return (await FromAssetImageAsync(setting, work, findInAssetImage, cancellationToken).ConfigureAwait(false), setting);
    }

    /// <summary>A boot assets directory for the standard installer: GRUB's files at fixed names, each required one reported when missing.</summary>
    private static List<BootAsset> StandardAssetsInDirectory(string directory, BootArchitecture boot)
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

        var assets = boot.HasBios
            ? new List<BootAsset> { new("eltorito.img", Local("eltorito.img", true), null), new("boot_hybrid.img", Local("boot_hybrid.img", true), null) }
            : [];
        assets.Add(new BootAsset(boot.EfiLoaderPath, Local(boot.EfiLoaderPath, true), null));
        if (Local(boot.GrubLoaderPath, false) is { } grub)
        {
            assets.Add(new BootAsset(boot.GrubLoaderPath, grub, null));
        }

        if (missing.Count > 0)
        {
            throw new InstallerInputException($"boot assets directory {directory} lacks {string.Join(", ", missing)} " +
                $"(it needs {RequiredAssets(boot)}, plus {boot.GrubLoaderPath} when {boot.EfiLoaderName} is shim)");
        }

        return assets;
    }

    /// <summary>A boot assets image's GRUB files: at the directory layout's names at its root, else at the Kairos paths.</summary>
    private static List<BootAsset> FindStandardAssets(BootFileLocator locator, string where, BootArchitecture boot)
    {
        if (locator.Resolve(boot.EfiLoaderPath) is { } b)
        {
            var e = boot.HasBios ? locator.Resolve("eltorito.img") : null;
            var h = boot.HasBios ? locator.Resolve("boot_hybrid.img") : null;
            if (!boot.HasBios || e is not null && h is not null)
            {
                List<BootAsset> found = boot.HasBios ? [new("eltorito.img", null, e!.Path), new("boot_hybrid.img", null, h!.Path)] : [];
                found.Add(new BootAsset(boot.EfiLoaderPath, null, b.Path));
                if (locator.Resolve(boot.GrubLoaderPath) is { } g)
                {
                    found.Add(new BootAsset(boot.GrubLoaderPath, null, g.Path));
                }

                return found;
            }
        }

        var atRoot = boot.HasBios ? $"/eltorito.img, /boot_hybrid.img and /{boot.EfiLoaderPath}" : "/" + boot.EfiLoaderPath;
        return FromImage(locator, $"{where} (neither {atRoot} at its root, nor)", boot);
    }

    private static List<BootAsset> FromImage(BootFileLocator image, string where, BootArchitecture boot)
    {
        var shim = image.First(boot.ShimPaths);
        var grub = image.First(boot.GrubEfiPaths);
        var eltorito = boot.HasBios ? image.First(BootFileLocator.EltoritoPaths) : null;
        var hybrid = boot.HasBios ? image.First(BootFileLocator.BootHybridPaths) : null;
        var problems = new List<string>();
        if (boot.HasBios && eltorito is null)
        {
            problems.Add($"eltorito.img (searched {Listing(BootFileLocator.EltoritoPaths)})");
        }

        if (boot.HasBios && hybrid is null)
        {
            problems.Add($"boot_hybrid.img (searched {Listing(BootFileLocator.BootHybridPaths)})");
        }

        if (grub is null)
        {
            problems.Add($"the {(boot.HasBios ? "" : boot.Arch + " ")}GRUB EFI loader (searched {Listing(boot.GrubEfiPaths)}; shims looked for: {Listing(boot.ShimPaths)})");
        }

        if (problems.Count > 0)
        {
            throw new InstallerInputException($"{where} lacks boot assets: {string.Join("; ", problems)} — " +
                $"set BOOT_ASSETS (or --boot-assets) to a directory or image holding {RequiredAssets(boot)}");
        }

        var assets = boot.HasBios
            ? new List<BootAsset> { new("eltorito.img", null, eltorito!.Path), new("boot_hybrid.img", null, hybrid!.Path) }
            : [];
        assets.Add(new BootAsset(boot.EfiLoaderPath, null, (shim ?? grub)!.Path));
        if (shim is not null)
        {
            assets.Add(new BootAsset(boot.GrubLoaderPath, null, grub!.Path));
        }

        return assets;
    }

    /// <summary>A boot assets image: its files at the directory layout's names, else at the Kairos paths; read in one pass.</summary>
    private async Task<IReadOnlyList<BootAsset>> FromAssetImageAsync(string reference, string work, Func<BootFileLocator, string, List<BootAsset>> find,
        CancellationToken cancellationToken)
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
        var found = find(new BootFileLocator(tree.Entries), $"boot assets image {reference}");

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
