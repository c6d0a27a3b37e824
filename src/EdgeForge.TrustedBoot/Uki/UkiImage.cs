using System.Security.Cryptography.X509Certificates;
using System.Text;
using EdgeForge.TrustedBoot.Authenticode;
using EdgeForge.TrustedBoot.Pe;

namespace EdgeForge.TrustedBoot.Uki;

/// <summary>
/// Writes unified kernel images: a systemd-stub PE with the kernel, initrd, command line, os-release, uname and
/// SBAT added as sections (the UAPI Unified Kernel Image specification), laid out as systemd's ukify lays them out,
/// optionally Authenticode-signed in the same pass. No objcopy, ukify or sbsign.
/// </summary>
public static class UkiImage
{
    /// <summary>shim and systemd-stub read a few lines of SBAT; more than this is not an SBAT section.</summary>
    private const uint MaximumSbatSize = 64 * 1024;

    private static readonly string[] UkiSectionNames = [".osrel", ".cmdline", ".uname", ".initrd", ".linux", ".dtb", ".splash", ".pcrsig", ".pcrpkey", ".ucode"];

    /// <summary>
    /// Writes <paramref name="outputPath"/> (whole or not at all: a temporary file in the same directory, renamed),
    /// signed with <paramref name="signer"/> when one is given. The kernel and initrd are streamed, never held in memory.
    /// </summary>
    /// <exception cref="PeFormatException">The stub or the kernel is not a PE image.</exception>
    /// <exception cref="UkiException">The inputs do not make a UKI (not an EFI application, machines differ, …).</exception>
    public static async Task WriteAsync(string stubPath, UkiContents contents, string outputPath, X509Certificate2? signer, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(contents);
        if (signer is not null)
        {
            AuthenticodeSigner.RequirePrivateKey(signer);
        }

        await using var stub = PeImageHeaders.OpenRead(stubPath);
        var stubHeaders = await PeImageHeaders.ReadAsync(stub, stubPath, cancellation).ConfigureAwait(false);
        CheckStub(stubHeaders);
        await using var kernel = PeImageHeaders.OpenRead(contents.KernelPath);
        var kernelHeaders = await PeImageHeaders.ReadAsync(kernel, contents.KernelPath, cancellation).ConfigureAwait(false);
        if (kernelHeaders.FileHeader.Machine != stubHeaders.FileHeader.Machine)
        {
            throw new UkiException($"{contents.KernelPath} is a kernel for {CoffFileHeader.MachineName(kernelHeaders.FileHeader.Machine)}, but the stub {stubPath} is for {CoffFileHeader.MachineName(stubHeaders.FileHeader.Machine)}");
        }

        await using var initrd = OpenInput(contents.InitrdPath, "initrd");
        var sbat = SbatText.Merge([
            (stubPath, await ReadSbatAsync(stub, stubHeaders, cancellation).ConfigureAwait(false)),
            (contents.KernelPath, await ReadSbatAsync(kernel, kernelHeaders, cancellation).ConfigureAwait(false)),
            ("the UKI's extra SBAT", contents.ExtraSbat ?? SbatText.DefaultUkiLine),
        ]);

        // ukify's order: the small sections first, .sbat, then .linux last, so that the kernel (which on x86 the
        // stub may run in place through the EFI handover protocol) has the end of the image to decompress into.
        var added = new List<AddedSection>
        {
            AddedSection.Data(".osrel", Encoding.UTF8.GetBytes(contents.OsRelease)),
            AddedSection.Data(".cmdline", Encoding.UTF8.GetBytes(contents.CommandLine)),
            AddedSection.Data(".uname", Encoding.UTF8.GetBytes(contents.Uname)),
            AddedSection.Streamed(".initrd", initrd, initrd.Length, SectionHeader.ContainsInitializedData, virtualSize: initrd.Length),
            AddedSection.Data(SbatText.SectionName, sbat),

            // The loaded .linux spans the kernel's SizeOfImage (its decompressed size), not just its file (ukify).
            AddedSection.Streamed(".linux", kernel, kernel.Length, SectionHeader.ContainsCode, virtualSize: Math.Max(kernel.Length, kernelHeaders.OptionalHeader.SizeOfImage)),
        };

        var layout = UkiLayout.Plan(stubHeaders, added);
        var temporary = AuthenticodeSigner.TemporaryPathFor(outputPath);
        try
        {
            await using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16, FileOptions.Asynchronous))
            {
                await layout.WriteAsync(stub, output, cancellation).ConfigureAwait(false);
                if (signer is null)
                {
                    await PeChecksum.UpdateAsync(output, stubHeaders.CheckSumOffset, cancellation).ConfigureAwait(false);
                }
                else
                {
                    await AuthenticodeSigner.AppendSignatureAsync(output, outputPath, signer, cancellation).ConfigureAwait(false);
                }

                output.Flush(flushToDisk: true);
            }

            File.Move(temporary, outputPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static void CheckStub(PeImageHeaders stub)
    {
        if (stub.OptionalHeader.Subsystem != OptionalHeader.SubsystemEfiApplication)
        {
            throw new UkiException($"{stub.FileName}: subsystem {stub.OptionalHeader.Subsystem} is not an EFI application ({OptionalHeader.SubsystemEfiApplication}): not a systemd-stub");
        }

        if (stub.FileHeader.Machine is CoffFileHeader.MachineAmd64 or CoffFileHeader.MachineArm64 && !stub.OptionalHeader.IsPe32Plus)
        {
            throw new UkiException($"{stub.FileName}: a PE32 image for {CoffFileHeader.MachineName(stub.FileHeader.Machine)}, which needs PE32+: not a systemd-stub for that machine");
        }

        var present = stub.Sections.Select(s => s.Name).Intersect(UkiSectionNames).ToList();
        if (present.Count > 0)
        {
            throw new UkiException($"{stub.FileName}: already has the UKI section(s) {string.Join(", ", present)}: a UKI or an add-on, not a bare systemd-stub");
        }

        var debug = stub.OptionalHeader.DataDirectories.Count > DataDirectory.DebugIndex ? stub.OptionalHeader.DataDirectories[DataDirectory.DebugIndex] : default;
        if (!debug.IsEmpty)
        {
            // Debug directory entries point at their data by file offset, which moving the sections would break.
            throw new UkiException($"{stub.FileName}: has a debug directory; strip it first (systemd's stubs have none)");
        }
    }

    private static FileStream OpenInput(string path, string what)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UkiException($"{path}: the {what} does not exist");
        }
    }

    private static async Task<string> ReadSbatAsync(Stream image, PeImageHeaders headers, CancellationToken cancellation)
    {
        if (headers.FindSection(SbatText.SectionName) is not { } section)
        {
            return "";
        }

        // VirtualSize is the text's length; the raw data after it is file-alignment padding.
        var length = Math.Min(section.VirtualSize == 0 ? section.SizeOfRawData : section.VirtualSize, section.SizeOfRawData);
        if (length > MaximumSbatSize)
        {
            throw new UkiException($"{headers.FileName}: its .sbat section is {length} bytes, more than an SBAT section ({MaximumSbatSize} at most)");
        }

        var text = new byte[length];
        await PeImageHeaders.ReadExactlyAtAsync(image, section.PointerToRawData, text, cancellation).ConfigureAwait(false);
        return Encoding.UTF8.GetString(text);
    }

}
