namespace EdgeForge.Testing.Upstreams;

/// <summary>
/// A CanvOS-shaped project directory: an Earthfile whose global ARGs pin the fixture upstreams (the agent version, the
/// kairos-init version, the provider version — as a CanvOS checkout's Earthfile does), a <c>.arg</c> that sets only
/// what a user sets, a Dockerfile with the customisation marker, <c>overlay/files/</c>, <c>overlay/files-iso/</c> with a
/// menu template, user data and <c>k8s_version.json</c>. Written by us, stating CanvOS's facts; never a copy of its files.
/// </summary>
public static class CanvosProject
{
    public const string SiteName = "edgeforge-canvos-site";
    public const string OverlayMarker = "overlay/files fixture";
    public const string IsoOverlayMarker = "overlay/files-iso fixture";

    /// <summary>
    /// User data of a site that registers with Palette and powers off after installing (what the installer tests boot):
    /// <c>k8s_version.json</c> for k3s 1.30.1 beside it. <paramref name="comment"/>, when given, is a comment line after
    /// <c>#cloud-config</c> (a marker a test looks for in the built ISO).
    /// </summary>
    public static async Task WriteSiteUserDataAsync(string project, string siteName, string? comment = null)
    {
        await File.WriteAllTextAsync(Path.Combine(project, "k8s_version.json"), "{\"k3s\": [\"1.30.1\"]}\n");
        await File.WriteAllTextAsync(Path.Combine(project, "user-data"), "#cloud-config\n" + (comment is null ? "" : $"# {comment}\n") + $"""
            stylus:
              site:
                paletteEndpoint: api.spectrocloud.com
                edgeHostToken: "test-token"
                projectName: Default
                name: {siteName}
            install:
              poweroff: true

            """);
    }

    /// <summary>
    /// The <c>.arg</c> of the installer tests' projects: the test OS as BASE_IMAGE, k3s 1.30.1 (the version
    /// <see cref="WriteSiteUserDataAsync"/> lists), the ISO's name, then <paramref name="lines"/> (KEY=VALUE each).
    /// </summary>
    public static Task WriteInstallerArgAsync(string project, string baseImage, string isoName, params string[] lines) =>
        File.WriteAllTextAsync(Path.Combine(project, ".arg"), string.Join('\n', [
            "CUSTOM_TAG=lab", "IMAGE_REGISTRY=127.0.0.1:5000/edge", "OS_DISTRIBUTION=ubuntu", $"BASE_IMAGE={baseImage}",
            "K8S_DISTRIBUTION=k3s", "K8S_VERSION=1.30.1", $"ISO_NAME={isoName}", .. lines]) + "\n");

    public static void Write(string project, string imageRegistry, string isoName = "palette-edge-installer", string extraArg = "")
    {
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "Earthfile"), $"""
            VERSION --arg-scope-and-set --shell-out-anywhere 0.6
            ARG TARGETOS
            ARG TARGETARCH
            ARG SPECTRO_PUB_REPO={CanvosUpstreams.PublicRepository}
            ARG BUILDER_3RDPARTY_VERSION={CanvosUpstreams.ThirdPartyVersion}
            ARG SPECTRO_THIRD_PARTY_IMAGE=$SPECTRO_PUB_REPO/third-party/spectro-third-party:$BUILDER_3RDPARTY_VERSION
            FROM alpine

            ARG FIPS_ENABLED=false
            IF [ "$FIPS_ENABLED" = "true" ]
                LET SPECTRO_PUB_REPO=us-docker.pkg.dev/palette-images-fips
            END

            ARG SPECTRO_LUET_REPO=$SPECTRO_PUB_REPO/edge
            ARG KAIROS_BASE_IMAGE_URL=$SPECTRO_PUB_REPO/edge
            ARG PE_VERSION={CanvosUpstreams.AgentVersion}
            ARG KAIROS_INIT_VERSION={CanvosUpstreams.KairosInitVersion}
            ARG K3S_FLAVOR_TAG=k3s1
            ARG RKE2_FLAVOR_TAG=rke2r1
            ARG K3S_PROVIDER_VERSION={CanvosUpstreams.K3sProviderVersion}
            ARG ISO_NAME=installer
            ARG ETCD_VERSION="v3.5.13"
            ARG OS_DISTRIBUTION
            ARG ARCH

            build-all-images:
                BUILD +build-provider-images
                BUILD +iso

            provider-image:
                ARG NOT_A_DEFAULT=inside-a-target
                FROM +base-image

            """);
        File.WriteAllText(Path.Combine(project, ".arg"), $"""
            CUSTOM_TAG=demo
            IMAGE_REGISTRY={imageRegistry}
            OS_DISTRIBUTION=ubuntu
            IMAGE_REPO=$OS_DISTRIBUTION
            OS_VERSION=22
            K8S_DISTRIBUTION=k3s
            ISO_NAME={isoName}
            ARCH=amd64
            UPDATE_KERNEL=false
            EDGE_CUSTOM_CONFIG=.edge-custom-config.yaml
            {extraArg}

            """);
        File.WriteAllText(Path.Combine(project, "k8s_version.json"),
            "{\"k3s\": [" + string.Join(", ", CanvosUpstreams.K3sVersions.Select(v => $"\"{v}\"")) + "]}\n");
        File.WriteAllText(Path.Combine(project, "Dockerfile"), """
            ARG BASE
            FROM $BASE
            RUN mkdir -p /certs
            ########################### Add any other image customizations here #######################
            RUN echo customised > /etc/edgeforge-customised

            """);
        Write(project, "overlay/files/etc/logrotate.d/stylus.conf", "/var/log/stylus*.log { rotate 3 }\n", 0x1B6);
        Write(project, "overlay/files/etc/kairos/branding/interactive_install_text", OverlayMarker + "\n", 0x1A4);
        Write(project, "overlay/files/opt/spectrocloud/bin/check-disk-size.sh", "#!/bin/sh\necho " + OverlayMarker + "\n", 0x1ED);
        Write(project, "overlay/files-iso/opt/spectrocloud/content/Readme.txt", IsoOverlayMarker + "\n", 0x1A4);
        Write(project, "overlay/files-iso/boot/grub2/grub.cfg", """
            search --no-floppy --file --set=root /boot/kernel
            set default={{DEFAULT_ENTRY}}
            set timeout=1
            menuentry "Palette eXtended Kubernetes Edge Installer" {
                linux ($root)/boot/kernel cdroot root=live:CDLABEL=COS_LIVE rd.live.dir=/ rd.live.squashimg=rootfs.squashfs console=ttyS0 rd.immucore.sysrootwait=600
                initrd ($root)/boot/initrd
            }

            """, 0x1A4);
        File.WriteAllText(Path.Combine(project, "user-data"), $"""
            #cloud-config
            stylus:
              site:
                paletteEndpoint: api.spectrocloud.com
                edgeHostToken: "fixture-token"
                projectName: Default
                name: {SiteName}
            install:
              poweroff: true

            """);
        File.WriteAllText(Path.Combine(project, ".edge-custom-config.yaml"), "content:\n  signing:\n    publicKey:\n      base64EncodedValue: \"\"\n");
    }

    private static void Write(string project, string relative, string content, int mode)
    {
        var path = Path.Combine(project, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, (UnixFileMode)mode);
    }
}
