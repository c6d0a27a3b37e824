using System.Net;
using System.Text.RegularExpressions;
using EdgeForge.Configuration.Inputs;

namespace EdgeForge.Configuration.UserData;

/// <summary>
/// The schema of installer user data: the Palette agent's <c>stylus</c> section, Kairos <c>install</c>, yip
/// <c>stages</c> and Kairos <c>users</c> (EDGEFORGE.md §7; Palette's installer configuration reference; Kairos docs).
/// </summary>
public static partial class UserDataSchema
{
    /// <summary>yip stage names the Kairos agent runs; each may also be suffixed <c>.before</c> or <c>.after</c>.</summary>
    public static readonly IReadOnlyList<string> StageNames = ExpandStages(
        "rootfs", "initramfs", "boot", "fs", "network", "reconcile",
        "after-install", "after-install-chroot", "after-reset", "after-reset-chroot", "after-upgrade", "after-upgrade-chroot",
        "before-install", "before-reset", "before-upgrade",
        "kairos-install.pre", "kairos-install.after", "kairos-uki-install.pre", "kairos-uki-install.after");

    private static readonly StringSchema Text = new();
    private static readonly StringSchema Secret = new() { Secret = true };
    private static readonly BooleanSchema Boolean = new();
    private static readonly ArraySchema TextList = new() { Items = Text, AcceptSingleItem = true };

    private static readonly StringSchema Url = new()
    {
        Check = v => Uri.TryCreate(v, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && u.Host.Length > 0 ? null : $"'{Short(v)}' is not an http(s) URL",
        PatternHint = "e.g. https://edge-registration.example.com/",
    };

    private static readonly StringSchema ProxyUrl = new()
    {
        // Proxy URLs may carry credentials: never echo them.
        Check = v => Uri.TryCreate(v, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "socks5" && u.Host.Length > 0 ? null : "is not a proxy URL",
        PatternHint = "e.g. http://proxy.example.com:3128",
    };

    private static readonly StringSchema IpAddress = new()
    {
        Check = v => IPAddress.TryParse(v, out _) ? null : $"'{Short(v)}' is not an IP address",
        PatternHint = "e.g. 10.0.10.1",
    };

    private static readonly StringSchema Nameserver = new()
    {
        Check = v => v.Split(',', StringSplitOptions.TrimEntries).All(s => IPAddress.TryParse(s, out _)) ? null : $"'{Short(v)}' is not an IP address (or a comma list of them)",
        PatternHint = "e.g. 1.1.1.1",
    };

    private static readonly StringSchema Cidr = new()
    {
        Check = v => IsCidr(v) ? null : $"'{Short(v)}' is not an address with a prefix length",
        PatternHint = "write the address with its mask bits, e.g. 10.0.10.25/24",
    };

    private static readonly StringSchema PemCertificate = new()
    {
        Check = v => PemCertificates.Parse(v).Problem,
        PatternHint = "paste the CA certificate in PEM form, -----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----, as a '|' block",
    };

    private static readonly StringSchema LinuxUserName = new()
    {
        Pattern = UserNamePattern(),
        PatternHint = "user names are lowercase letters, digits and '_', starting with a letter or '_', at most 31 characters",
    };

    private static readonly ObjectSchema Interface = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["type"] = new StringSchema { Enum = ["dhcp", "static"] },
            ["ipAddress"] = Cidr,
            ["gateway"] = IpAddress,
            ["nameserver"] = Nameserver,
        },
        Rules = o =>
        {
            if (o.StringOf("type") == "static" && o["ipAddress"] is null)
            {
                o.Error("ipAddress", "a static interface needs ipAddress", "add ipAddress: <address>/<mask bits>, e.g. 10.0.10.25/24");
            }

            if (o.StringOf("type") is "dhcp" or null && o["ipAddress"] is not null)
            {
                o.Warning("ipAddress", "is ignored unless type is static", "set type: static, or remove ipAddress");
            }
        },
    };

    private static readonly ObjectSchema Network = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["httpProxy"] = ProxyUrl,
            ["httpsProxy"] = ProxyUrl,
            ["noProxy"] = Text,
            ["nameserver"] = Nameserver,
            ["interfaces"] = new MapSchema { Values = Interface, KeyPattern = InterfaceNamePattern(), KeyHint = "interface names look like eth0, enp0s3, ens192" },
        },
    };

    private static readonly ObjectSchema SiteUser = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["name"] = LinuxUserName,
            ["passwd"] = Secret,
            ["groups"] = TextList,
            ["ssh_authorized_keys"] = TextList,
            ["sshKeys"] = TextList,
        },
    };

    private static readonly ObjectSchema Site = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["paletteEndpoint"] = new StringSchema { Pattern = EndpointPattern(), PatternHint = "a host name such as api.spectrocloud.com (optionally https:// and a port)" },
            ["edgeHostToken"] = Secret,
            ["projectName"] = Text,
            ["projectUid"] = Text,
            ["name"] = new StringSchema { Pattern = HostNamePattern(), PatternHint = "use letters, digits, '-' and '.', starting with a letter or digit" },
            ["tags"] = new MapSchema { Values = Text },
            ["tagsFromFile"] = new ObjectSchema
            {
                Properties = new Dictionary<string, SchemaNode> { ["fileName"] = Text, ["delimiter"] = Text, ["separator"] = Text },
                Rules = o =>
                {
                    if (o["fileName"] is null)
                    {
                        o.Error("fileName", "tagsFromFile needs fileName", "add fileName: /path/to/tags");
                    }
                },
            },
            ["tagsFromScript"] = new ObjectSchema
            {
                Properties = new Dictionary<string, SchemaNode> { ["scriptName"] = Text, ["timeout"] = new IntegerSchema { Minimum = 1 } },
                Rules = o =>
                {
                    if (o["scriptName"] is null)
                    {
                        o.Error("scriptName", "tagsFromScript needs scriptName", "add scriptName: /path/to/script");
                    }
                },
            },
            ["registrationURL"] = Url,
            ["network"] = Network,
            ["caCerts"] = new ArraySchema { Items = PemCertificate },
            ["insecureSkipVerify"] = Boolean,
            ["deviceUIDPaths"] = new ArraySchema
            {
                Items = new ObjectSchema
                {
                    Properties = new Dictionary<string, SchemaNode> { ["name"] = Text, ["length"] = new IntegerSchema { Minimum = 1 } },
                },
            },
            ["users"] = new ArraySchema { Items = SiteUser },
        },
    };

    private static readonly ObjectSchema RegistryCredentials = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["domain"] = Text,
            ["username"] = Text,
            ["password"] = Secret,
            ["encodedPassword"] = Boolean,
            ["insecure"] = Boolean,
        },
        Rules = o =>
        {
            if (o["domain"] is null)
            {
                o.Error("domain", "registry credentials need domain", "add domain: registry.example.com");
            }

            if (o.IsTrue("encodedPassword") && o.StringOf("password") is { } password && !IsBase64(password))
            {
                o.Error("password", "encodedPassword is true but the password is not base64", "encode it with: printf %s 'PASSWORD' | base64");
            }
        },
    };

    /// <summary>An entry of <c>externalRegistries.registries</c>: the credentials of <see cref="RegistryCredentials"/> and more.</summary>
    private static readonly ObjectSchema ExternalRegistry = new()
    {
        Properties = RegistryCredentials.Properties.Concat(
        [
            new KeyValuePair<string, SchemaNode>("repositoryName", Text),
            new KeyValuePair<string, SchemaNode>("certificates", new ArraySchema { Items = PemCertificate }),
        ]).ToDictionary(),
        Rules = RegistryCredentials.Rules,
    };

    private static readonly ObjectSchema Stylus = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["site"] = Site,
            ["registryCredentials"] = RegistryCredentials,
            ["externalRegistries"] = new ObjectSchema
            {
                Properties = new Dictionary<string, SchemaNode> { ["registries"] = new ArraySchema { Items = ExternalRegistry } },
            },
            ["managementMode"] = new StringSchema { Enum = ["central", "local"] },
            ["installationMode"] = new StringSchema { Enum = ["connected", "airgap"] },
            ["debug"] = Boolean,
            ["trace"] = Boolean,
            ["includeTui"] = Boolean,
            ["disablePasswordUpdate"] = Boolean,
            ["localUI"] = new ObjectSchema
            {
                Properties = new Dictionary<string, SchemaNode> { ["port"] = new IntegerSchema { Minimum = 1, Maximum = 65535 } },
            },
        },
        Rules = o =>
        {
            var local = o.StringOf("managementMode") == "local";
            if (o.Child("site") is not { } siteCheck)
            {
                return;
            }

            var hasToken = siteCheck["edgeHostToken"] is not null;
            if (local && hasToken)
            {
                o.Warning("site", "edgeHostToken is ignored in local management mode", "remove it, or set managementMode: central");
            }
            else if (!local && !hasToken && siteCheck["registrationURL"] is null)
            {
                o.Error("site", "central registration needs edgeHostToken (or registrationURL for QR-code registration)",
                    "add edgeHostToken: <registration token>, or set managementMode: local");
            }
            else if (!local && siteCheck["paletteEndpoint"] is null)
            {
                o.Warning("site", "paletteEndpoint is not set: the host registers with api.spectrocloud.com", "set paletteEndpoint for a self-hosted Palette");
            }
        },
    };

    private static readonly ObjectSchema Partition = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["size"] = new IntegerSchema { Minimum = 0 },
            ["fs"] = new StringSchema { Enum = ["ext2", "ext3", "ext4", "xfs", "btrfs", "vfat"] },
            ["label"] = Text,
            ["name"] = Text,
        },
    };

    private static readonly ObjectSchema Install = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["auto"] = Boolean,
            ["device"] = new StringSchema { Pattern = DevicePattern(), PatternHint = "use auto or a device path such as /dev/sda" },
            ["reboot"] = Boolean,
            ["poweroff"] = Boolean,
            ["no-format"] = Boolean,
            ["force"] = Boolean,
            ["image"] = Text,
            ["partitions"] = new MapSchema { Values = Partition },
            ["extra-partitions"] = new ArraySchema { Items = Partition },
            ["bind_mounts"] = new ArraySchema { Items = new StringSchema { Pattern = AbsolutePathPattern(), PatternHint = "use absolute paths, e.g. /var/lib/extra" } },
            ["ephemeral_mounts"] = new ArraySchema { Items = new StringSchema { Pattern = AbsolutePathPattern(), PatternHint = "use absolute paths" } },
            ["grub_options"] = new MapSchema { Values = Text },
            ["encrypted_partitions"] = TextList,
            ["system"] = new AnySchema(),
            ["recovery-system"] = new AnySchema(),
        },
        Rules = o =>
        {
            if (o.IsTrue("reboot") && o.IsTrue("poweroff"))
            {
                o.Error("poweroff", "reboot and poweroff cannot both be true", "keep one of them");
            }
        },
    };

    private static readonly ObjectSchema StageUser = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["name"] = LinuxUserName,
            ["passwd"] = Secret,
            ["groups"] = TextList,
            ["ssh_authorized_keys"] = TextList,
            ["primary_group"] = Text,
            ["shell"] = Text,
            ["homedir"] = Text,
            ["uid"] = Text,
            ["lock_passwd"] = Boolean,
            ["no_create_home"] = Boolean,
            ["system"] = Boolean,
        },
    };

    private static readonly ObjectSchema StageFile = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["path"] = new StringSchema { Pattern = AbsolutePathPattern(), PatternHint = "use an absolute path" },
            ["content"] = Text,
            ["permissions"] = new IntegerSchema { Minimum = 0, Maximum = 4095 },
            ["owner"] = new IntegerSchema { Minimum = 0 },
            ["group"] = new IntegerSchema { Minimum = 0 },
            ["owner_string"] = Text,
            ["encoding"] = new StringSchema { Enum = ["", "b64", "base64", "gz", "gzip", "gz+base64", "gzip+base64", "gz+b64", "gzip+b64"] },
        },
        Rules = o =>
        {
            if (o["path"] is null)
            {
                o.Error("path", "a file needs path", "add path: /etc/…");
            }
        },
    };

    private static readonly ObjectSchema Step = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["name"] = Text,
            ["if"] = Text,
            ["commands"] = new ArraySchema { Items = new StringSchema() },
            ["files"] = new ArraySchema { Items = StageFile },
            ["directories"] = new ArraySchema { Items = new AnySchema() },
            ["users"] = new MapSchema { Values = StageUser, KeyPattern = UserNamePattern(), KeyHint = LinuxUserName.PatternHint },
            ["hostname"] = Text,
            ["dns"] = new AnySchema(),
            ["modules"] = TextList,
            ["sysctl"] = new MapSchema { Values = Text },
            ["environment"] = new MapSchema { Values = Text },
            ["environment_file"] = Text,
            ["systemctl"] = new ObjectSchema
            {
                Properties = new Dictionary<string, SchemaNode>
                {
                    ["enable"] = TextList, ["disable"] = TextList, ["start"] = TextList, ["mask"] = TextList, ["overrides"] = new AnySchema(),
                },
            },
            ["timesyncd"] = new MapSchema { Values = Text },
            ["datasource"] = new AnySchema(),
            ["layout"] = new AnySchema(),
            ["ensure_entities"] = new AnySchema(),
            ["delete_entities"] = new AnySchema(),
            ["downloads"] = new AnySchema(),
            ["git"] = new AnySchema(),
            ["unpack_images"] = new AnySchema(),
            ["only_os"] = Text,
            ["only_os_version"] = Text,
            ["only_arch"] = Text,
            ["systemd_firstboot"] = new MapSchema { Values = Text },
            ["node"] = Text,
        },
    };

    private static readonly ObjectSchema TopLevelUser = new()
    {
        Properties = StageUser.Properties.Concat([new KeyValuePair<string, SchemaNode>("ssh_keys", TextList)]).ToDictionary(),
        Rules = o =>
        {
            if (o["name"] is null)
            {
                o.Error("name", "a user needs name", "add name: <user name>");
            }
        },
    };

    public static ObjectSchema Root { get; } = new()
    {
        Properties = new Dictionary<string, SchemaNode>
        {
            ["stylus"] = Stylus,
            ["install"] = Install,
            ["stages"] = new MapSchema
            {
                Values = new ArraySchema { Items = Step },
                KnownKeys = StageNames,
                KeyHint = "stage names are rootfs, initramfs, boot, fs, network, reconcile, after-install, … (optionally .before/.after)",
            },
            ["users"] = new ArraySchema { Items = TopLevelUser },
            ["hostname"] = Text,
            ["reset"] = new AnySchema(),
            ["upgrade"] = new AnySchema(),
            ["debug"] = Boolean,
            ["strict"] = Boolean,
            ["config_url"] = Url,
            ["k3s"] = new AnySchema(),
            ["k3s-agent"] = new AnySchema(),
            ["k8s"] = new AnySchema(),
            // Further Kairos sections (and the cloud-init keys Kairos reads) this schema does not describe: known, so that
            // they are neither warned about nor mistaken for a near miss of a described key (k0s for k3s).
            ["k0s"] = new AnySchema(),
            ["k0s-worker"] = new AnySchema(),
            ["p2p"] = new AnySchema(),
            ["kubevip"] = new AnySchema(),
            ["bundles"] = new AnySchema(),
            ["options"] = new AnySchema(),
            ["fail_on_bundles_errors"] = new AnySchema(),
            ["runcmd"] = new AnySchema(),
            ["bootcmd"] = new AnySchema(),
            ["write_files"] = new AnySchema(),
            ["ssh_authorized_keys"] = new AnySchema(),
            ["growpart"] = new AnySchema(),
        },
    };

    private static List<string> ExpandStages(params string[] names) =>
        names.SelectMany(n => new[] { n, n + ".before", n + ".after" }).ToList();

    private static bool IsCidr(string value)
    {
        var slash = value.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(value[..slash], out var address) || !int.TryParse(value[(slash + 1)..], out var bits))
        {
            return false;
        }

        return bits >= 0 && bits <= (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32);
    }

    private static bool IsBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out _);
    }

    private static string Short(string value) => value.Length <= 40 ? value : value[..37] + "...";

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,30}$")]
    private static partial Regex UserNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex HostNamePattern();

    [GeneratedRegex(@"^(https?://)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?/?$")]
    private static partial Regex EndpointPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.:@-]{1,15}$")]
    private static partial Regex InterfaceNamePattern();

    [GeneratedRegex(@"^(auto|/dev/\S+)$")]
    private static partial Regex DevicePattern();

    [GeneratedRegex(@"^/\S*$")]
    private static partial Regex AbsolutePathPattern();
}
