using EdgeForge.Configuration.Arguments;
using EdgeForge.Configuration.Diagnostics;

namespace EdgeForge.Configuration.Tests;

public sealed class BuildSettingsResolverTests
{
    private static (BuildSettings? Settings, DiagnosticBag Diagnostics) Resolve(string text)
    {
        var diagnostics = new DiagnosticBag();
        var arguments = BuildArguments.Load(".arg", text, new Dictionary<string, string>(), _ => null, diagnostics);
        return (BuildSettingsResolver.Resolve(arguments, diagnostics), diagnostics);
    }

    [Fact]
    public void Defaults_follow_the_reference()
    {
        var (settings, diagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh");

        diagnostics.HasErrors.ShouldBeFalse();
        settings.ShouldNotBeNull();
        settings.CustomTag.ShouldBe("demo");
        settings.OsDistribution.ShouldBe("ubuntu");
        settings.ImageRepo.ShouldBe("ubuntu");
        settings.OsVersion.ShouldBe("22.04");
        settings.K8sDistribution.ShouldBe("k3s");
        settings.K8sVersion.ShouldBeNull();
        settings.IsoName.ShouldBe("palette-edge-installer");
        settings.Arch.ShouldBe("amd64");
        settings.PeVersion.ShouldBe("v4.10.0-rc.2");
        settings.EdgeCustomConfig.ShouldBe(".edge-custom-config.yaml");
        settings.DisableSelinux.ShouldBeTrue();
        settings.BundleK8sAndAgentProvider.ShouldBeFalse("CanvOS's default: bundle only when the base's systemd is older than 255");
        settings.K8sProviderSource.ShouldBeNull();
        settings.SpectroPubRepo.ShouldBe("us-docker.pkg.dev/palette-images");
        settings.KairosBaseImageUrl.ShouldBe("us-docker.pkg.dev/palette-images/edge");
        settings.StylusBase.ShouldBe("us-docker.pkg.dev/palette-images/edge/stylus-framework-linux-amd64:v4.10.0-rc.2");
        settings.ProviderVersions.ShouldBe(new Dictionary<string, string>
        {
            ["k3s"] = "v4.10.3", ["rke2"] = "v4.10.3", ["kubeadm"] = "v4.10.1", ["nodeadm"] = "v4.9.3", ["canonical"] = "v4.10.1",
        }, ignoreOrder: true);
        settings.SquashFsCompression.ShouldBe(new SquashFsCompression(SquashFsCompressor.Zstd, 3));
    }

    [Theory]
    [InlineData("ubuntu", "22", "22.04")]
    [InlineData("ubuntu", "20", "20.04")]
    [InlineData("ubuntu", "24.04", "24.04")]
    [InlineData("opensuse-leap", "15.6", "15.6")]
    public void Os_versions_are_normalised(string os, string version, string expected)
    {
        var (settings, _) = Resolve($"IMAGE_REGISTRY=ttl.sh\nOS_DISTRIBUTION={os}\nOS_VERSION={version}");

        settings!.OsVersion.ShouldBe(expected);
    }

    [Fact]
    public void Keys_may_be_empty_to_mean_unset_as_in_canvos()
    {
        var (settings, diagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\nHTTPS_PROXY=\nHTTP_PROXY=\nPROXY_CERT_PATH=\nCLUSTERCONFIG=\nK8S_VERSION=");

        diagnostics.Items.ShouldBeEmpty();
        settings!.ProxyCertPath.ShouldBeNull();
        settings.ClusterConfig.ShouldBeNull();
        settings.K8sVersion.ShouldBeNull();
    }

    [Fact]
    public void A_valid_fips_build_resolves()
    {
        var (settings, diagnostics) = Resolve("IMAGE_REGISTRY=reg.example.com/edge\nFIPS_ENABLED=true\nK8S_DISTRIBUTION=rke2\nBASE_IMAGE=reg.example.com/base/ubuntu-fips:22.04");

        diagnostics.HasErrors.ShouldBeFalse();
        settings!.FipsEnabled.ShouldBeTrue();
    }

    [Theory]
    [InlineData("FIPS_ENABLED=true\nK8S_DISTRIBUTION=k3s\nBASE_IMAGE=r.io/a:b", "FIPS_ENABLED", "rke2 or kubeadm-fips")]
    [InlineData("FIPS_ENABLED=true\nK8S_DISTRIBUTION=rke2", "FIPS_ENABLED", "BASE_IMAGE")]
    [InlineData("FIPS_ENABLED=true\nK8S_DISTRIBUTION=kubeadm-fips\nBASE_IMAGE=r.io/a:b\nUPDATE_KERNEL=true", "UPDATE_KERNEL", "FIPS")]
    [InlineData("OS_DISTRIBUTION=rhel", "OS_DISTRIBUTION", "BASE_IMAGE is required")]
    [InlineData("CIS_HARDENING=true\nOS_DISTRIBUTION=opensuse-leap\nOS_VERSION=15.6", "CIS_HARDENING", "apt operating systems")]
    [InlineData("INSTALL_NVIDIA_GPU_DRIVERS=true\nINSTALL_AMD_GPU_DRIVERS=true", "INSTALL_AMD_GPU_DRIVERS", "mutually exclusive")]
    [InlineData("ARCH=x86_64", "ARCH", "not a supported architecture")]
    [InlineData("IMAGE_REGISTRY=https://ttl.sh", "IMAGE_REGISTRY", "scheme")]
    [InlineData("IMAGE_REGISTRY=my_registry.example.com", "IMAGE_REGISTRY", "'_'")]
    [InlineData("CUSTOM_TAG=Palette_Learn", "CUSTOM_TAG", "invalid image tag")]
    [InlineData("K8S_VERSION=v1.27.2", "K8S_VERSION", "leading 'v'")]
    [InlineData("SQUASHFS_COMPRESSION=lz4", "SQUASHFS_COMPRESSION", "not a compressor")]
    public void Rules_name_the_key(string lines, string key, string message)
    {
        var (settings, diagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\n" + lines);

        settings.ShouldBeNull();
        diagnostics.Errors.ShouldContain(d => d.Key == key && d.Message.Contains(message), string.Join("\n", diagnostics.Items));
    }

    [Fact]
    public void GPU_driver_keys_resolve_with_CanvOS_defaults()
    {
        var (nvidia, nvidiaDiagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\nINSTALL_NVIDIA_GPU_DRIVERS=true");
        var (amd, amdDiagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\nINSTALL_AMD_GPU_DRIVERS=true\nAMDGPU_DRIVER_SOURCE=inbox");
        var (neither, _) = Resolve("IMAGE_REGISTRY=ttl.sh");

        nvidiaDiagnostics.Items.ShouldBeEmpty();
        nvidia!.NvidiaDrivers.ShouldBe(new NvidiaDriverSettings(580, NvidiaDriverType.Open, true, "https://developer.download.nvidia.com/compute/cuda/repos", true, true, false,
            "https://nvidia.github.io/libnvidia-container", true));
        nvidia.AmdGpuDrivers.ShouldBeNull();
        amdDiagnostics.Items.ShouldBeEmpty();
        amd!.AmdGpuDrivers.ShouldBe(new AmdGpuDriverSettings(AmdGpuDriverSource.Inbox, "31.40", null, true, false, "https://repo.radeon.com", "https://repo.amd.com/rocm/packages-multi-arch"));
        neither!.NvidiaDrivers.ShouldBeNull();
        neither.AmdGpuDrivers.ShouldBeNull();
    }

    [Fact]
    public void GPU_driver_keys_that_cannot_act_warn()
    {
        var (_, off) = Resolve("IMAGE_REGISTRY=ttl.sh\nNVIDIA_DRIVER_BRANCH=570\nAMDGPU_INSTALL_SMI=false");
        var (old, oldBranch) = Resolve("IMAGE_REGISTRY=ttl.sh\nINSTALL_NVIDIA_GPU_DRIVERS=true\nNVIDIA_DRIVER_BRANCH=550");
        var (inbox, inboxDiagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\nINSTALL_AMD_GPU_DRIVERS=true\nAMDGPU_DRIVER_SOURCE=inbox\nAMDGPU_ARTIFACT_PATH=build/a.tar.gz");

        off.Warnings.Select(w => (w.Key, w.Message)).ShouldBe(
            [("NVIDIA_DRIVER_BRANCH", "has no effect: INSTALL_NVIDIA_GPU_DRIVERS=false"), ("AMDGPU_INSTALL_SMI", "has no effect: INSTALL_AMD_GPU_DRIVERS=false")], ignoreOrder: true);
        old!.NvidiaDrivers!.ImexInstalled.ShouldBeFalse();
        oldBranch.Warnings.ShouldHaveSingleItem().Key.ShouldBe("NVIDIA_INSTALL_IMEX");
        inbox!.AmdGpuDrivers!.ArtifactPath.ShouldBeNull();
        inboxDiagnostics.Warnings.ShouldHaveSingleItem().Message.ShouldContain("no effect with AMDGPU_DRIVER_SOURCE=inbox");
    }

    [Theory]
    [InlineData("INSTALL_NVIDIA_GPU_DRIVERS=true\nOS_DISTRIBUTION=opensuse-leap\nOS_VERSION=15.6", "INSTALL_NVIDIA_GPU_DRIVERS", "installed with apt")]
    [InlineData("INSTALL_AMD_GPU_DRIVERS=true\nOS_DISTRIBUTION=sles\nBASE_IMAGE=r.io/sles:15", "INSTALL_AMD_GPU_DRIVERS", "installed with apt")]
    [InlineData("INSTALL_NVIDIA_GPU_DRIVERS=true\nARCH=arm64", "INSTALL_NVIDIA_GPU_DRIVERS", "ARCH=amd64 only")]
    [InlineData("NVIDIA_DRIVER_TYPE=Open", "NVIDIA_DRIVER_TYPE", "not a driver type")]
    [InlineData("NVIDIA_DRIVER_BRANCH=58", "NVIDIA_DRIVER_BRANCH", "not a driver branch")]
    [InlineData("NVIDIA_USE_CUDA_REPO=1", "NVIDIA_USE_CUDA_REPO", "not a boolean")]
    [InlineData("NVIDIA_CONTAINER_TOOLKIT_REPO_URL=https://mirror.example.com/a b", "NVIDIA_CONTAINER_TOOLKIT_REPO_URL", "not an http:// or https:// URL")]
    [InlineData("AMDGPU_REPO_URL=mirror.example.com", "AMDGPU_REPO_URL", "not an http:// or https:// URL")]
    [InlineData("AMDGPU_DRIVER_SOURCE=DKMS", "AMDGPU_DRIVER_SOURCE", "not a driver source")]
    [InlineData("AMDGPU_DRIVER_RELEASE=31.40/../x", "AMDGPU_DRIVER_RELEASE", "not an amdgpu-install release")]
    [InlineData("AMDGPU_REBUILD_INITRD=yes", "AMDGPU_REBUILD_INITRD", "not a boolean")]
    public void GPU_driver_rules_name_the_key(string lines, string key, string message)
    {
        var (settings, diagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\n" + lines);

        settings.ShouldBeNull();
        diagnostics.Errors.ShouldContain(d => d.Key == key && d.Message.Contains(message), string.Join("\n", diagnostics.Items));
    }

    [Fact]
    public void Errors_point_at_the_line_that_set_the_value()
    {
        var (_, diagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\n\n# comment\nARCH=sparc");

        diagnostics.Errors.ShouldHaveSingleItem().Line.ShouldBe(4);
    }

    [Fact]
    public void A_proxy_url_with_credentials_is_never_echoed()
    {
        var (_, diagnostics) = Resolve("IMAGE_REGISTRY=ttl.sh\nHTTPS_PROXY=user:s3cr3tPassw0rd@proxy");

        var error = diagnostics.Errors.ShouldHaveSingleItem();
        error.Key.ShouldBe("HTTPS_PROXY");
        error.ToString().ShouldNotContain("s3cr3tPassw0rd");
    }
}
