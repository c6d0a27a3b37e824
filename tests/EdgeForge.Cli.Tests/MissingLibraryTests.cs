using EdgeForge.Testing;
using System.Runtime.InteropServices;

namespace EdgeForge.Cli.Tests;

/// <summary>A machine without one of the system libraries the compressors bind to gets told which package to install.</summary>
public sealed class MissingLibraryTests : IDisposable
{
    private readonly TestDirectory _scratch = new("ef-missing-lib-");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task A_missing_libdeflate_is_named_with_its_debian_package_not_as_a_crash()
    {
        (await EdgeforgeCli.RunAsync(null, null, "--help")).ExitCode.ShouldBe(0);
        var tree = Directory.CreateDirectory(_scratch.Combine("tree")).FullName;
        File.WriteAllText(Path.Combine(tree, "file"), "contents");
        var empty = _scratch.Combine("not-a-library");
        File.WriteAllBytes(empty, []);
        var triplet = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
        var library = $"/usr/lib/{triplet}/libdeflate.so.0";
        File.Exists(library).ShouldBeTrue("libdeflate0 is one of the packages scripts/test-packages.txt installs");
        var program = Path.Combine(Path.GetDirectoryName(EdgeforgeCli.LauncherPath)!, ".edgeforge", "bin", "edgeforge.dll");

        // In a mount namespace of its own the library is an empty file: dlopen fails as it does where libdeflate0 is absent.
        var result = await ExternalTool.RunUncheckedAsync("unshare", "--mount", "sh", "-c",
            "mount --bind \"$1\" \"$2\" && exec dotnet \"$3\" fs squashfs \"$4\" -o \"$5\" --comp gzip",
            "sh", empty, library, program, tree, _scratch.Combine("out.squashfs"));

        result.ExitCode.ShouldBe(1, result.Output + result.Error);
        result.Error.ShouldContain("libdeflate.so.0");
        result.Error.ShouldContain("libdeflate0");
        result.Error.ShouldNotContain("internal error");
        result.Error.ShouldNotContain("LD_DEBUG");
        result.Error.ShouldNotContain("   at ");
        File.Exists(_scratch.Combine("out.squashfs")).ShouldBeFalse();
    }
}
