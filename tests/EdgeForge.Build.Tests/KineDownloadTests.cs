using EdgeForge.Build.Composition;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>kine from KINE_SOURCE is checked to be a 64-bit ELF executable for the image's ARCH before it enters a layer.</summary>
public sealed class KineDownloadTests : IDisposable
{
    private readonly TestDirectory _scratch = new("ef-kine-");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task A_binary_for_the_ARCH_is_taken_and_one_for_another_machine_is_refused_with_both_machines_named()
    {
        // BusyboxRootfs.Binary is this host's (amd64) busybox; the arm64 one is an ELF header with e_machine 183 (EM_AARCH64).
        var arm64 = _scratch.Combine("kine-arm64");
        var header = new byte[64];
        byte[] ident = [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1];  // ELFCLASS64, little-endian
        ident.CopyTo(header, 0);
        header[18] = 183;
        File.WriteAllBytes(arm64, header);
        await using var server = new StaticFileServer(new Dictionary<string, string> { ["/kine-amd64"] = BusyboxRootfs.Binary, ["/kine-arm64"] = arm64 });

        var (_, sha256) = await TwoNode.DownloadKineAsync($"{server.Address}/kine-amd64", "amd64", _scratch.Combine("a"), 0, CancellationToken.None);
        sha256.ShouldBe(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(BusyboxRootfs.Binary))));

        var wrong = await Should.ThrowAsync<UpstreamContentException>(() =>
            TwoNode.DownloadKineAsync($"{server.Address}/kine-arm64", "amd64", _scratch.Combine("b"), 0, CancellationToken.None));
        wrong.Message.ShouldContain("built for ELF machine 183, not amd64 (62)");
        wrong.Message.ShouldContain("KINE_SOURCE");

        var other = await Should.ThrowAsync<UpstreamContentException>(() =>
            TwoNode.DownloadKineAsync($"{server.Address}/kine-amd64", "arm64", _scratch.Combine("c"), 0, CancellationToken.None));
        other.Message.ShouldContain("built for ELF machine 62, not arm64 (183)");
    }
}
