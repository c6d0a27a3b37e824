using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeForge.Compression;

/// <summary>
/// The system libraries this assembly binds to, loaded through a resolver so that a machine without one gets a
/// <see cref="DllNotFoundException"/> naming the library, what it is for and the Debian package — instead of .NET's
/// list of every path it probed.
/// </summary>
internal static class NativeLibraries
{
    private static readonly Dictionary<string, (string Package, string Use)> Known = new(StringComparer.Ordinal)
    {
        ["libzstd.so.1"] = ("libzstd1", "zstd compression"),
        ["libdeflate.so.0"] = ("libdeflate0", "SquashFS gzip blocks"),
        ["libisal.so.2"] = ("libisal2", "gzip decompression of layers"),
    };

#pragma warning disable CA2255 // A library's module initializer: the resolver must be in place before the first P/Invoke of any caller.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!Known.TryGetValue(name, out var known))
        {
            return nint.Zero;
        }

        return NativeLibrary.TryLoad(name, assembly, searchPath, out var handle)
            ? handle
            : throw new DllNotFoundException(
                $"the system library {name} cannot be loaded: edgeforge needs it for {known.Use}; install the Debian package " +
                $"{known.Package} (scripts/install-packages.sh installs every package edgeforge needs)");
    }
}
