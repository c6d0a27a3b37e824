namespace EdgeForge.TrustedBoot.Uki;

/// <summary>
/// What a unified kernel image carries besides its stub (the systemd UKI specification's sections):
/// </summary>
/// <param name="KernelPath">The EFI-stub kernel (vmlinuz) for the .linux section, streamed from disk.</param>
/// <param name="InitrdPath">The initrd for .initrd, streamed from disk (it may be hundreds of MB).</param>
/// <param name="CommandLine">The kernel command line, .cmdline.</param>
/// <param name="OsRelease">The os-release text, .osrel.</param>
/// <param name="Uname">The kernel release (uname -r), .uname.</param>
/// <param name="ExtraSbat">
/// SBAT lines to add for the image as a whole (CSV, one component a line, an "sbat,…" header line is ignored);
/// null adds ukify's default "uki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/".
/// </param>
public sealed record UkiContents(string KernelPath, string InitrdPath, string CommandLine, string OsRelease, string Uname, string? ExtraSbat = null);
