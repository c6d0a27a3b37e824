namespace EdgeForge.Configuration.Arguments;

/// <summary><c>NVIDIA_DRIVER_TYPE</c>: which kernel modules NVIDIA's driver branch is installed with.</summary>
public enum NvidiaDriverType
{
    /// <summary>NVIDIA's open GPU kernel modules (<c>nvidia-headless-BRANCH-server-open</c>): required from Hopper on.</summary>
    Open,

    /// <summary>The closed modules (<c>nvidia-headless-BRANCH-server</c>): for pre-Turing GPUs.</summary>
    Proprietary,
}

/// <summary>
/// <c>INSTALL_NVIDIA_GPU_DRIVERS=true</c> and its keys (CanvOS's Earthfile ARGs, the tunables of its
/// <c>install-nvidia-drivers.sh</c>), plus the repository locations edgeforge makes configurable so an air-gapped site
/// points them at its mirror.
/// </summary>
/// <param name="Branch">The driver branch (<c>580</c>); apt takes the newest release of it.</param>
/// <param name="CudaRepositoryUrl">Base of NVIDIA's CUDA apt repositories; the build appends <c>/&lt;distro&gt;/x86_64</c> (e.g. <c>ubuntu2204</c>).</param>
/// <param name="ContainerToolkitRepositoryUrl">Base of NVIDIA's libnvidia-container repository (its <c>gpgkey</c> and <c>stable/deb/</c> source list).</param>
public sealed record NvidiaDriverSettings(
    int Branch,
    NvidiaDriverType Type,
    bool UseCudaRepository,
    string CudaRepositoryUrl,
    bool InstallFabricManager,
    bool InstallImex,
    bool InstallContainerToolkit,
    string ContainerToolkitRepositoryUrl,
    bool RebuildInitrd)
{
    /// <summary>NVIDIA publishes <c>nvidia-imex-BRANCH</c> from this branch on; CanvOS skips IMEX on older ones.</summary>
    public const int FirstImexBranch = 570;

    /// <summary>Whether the build installs IMEX: asked for, and published for the branch.</summary>
    public bool ImexInstalled => InstallImex && Branch >= FirstImexBranch;
}

/// <summary><c>AMDGPU_DRIVER_SOURCE</c>: where the AMD kernel driver comes from.</summary>
public enum AmdGpuDriverSource
{
    /// <summary>AMD's <c>amdgpu-dkms</c>, built for the image's kernel (or taken prebuilt from <c>AMDGPU_ARTIFACT_PATH</c>).</summary>
    Dkms,

    /// <summary>The kernel's own in-tree <c>amdgpu</c> module; no AMD repository.</summary>
    Inbox,
}

/// <summary>
/// <c>INSTALL_AMD_GPU_DRIVERS=true</c> and its keys (CanvOS's Earthfile ARGs and <c>install-amdgpu-drivers.sh</c>),
/// plus the repository locations edgeforge makes configurable.
/// </summary>
/// <param name="Release">The <c>amdgpu-install</c> release segment (<c>31.40</c>, <c>7.2.1</c>).</param>
/// <param name="ArtifactPath">
/// <c>AMDGPU_ARTIFACT_PATH</c> relative to the project directory (the tarball CanvOS's
/// <c>prebuild-amdgpu-artifact.sh</c> makes), or null to build <c>amdgpu-dkms</c> in the image.
/// </param>
/// <param name="RepositoryUrl">Base of <c>repo.radeon.com</c>: <c>amdgpu-install/&lt;release&gt;/…</c>, the legacy ROCm repository and its key.</param>
/// <param name="RocmRepositoryUrl">Base of AMD's current ROCm repository (<c>repo.amd.com/rocm/packages-multi-arch</c>), where <c>amd-smi</c> is looked for second.</param>
public sealed record AmdGpuDriverSettings(
    AmdGpuDriverSource Source,
    string Release,
    string? ArtifactPath,
    bool InstallSmi,
    bool RebuildInitrd,
    string RepositoryUrl,
    string RocmRepositoryUrl);
