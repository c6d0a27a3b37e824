using EdgeForge.Build.Composition;
using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;
using EdgeForge.Testing;

namespace EdgeForge.Build.Tests;

/// <summary>
/// The GPU driver scripts for every shape the keys give them: dash (the image's <c>/bin/sh</c> on Debian and Ubuntu)
/// parses each, and each installs what its keys name — the heavy test runs two of them end to end.
/// </summary>
public sealed class GpuDriverScriptTests
{
    private static BuildSettings Settings(string arg)
    {
        var diagnostics = new DiagnosticBag();
        var arguments = BuildArguments.Load(".arg", "IMAGE_REGISTRY=ttl.sh\n" + arg, new Dictionary<string, string>(), _ => null, diagnostics);
        return BuildSettingsResolver.Resolve(arguments, diagnostics) ?? throw new InvalidOperationException(string.Join("\n", diagnostics.Items));
    }

    public static TheoryData<string> Shapes =>
    [
        "INSTALL_NVIDIA_GPU_DRIVERS=true",
        "INSTALL_NVIDIA_GPU_DRIVERS=true\nNVIDIA_DRIVER_TYPE=proprietary\nNVIDIA_DRIVER_BRANCH=550\nNVIDIA_USE_CUDA_REPO=false\nNVIDIA_INSTALL_FABRICMANAGER=false\nNVIDIA_REBUILD_INITRD=false",
        "INSTALL_NVIDIA_GPU_DRIVERS=true\nNVIDIA_INSTALL_CONTAINER_TOOLKIT=true\nUPDATE_KERNEL=true\nOS_DISTRIBUTION=debian\nOS_VERSION=12\nBASE_IMAGE=r.example.com/debian:12",
        "INSTALL_AMD_GPU_DRIVERS=true",
        "INSTALL_AMD_GPU_DRIVERS=true\nAMDGPU_DRIVER_SOURCE=inbox\nAMDGPU_REBUILD_INITRD=true\nAMDGPU_INSTALL_SMI=false",
        "INSTALL_AMD_GPU_DRIVERS=true\nAMDGPU_ARTIFACT_PATH=build/amdgpu.tar.gz",
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task Every_shape_of_the_scripts_is_valid_sh(string arg)
    {
        var settings = Settings(arg);
        var script = settings.NvidiaDrivers is not null ? GpuDrivers.NvidiaScript(settings) : GpuDrivers.AmdScript(settings);

        (await ExternalTool.RunUncheckedAsync("dash", new ToolOptions { Input = script }, "-n")).ShouldExit();
        // DKMS, depmod and dracut are told the image's kernel; the builder's appears only in a message.
        script.ShouldNotContain("-k \"$(uname -r)\"");
        script.Split('\n').Where(l => l.Contains("uname -r", StringComparison.Ordinal)).ShouldAllBe(l => l.TrimStart().StartsWith("say ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_nvidia_packages_follow_branch_type_and_options()
    {
        var open = GpuDrivers.NvidiaScript(Settings("INSTALL_NVIDIA_GPU_DRIVERS=true"));
        var closed = GpuDrivers.NvidiaScript(Settings("INSTALL_NVIDIA_GPU_DRIVERS=true\nNVIDIA_DRIVER_TYPE=proprietary\nNVIDIA_DRIVER_BRANCH=550\nNVIDIA_USE_CUDA_REPO=false\nNVIDIA_INSTALL_FABRICMANAGER=false"));

        open.ShouldContain("headless=nvidia-headless-580-server-open utils=nvidia-utils-580-server");
        open.ShouldContain("nvidia-fabricmanager-580 libnvidia-nscq-580 nvlsm infiniband-diags");
        open.ShouldContain("nvidia-imex-580");
        open.ShouldContain("cuda-keyring_1.1-1_all.deb");
        open.ShouldNotContain("nvidia-container-toolkit");
        closed.ShouldContain("headless=nvidia-headless-550-server utils=nvidia-utils-550-server");
        // 550 predates IMEX: not installed (validate warns); no CUDA repository, no fabric manager asked for.
        closed.ShouldNotContain("nvidia-imex");
        closed.ShouldNotContain("cuda-keyring");
        closed.ShouldNotContain("fabricmanager");
    }

    [Fact]
    public void The_amd_script_takes_the_path_the_source_names()
    {
        var inbox = GpuDrivers.AmdScript(Settings("INSTALL_AMD_GPU_DRIVERS=true\nAMDGPU_DRIVER_SOURCE=inbox\nAMDGPU_INSTALL_SMI=false"));
        var artifact = GpuDrivers.AmdScript(Settings("INSTALL_AMD_GPU_DRIVERS=true\nAMDGPU_ARTIFACT_PATH=build/amdgpu.tar.gz"));

        inbox.ShouldContain("kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko");
        inbox.ShouldNotContain("amdgpu-dkms");
        inbox.ShouldNotContain("amd-smi");
        inbox.ShouldNotContain("dracut -f");
        artifact.ShouldContain($"tar -xzf {GpuDrivers.AmdGpuArtifactInRootfs} -C /");
        artifact.ShouldNotContain("amdgpu-install");
        artifact.ShouldContain("AMDGPU_DRIVER_SOURCE=dkms (artifact)");
    }
}
