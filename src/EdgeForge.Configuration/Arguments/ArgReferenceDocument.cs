using System.Text;

namespace EdgeForge.Configuration.Arguments;

/// <summary>Renders docs/arg-reference.md from the key catalog (a test keeps the file in step with the code).</summary>
public static class ArgReferenceDocument
{
    public static string Render()
    {
        var text = new StringBuilder();
        text.Append("""
            # `.arg` key reference

            <!-- Generated from src/EdgeForge.Configuration/Arguments/BuildArgumentCatalog.cs by
                 `EDGEFORGE_UPDATE_DOCS=1 dotnet test tests/EdgeForge.Configuration.Tests`; do not edit by hand. -->

            The `.arg` file of a CanvOS project holds the build arguments, one `KEY=VALUE` per line.

            ## Syntax

            - `#` starts a comment line; blank lines are ignored; CRLF line ends are accepted; `export KEY=VALUE` is accepted.
            - Unquoted values end at a `#` preceded by white space (an inline comment). `"double quotes"` allow spaces and
              `#`, with the escapes `\"`, `\\`, `\n`, `\t`, `\$`; `'single quotes'` are literal.
            - `$NAME`, `${NAME}` and `${NAME:-default}` expand, in this order, to: the value forced for NAME by the command
              line or the environment, the value of NAME on an earlier line, the environment variable NAME, else the default
              or nothing (with a warning). `$$` and `\$` give a literal `$`.
            - `KEY=` (empty) means the key is unset and its default applies, as in CanvOS.
            - A key set twice: the last line wins, with a warning.

            ## Precedence

            `--build-arg KEY=VALUE` on the command line wins over an environment variable of the same name (for the keys
            below that EdgeForge acts on, except `DEBUG`), which wins over the `.arg` file, which wins over the global
            `ARG NAME=value` defaults of the project's `Earthfile` (a CanvOS checkout's own pins), which win over the
            built-in defaults below. Earthfile and built-in defaults keep their `$NAME` references and are expanded
            against the final values, so `--build-arg SPECTRO_PUB_REPO=x` also moves `KAIROS_BASE_IMAGE_URL`,
            `STYLUS_BASE` and the provider images. `edgeforge plan` shows where each value came from.

            The built-in defaults are CanvOS's current Earthfile pins, with one exception: `ISO_NAME` is
            `palette-edge-installer` without an Earthfile (CanvOS's Earthfile says `installer`, and applies when present).

            ## The Earthfile

            Only global `ARG` lines before the first target are read, and nothing is executed: `VERSION`, `FROM`, `LET`,
            `SET`, `RUN`, comments, targets and the bodies of `IF … END` blocks (nested or not) are skipped — an `ARG`
            inside a conditional is not a default. Quotes are removed as Earthly does (`ARG DRBD_VERSION="9.2.13"`). An
            `ARG` EdgeForge does not know is a warning; an `ARG` line without a valid name, or an unbalanced `END`, is an
            error at `Earthfile:line`.

            ## Unknown keys

            A key that is close to a known key — same letters in another case (`K8s_VERSION`), or one or two typing slips
            away (`CUSTOM_TAGS`, `IMAGE_REGISTERY`) — is an **error** naming the key it was probably meant to be: in CanvOS
            such a typo is ignored and, for `K8S_VERSION`, silently builds every Kubernetes version. Any other unknown key is
            a warning. `UBUNTU_PRO_KEY` is refused: secrets do not belong in build arguments.

            ## Keys


            """);
        foreach (var (title, origin) in new[]
                 {
                     ("CanvOS keys", BuildArgumentOrigin.CanvOS),
                     ("Keys EdgeForge adds", BuildArgumentOrigin.EdgeForge),
                     ("CanvOS keys recognised but not used", BuildArgumentOrigin.CanvOSIgnored),
                     ("CanvOS Earthfile internals (read from the Earthfile, never build options)", BuildArgumentOrigin.CanvOSInternal),
                 })
        {
            text.Append($"### {title}\n\n");
            text.Append("| key | default | allowed | meaning |\n|---|---|---|---|\n");
            foreach (var definition in BuildArgumentCatalog.All.Where(d => d.Origin == origin))
            {
                var fallback = definition.Default.Length == 0 ? "(empty)" : definition.Default.StartsWith('(') ? definition.Default : $"`{definition.Default}`";
                var scope = definition.UnusedBecause is { } reason ? $" Unused here: {reason}; setting it warns."
                    : definition.DockerfileOnly ? $" Setting it warns unless the Dockerfile's customisations declare `ARG {definition.Key}`."
                    : definition.OnlyWith is { } switchKey ? $" Setting it while `{switchKey}=false` warns (no effect)."
                    : definition.OnlyFor is not { } feature ? ""
                    : definition.RefusedWhenTrue ? $" Only for {feature}, not built here: `true` is an error, `false` warns."
                    : $" Only for {feature}, not built here: setting it warns.";
                text.Append($"| `{definition.Key}` | {fallback} | {definition.Allowed} | {definition.Description}{scope} |\n");
            }

            text.Append('\n');
        }

        text.Append("""
            ## Rules between keys

            - `FIPS_ENABLED=true` needs `K8S_DISTRIBUTION` `rke2` or `kubeadm-fips`, a `BASE_IMAGE`, `UPDATE_KERNEL=false`, and
              `fips=1` in the user data's `install.grub_options.extra_cmdline`.
            - `OS_DISTRIBUTION` other than `ubuntu` and `opensuse-leap`, or an OS version without a default image, needs `BASE_IMAGE`.
            - `UPDATE_KERNEL=true` is built for apt operating systems (`ubuntu`, `debian`) only.
            - `CIS_HARDENING=true` is built for apt operating systems (`ubuntu`, `debian`) only ([cis-hardening.md](cis-hardening.md)).
            - `INSTALL_NVIDIA_GPU_DRIVERS` and `INSTALL_AMD_GPU_DRIVERS` are mutually exclusive (CanvOS fails the build). Either
              needs an apt `OS_DISTRIBUTION` (`ubuntu`, `debian`: CanvOS's driver scripts are apt-only) and `ARCH=amd64` (CanvOS
              installs them in its amd64 branch only); with `IS_UKI=true` it warns that the DKMS modules are unsigned. The
              drivers go into the common layers, so the installer ISO and every provider image carry them, as in CanvOS's
              base-image. `NVIDIA_DRIVER_TYPE` other than `open`/`proprietary` and `AMDGPU_DRIVER_SOURCE` other than
              `dkms`/`inbox` are errors (CanvOS's script would take a typo of `open` as `proprietary`); a driver release
              (`580.95.05`) in `NVIDIA_DRIVER_BRANCH` is an error naming the branch. `NVIDIA_INSTALL_IMEX=true` with a branch
              older than 570 warns (built without IMEX, as CanvOS). `AMDGPU_DRIVER_RELEASE` and `AMDGPU_ARTIFACT_PATH` warn
              with `AMDGPU_DRIVER_SOURCE=inbox`. The `*_REPO_URL` keys must be `http://` or `https://` URLs.
            - `IS_UKI=true` (Trusted Boot, [trusted-boot.md](trusted-boot.md)) needs a valid key set in `secure-boot/` and
              `cloudconfigs/80_stylus_uki.yaml`; it builds the Trusted Boot installer ISO and provider images (amd64 only:
              `ARCH=arm64` is refused for both; the standard arm64 installer ISO is built). `AUTO_ENROLL_SECUREBOOT_KEYS`, `CMDLINE`, `BRANDING`, `EFI_MAX_SIZE` (≤ `EFI_IMG_SIZE`) warn when
              `IS_UKI=false`; `MY_ORG`, `UKI_BRING_YOUR_OWN_KEYS`, `INCLUDE_MS_SECUREBOOT_KEYS` and
              `ENROLL_SPECTRO_EXTENSION_CERT` warn that they are options of `edgeforge keys secureboot`.
            - `IS_MAAS=true` and `UBUNTU_PRO_ATTACH=true` are not built yet and are errors rather than a silent standard build;
              the keys only those features use warn when set.
            - `FIPS_ENABLED=true` with `SPECTRO_PUB_REPO` at its default switches it to `us-docker.pkg.dev/palette-images-fips`
              (CanvOS's FIPS rule) and takes etcdctl from the FIPS (`vertex`) build.
            - `BUNDLE_K8S_AND_AGENT_PROVIDER=false` bundles Kubernetes only when the base image's systemd is older than 255.
            - `TWO_NODE=true` needs an apt (`ubuntu`, `debian`) or zypper (`opensuse-leap`, `sles`) `OS_DISTRIBUTION`, and warns
              when `CUSTOM_TAG` does not say so: a two-node image cannot become single-node later. `KINE_SOURCE` must be an
              `http://` or `https://` URL once `{version}` and `{arch}` are replaced.
            - A whole provider image tag (`K8S_DISTRIBUTION-K8S_VERSION-PE_VERSION-CUSTOM_TAG`) must stay within 128 characters.
            - `K8S_VERSION` must be listed for `K8S_DISTRIBUTION` in `k8s_version.json` (the project's, else the built-in list).

            ## Files named by keys

            - `CLUSTERCONFIG`: must be a gzip-compressed tar. A missing file is a warning (CanvOS's own template names
              `spc.tgz` and embeds it only when present).
            - `EDGE_CUSTOM_CONFIG`: `content.signing.publicKey.base64EncodedValue` must be base64 of a PEM RSA public key of at
              least 2048 bits, or empty (no signing key). A missing file at the default path means no key; at another path it is an error.
            - `PROXY_CERT_PATH`: deprecated; an absolute path of a PEM certificate, checked like the files of `certs/`.
            - `AMDGPU_ARTIFACT_PATH` (with `AMDGPU_DRIVER_SOURCE=dkms`): relative to the project directory and inside it;
              must exist and be a gzip-compressed tar holding `lib/modules/<kernel>/updates/dkms/amdgpu.ko*` (CanvOS's
              `prebuild-amdgpu-artifact.sh` output). The build checks that `<kernel>` is the image's.

            """);
        return text.ToString();
    }
}
