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
            below that EdgeForge acts on), which wins over the `.arg` file, which wins over the default.

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
                 })
        {
            text.Append($"### {title}\n\n");
            text.Append("| key | default | allowed | meaning |\n|---|---|---|---|\n");
            foreach (var definition in BuildArgumentCatalog.All.Where(d => d.Origin == origin))
            {
                var fallback = definition.Default.Length == 0 ? "(empty)" : definition.Default.StartsWith('(') ? definition.Default : $"`{definition.Default}`";
                text.Append($"| `{definition.Key}` | {fallback} | {definition.Allowed} | {definition.Description} |\n");
            }

            text.Append('\n');
        }

        text.Append("""
            ## Rules between keys

            - `FIPS_ENABLED=true` needs `K8S_DISTRIBUTION` `rke2` or `kubeadm-fips`, a `BASE_IMAGE`, `UPDATE_KERNEL=false`, and
              `fips=1` in the user data's `install.grub_options.extra_cmdline`.
            - `OS_DISTRIBUTION` other than `ubuntu` and `opensuse-leap`, or an OS version without a default image, needs `BASE_IMAGE`.
            - `CIS_HARDENING=true` is for Ubuntu only.
            - `INSTALL_NVIDIA_GPU_DRIVERS` and `INSTALL_AMD_GPU_DRIVERS` are mutually exclusive (and not built yet: `true` is an error).
            - `IS_UKI=true` (Trusted Boot) is not built yet and is an error rather than a silent standard build.
            - `TWO_NODE=true` warns when `CUSTOM_TAG` does not say so: a two-node image cannot become single-node later.
            - A whole provider image tag (`K8S_DISTRIBUTION-K8S_VERSION-PE_VERSION-CUSTOM_TAG`) must stay within 128 characters.
            - `K8S_VERSION` must be listed for `K8S_DISTRIBUTION` in `k8s_version.json` (the project's, else the built-in list).

            ## Files named by keys

            - `CLUSTERCONFIG`: must be a gzip-compressed tar. A missing file is a warning (CanvOS's own template names
              `spc.tgz` and embeds it only when present).
            - `EDGE_CUSTOM_CONFIG`: `content.signing.publicKey.base64EncodedValue` must be base64 of a PEM RSA public key of at
              least 2048 bits, or empty (no signing key). A missing file at the default path means no key; at another path it is an error.
            - `PROXY_CERT_PATH`: deprecated; an absolute path of a PEM certificate, checked like the files of `certs/`.

            """);
        return text.ToString();
    }
}
