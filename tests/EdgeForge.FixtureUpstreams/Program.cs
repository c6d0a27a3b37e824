using EdgeForge.Testing;
using EdgeForge.Testing.Upstreams;

// Usage: EdgeForge.FixtureUpstreams REGISTRY WORK_DIRECTORY [K3S_VERSION ...]
// Pushes the stylus framework, provider-k3s, the third-party etcdctl image, a Kairos-like base and a luet repository
// with the given k3s versions to REGISTRY under us-docker.pkg.dev's paths; prints the registries.conf path last.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: EdgeForge.FixtureUpstreams REGISTRY WORK_DIRECTORY [K3S_VERSION ...]");
    return 2;
}

using var rootfs = new BusyboxRootfs();
var upstreams = await CanvosUpstreams.PushAsync(args[0], rootfs.Root, Path.GetFullPath(args[1]), args.Length > 2 ? args[2..] : null);
Console.WriteLine(upstreams.RegistriesConf);
return 0;
