using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace EdgeForge.Testing;

/// <summary>
/// Puts something that is not a regular file where an input is expected — what hostile-input tests feed every reader:
/// <c>fifo</c> (a read would block forever), <c>socket</c>, <c>directory</c>, <c>dangling link</c>, <c>link loop</c>,
/// or a link to an endless device (<c>/dev/zero</c>, any other kind).
/// </summary>
public static class SpecialFiles
{
    /// <summary>.NET removes a socket's file when the bound socket is disposed: they are kept for the life of the test run.</summary>
    private static readonly List<Socket> BoundSockets = [];

    public static void Create(string path, string kind)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }

        switch (kind)
        {
            case "fifo":
                if (Mkfifo(path, 0x1B6) != 0)
                {
                    throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
                }

                break;
            case "socket":
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Bind(new UnixDomainSocketEndPoint(path));
                lock (BoundSockets)
                {
                    BoundSockets.Add(socket);
                }

                break;
            case "directory":
                Directory.CreateDirectory(path);
                File.WriteAllText(Path.Combine(path, "inside"), "x");
                break;
            case "dangling link":
                File.CreateSymbolicLink(path, "absent-" + Path.GetFileName(path));
                break;
            case "link loop":
                File.CreateSymbolicLink(path, Path.GetFileName(path) + ".other");
                File.CreateSymbolicLink(path + ".other", Path.GetFileName(path));
                break;
            default:
                File.CreateSymbolicLink(path, kind.StartsWith('/') ? kind : "/dev/zero");
                break;
        }
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);
}
