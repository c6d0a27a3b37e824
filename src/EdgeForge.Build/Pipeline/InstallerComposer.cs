using EdgeForge.Build.Composition;
using EdgeForge.FileTree;
using EdgeForge.Oci;
using EdgeForge.Oci.Layers;

namespace EdgeForge.Build.Pipeline;

/// <summary>
/// CanvOS's <c>iso-image</c> target as layers, on the common layers: the whole stylus framework image at <c>/</c>
/// (the Palette agent and its services; for Trusted Boot, pruned to the stylus agent provider), the project's <c>overlay/files/</c>, <c>local-ui.tar</c> unpacked into
/// <c>/opt/spectrocloud</c> (build-iso), and the clean-up. The result must be able to install a host: it is checked for
/// the Kairos agent before the ISO is written.
/// </summary>
internal sealed class InstallerComposer(BuildContext build)
{
    public const string LocalUiArchive = "local-ui.tar";

    public async Task<BuiltImage> BuildAsync(LayeredImage common, CancellationToken cancellationToken)
    {
        var plan = build.Plan;
        var chain = new LayerChain(build, common);
        var stylus = build.StylusFramework ?? throw new InvalidOperationException("pin-upstreams did not pin the stylus framework image");
        await chain.AddAsync($"COPY +stylus-image/ / ({stylus.Reference})", $"stylus-installer\n{stylus.Digest}",
            async () => await ImageFileTree.LoadAsync(stylus.Image, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

        if (plan.Settings.TrustedBoot is not null)
        {
            await chain.AddAsync("RUN find /opt/spectrocloud/bin/. ! -name 'agent-provider-stylus' -type f -exec rm -f {} + && rm -f /usr/bin/luet", "trusted-boot-pruning",
                async () => CanvosFiles.TrustedBootPruning((await ImageFileTree.LoadAsync(chain.Image, cancellationToken).ConfigureAwait(false)).Entries), cancellationToken).ConfigureAwait(false);
        }

        var overlay = Path.Combine(plan.ProjectDirectory, "overlay", "files");
        if (Directory.Exists(overlay))
        {
            var tree = ProviderComposer.ProjectOverlay(overlay, "");
            await chain.AddAsync("COPY overlay/files/ /", "overlay-files\n" + await LayerChain.FingerprintAsync(tree, cancellationToken).ConfigureAwait(false),
                () => Task.FromResult<IFileTreeSource>(tree), cancellationToken).ConfigureAwait(false);
        }

        var localUi = Path.Combine(plan.ProjectDirectory, LocalUiArchive);
        if (File.Exists(localUi))
        {
            var tree = await ImageFileTree.LoadAsync([token => Task.FromResult<Stream>(File.OpenRead(localUi))], cancellationToken).ConfigureAwait(false);
            var unpacked = MappedFileTree.Create(tree, path => "opt/spectrocloud/" + path);
            await chain.AddAsync($"tar -xf {LocalUiArchive} -C /opt/spectrocloud", "local-ui\n" + await LayerChain.FingerprintAsync(unpacked, cancellationToken).ConfigureAwait(false),
                () => Task.FromResult<IFileTreeSource>(unpacked), cancellationToken).ConfigureAwait(false);
        }

        await chain.AddAsync("RUN rm -f /etc/ssh/ssh_host_* /etc/ssh/moduli && touch /etc/machine-id && chmod 444 /etc/machine-id", "cleanup",
            async () => CanvosFiles.Cleanup((await ImageFileTree.LoadAsync(chain.Image, cancellationToken).ConfigureAwait(false)).Entries), cancellationToken).ConfigureAwait(false);

        // Whether it can install a host (the Kairos agent) is checked by the ISO step on the file list it reads anyway.
        return chain.Image;
    }
}
