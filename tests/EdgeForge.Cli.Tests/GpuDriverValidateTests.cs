namespace EdgeForge.Cli.Tests;

/// <summary>
/// Issue 13 item 5: a CanvOS project that asks for GPU drivers as CanvOS's docs show it validates; what CanvOS rejects
/// or would skip silently is in <see cref="BadInputCases"/> (exit 2).
/// </summary>
public sealed class GpuDriverValidateTests
{
    [Fact]
    public async Task The_documented_NVIDIA_setup_validates()
    {
        using var project = new ValidProject();
        project.AppendArg("INSTALL_NVIDIA_GPU_DRIVERS=true");
        project.AppendArg("NVIDIA_DRIVER_BRANCH=580");
        project.AppendArg("NVIDIA_DRIVER_TYPE=proprietary");
        project.AppendArg("NVIDIA_CUDA_REPO_URL=http://mirror.example.com/cuda/repos");

        var result = await CliResult.RunAsync("validate", project.Directory);

        result.ExitCode.ShouldBe(0, result.All);
        result.Output.ShouldContain("valid: 0 errors, 0 warnings");
    }

    [Fact]
    public async Task A_prebuilt_AMD_artifact_inside_the_project_validates()
    {
        using var project = new ValidProject();
        project.WriteBytes("build/amdgpu-artifact-31.40-6.8.0-49-generic-0123456789ab.tar.gz", BadInputCases.TarGz(
            ("lib/modules/6.8.0-49-generic/updates/dkms/amdgpu.ko.zst", "module"), ("etc/modules-load.d/amdgpu.conf", "amdgpu\n")));
        project.AppendArg("INSTALL_AMD_GPU_DRIVERS=true");
        project.AppendArg("AMDGPU_ARTIFACT_PATH=build/amdgpu-artifact-31.40-6.8.0-49-generic-0123456789ab.tar.gz");

        var result = await CliResult.RunAsync("validate", project.Directory);

        result.ExitCode.ShouldBe(0, result.All);
        result.Output.ShouldContain("valid: 0 errors, 0 warnings");
    }

    [Fact]
    public async Task GPU_keys_without_their_switch_warn_and_validate()
    {
        using var project = new ValidProject();
        project.AppendArg("NVIDIA_DRIVER_BRANCH=570");

        var result = await CliResult.RunAsync("validate", project.Directory);

        result.ExitCode.ShouldBe(0, result.All);
        result.All.ShouldContain("NVIDIA_DRIVER_BRANCH: has no effect: INSTALL_NVIDIA_GPU_DRIVERS=false");
    }

    [Fact]
    public async Task Plan_names_the_driver_step()
    {
        using var project = new ValidProject();
        project.AppendArg("INSTALL_NVIDIA_GPU_DRIVERS=true");
        project.AppendArg("NVIDIA_DRIVER_TYPE=proprietary");
        project.AppendArg("NVIDIA_INSTALL_FABRICMANAGER=false");

        var text = await CliResult.RunAsync("plan", project.Directory);
        var json = await CliResult.RunAsync("plan", project.Directory, "--json");

        text.ExitCode.ShouldBe(0, text.All);
        text.Output.ShouldContain("GPU drivers      NVIDIA 580 (proprietary), CUDA repository https://developer.download.nvidia.com/compute/cuda/repos, IMEX, initramfs rebuilt; DKMS modules for the image's kernel");
        var gpu = System.Text.Json.JsonDocument.Parse(json.Output).RootElement.GetProperty("gpuDrivers");
        (gpu.GetProperty("vendor").GetString(), gpu.GetProperty("type").GetString(), gpu.GetProperty("fabricManager").GetBoolean()).ShouldBe(("nvidia", "proprietary", false));
    }
}
