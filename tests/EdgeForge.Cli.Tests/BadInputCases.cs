using System.Security.Cryptography;
using static EdgeForge.Cli.Tests.ValidProject;

namespace EdgeForge.Cli.Tests;

/// <summary>One broken input: how to break a valid project, and what the report must name (file:line, key).</summary>
internal sealed record BadInput(Action<ValidProject> Break, string[] Expect, string[]? Arguments = null);

/// <summary>
/// Every way of getting an input wrong that the tool must catch before any heavy work: each must give exit code 2, name
/// the key or the line, and never print a stack trace.
/// </summary>
internal static class BadInputCases
{
    private static readonly string ArgLine = $".arg:{NextArgLine}: error:";
    private static readonly string DockerLine = $"Dockerfile:{NextDockerfileLine}: error:";

    public static readonly IReadOnlyDictionary<string, BadInput> All = new Dictionary<string, BadInput>
    {
        // .arg: typos of known keys are errors with the suggestion
        ["arg: K8s_VERSION typo"] = Arg("K8s_VERSION=1.30.14", "K8s_VERSION", "did you mean K8S_VERSION?"),
        ["arg: CUSTOM_TAGS typo"] = Arg("CUSTOM_TAGS=x", "CUSTOM_TAGS", "did you mean CUSTOM_TAG?"),
        ["arg: IMAGE_REGISTERY typo"] = Arg("IMAGE_REGISTERY=r.io", "IMAGE_REGISTERY", "did you mean IMAGE_REGISTRY?"),
        ["arg: OS_DISTRIBUTON typo"] = Arg("OS_DISTRIBUTON=ubuntu", "did you mean OS_DISTRIBUTION?"),
        ["arg: K8S_DISTRIBUTON typo"] = Arg("K8S_DISTRIBUTON=k3s", "did you mean K8S_DISTRIBUTION?"),
        ["arg: lowercase iso_name"] = Arg("iso_name=x", "did you mean ISO_NAME?"),
        ["arg: FIPS_ENABLE typo"] = Arg("FIPS_ENABLE=true", "did you mean FIPS_ENABLED?"),
        ["arg: PE_VERSON typo"] = Arg("PE_VERSON=v4.4.12", "did you mean PE_VERSION?"),
        ["arg: secret in .arg"] = Arg("UBUNTU_PRO_KEY=C1abc", "UBUNTU_PRO_KEY", "secret"),
        // .arg: syntax
        ["arg: line without ="] = Arg("JUST TEXT", "expected KEY=VALUE"),
        ["arg: invalid key name"] = Arg("1ABC=x", "not a valid key name"),
        ["arg: unterminated double quote"] = Arg("CUSTOM_TAG=\"lab", "unterminated double quote"),
        ["arg: unterminated single quote"] = Arg("CUSTOM_TAG='lab", "unterminated single quote"),
        ["arg: text after quote"] = Arg("CUSTOM_TAG=\"lab\" x", "after the closing quote"),
        ["arg: unterminated variable"] = Arg("IMAGE_REPO=${OS_DISTRIBUTION", "unterminated ${"),
        ["arg: malformed variable"] = Arg("IMAGE_REPO=${1X}", "not a variable reference"),
        // .arg: values
        ["arg: uppercase custom tag"] = Arg("CUSTOM_TAG=Palette_Learn", "CUSTOM_TAG", "invalid image tag"),
        ["arg: custom tag with space"] = Arg("CUSTOM_TAG=\"two words\"", "CUSTOM_TAG"),
        ["arg: custom tag too long"] = Arg("CUSTOM_TAG=" + new string('a', 120), "CUSTOM_TAG", "128"),
        ["arg: registry with scheme"] = Arg("IMAGE_REGISTRY=https://ttl.sh", "IMAGE_REGISTRY", "scheme"),
        ["arg: registry with underscore"] = Arg("IMAGE_REGISTRY=my_registry.example.com", "IMAGE_REGISTRY", "'_'"),
        ["arg: registry port out of range"] = Arg("IMAGE_REGISTRY=r.example.com:99999", "IMAGE_REGISTRY", "port"),
        ["arg: registry uppercase namespace"] = Arg("IMAGE_REGISTRY=r.example.com/Edge", "IMAGE_REGISTRY", "namespace"),
        ["arg: registry trailing slash"] = Arg("IMAGE_REGISTRY=ttl.sh/", "IMAGE_REGISTRY", "'/'"),
        ["arg: registry missing"] = new(p => p.Write(".arg", ValidProject.Arg.Replace("IMAGE_REGISTRY=registry.example.com/edge\n", "")), [".arg: error: IMAGE_REGISTRY: is not set"]),
        ["arg: repo invalid"] = Arg("IMAGE_REPO=\"My Repo\"", "IMAGE_REPO"),
        ["arg: os without default image"] = Arg("OS_DISTRIBUTION=rhel", "OS_DISTRIBUTION", "BASE_IMAGE is required"),
        ["arg: os name uppercase"] = Arg("OS_DISTRIBUTION=Ubuntu", "OS_DISTRIBUTION"),
        ["arg: ubuntu 18.04"] = Arg("OS_VERSION=18.04", "OS_VERSION", "no default base image"),
        ["arg: leap 15.5"] = new(p => { p.AppendArg("OS_DISTRIBUTION=opensuse-leap"); p.AppendArg("OS_VERSION=15.5"); }, [".arg:11: error: OS_VERSION:"]),
        ["arg: unknown distribution with suggestion"] = Arg("K8S_DISTRIBUTION=k3", "K8S_DISTRIBUTION", "did you mean k3s?"),
        ["arg: unsupported distribution"] = Arg("K8S_DISTRIBUTION=eks", "K8S_DISTRIBUTION", "not a supported distribution"),
        ["arg: k8s version with v"] = Arg("K8S_VERSION=v1.30.14", "K8S_VERSION", "leading 'v'"),
        ["arg: k8s version with suffix"] = Arg("K8S_VERSION=1.30.14+k3s1", "K8S_VERSION", "build suffix"),
        ["arg: k8s version two parts"] = Arg("K8S_VERSION=1.30", "K8S_VERSION", "x.y.z"),
        ["arg: k8s version not listed"] = Arg("K8S_VERSION=1.99.0", "K8S_VERSION", "not listed for k3s"),
        ["arg: iso name with space"] = Arg("ISO_NAME=\"My ISO\"", "ISO_NAME"),
        ["arg: iso name with extension"] = Arg("ISO_NAME=installer.iso", "ISO_NAME"),
        ["arg: arch x86_64"] = Arg("ARCH=x86_64", "ARCH", "write ARCH=amd64"),
        ["arg: arch riscv64"] = Arg("ARCH=riscv64", "ARCH", "amd64 or arm64"),
        ["arg: agent version without v"] = Arg("PE_VERSION=4.4.12", "PE_VERSION", "write v4.4.12"),
        ["arg: agent version latest"] = Arg("PE_VERSION=latest", "PE_VERSION"),
        ["arg: base image with scheme"] = Arg("BASE_IMAGE=https://quay.io/kairos/ubuntu:22.04", "BASE_IMAGE", "scheme"),
        ["arg: base image uppercase repo"] = Arg("BASE_IMAGE=quay.io/Kairos/ubuntu:22.04", "BASE_IMAGE", "repository"),
        ["arg: base image bad tag"] = Arg("BASE_IMAGE=quay.io/kairos/ubuntu:-bad", "BASE_IMAGE", "tag"),
        ["arg: base image short digest"] = Arg("BASE_IMAGE=quay.io/kairos/ubuntu@sha256:abc", "BASE_IMAGE", "digest"),
        ["arg: fips with k3s"] = Arg("FIPS_ENABLED=true", "FIPS_ENABLED", "rke2 or kubeadm-fips"),
        ["arg: fips without base image"] = new(p => { p.AppendArg("K8S_DISTRIBUTION=rke2"); p.AppendArg("FIPS_ENABLED=true"); }, [".arg:11: error: FIPS_ENABLED:", "BASE_IMAGE"]),
        ["arg: fips with kernel update"] = new(p =>
        {
            p.AppendArg("K8S_DISTRIBUTION=kubeadm-fips");
            p.AppendArg("BASE_IMAGE=r.example.com/ubuntu-fips:22.04");
            p.AppendArg("FIPS_ENABLED=true");
            p.AppendArg("UPDATE_KERNEL=true");
        }, [".arg:13: error: UPDATE_KERNEL:", "FIPS"]),
        ["arg: update kernel on leap"] = new(p => { p.AppendArg("OS_DISTRIBUTION=opensuse-leap"); p.AppendArg("OS_VERSION=15.6"); p.AppendArg("UPDATE_KERNEL=true"); },
            [".arg:12: error: UPDATE_KERNEL:", "apt operating systems"]),
        ["arg: fips boolean yes"] = Arg("FIPS_ENABLED=yes", "FIPS_ENABLED", "not a boolean"),
        ["arg: update kernel 1"] = Arg("UPDATE_KERNEL=1", "UPDATE_KERNEL", "not a boolean"),
        ["arg: two node maybe"] = Arg("TWO_NODE=maybe", "TWO_NODE", "not a boolean"),
        ["arg: kine source ftp"] = Arg("KINE_SOURCE=ftp://mirror.example.com/kine", "KINE_SOURCE", "not an http:// or https:// URL"),
        ["arg: kine source placeholder"] = Arg("KINE_SOURCE=https://mirror.example.com/kine-{os}", "KINE_SOURCE", "placeholders"),
        ["arg: force interactive on"] = Arg("FORCE_INTERACTIVE_INSTALL=on", "FORCE_INTERACTIVE_INSTALL"),
        ["arg: disable selinux no"] = Arg("DISABLE_SELINUX=no", "DISABLE_SELINUX"),
        ["arg: bundle k8s 0"] = Arg("BUNDLE_K8S_AND_AGENT_PROVIDER=0", "BUNDLE_K8S_AND_AGENT_PROVIDER"),
        ["arg: uki own keys maybe"] = Arg("UKI_BRING_YOUR_OWN_KEYS=maybe", "UKI_BRING_YOUR_OWN_KEYS"),
        ["arg: cis on leap"] = new(p => { p.AppendArg("OS_DISTRIBUTION=opensuse-leap"); p.AppendArg("OS_VERSION=15.6"); p.AppendArg("CIS_HARDENING=true"); },
            [".arg:12: error: CIS_HARDENING:", "apt operating systems"]),
        ["arg: uki requested"] = Arg("IS_UKI=true", "IS_UKI", "Trusted Boot"),
        ["arg: both gpu vendors"] = new(p => { p.AppendArg("INSTALL_NVIDIA_GPU_DRIVERS=true"); p.AppendArg("INSTALL_AMD_GPU_DRIVERS=true"); }, [".arg:11: error: INSTALL_AMD_GPU_DRIVERS:", "mutually exclusive"]),
        // GPU drivers: what CanvOS rejects, and what it would skip silently (no apt, not amd64)
        ["arg: nvidia on leap"] = new(p => { p.AppendArg("OS_DISTRIBUTION=opensuse-leap"); p.AppendArg("OS_VERSION=15.6"); p.AppendArg("INSTALL_NVIDIA_GPU_DRIVERS=true"); },
            [".arg:12: error: INSTALL_NVIDIA_GPU_DRIVERS:", "installed with apt"]),
        ["arg: amd on rhel"] = new(p => { p.AppendArg("OS_DISTRIBUTION=rhel"); p.AppendArg("BASE_IMAGE=r.example.com/rhel:9"); p.AppendArg("INSTALL_AMD_GPU_DRIVERS=true"); },
            [".arg:12: error: INSTALL_AMD_GPU_DRIVERS:", "installed with apt"]),
        ["arg: amd on arm64"] = new(p => { p.AppendArg("ARCH=arm64"); p.AppendArg("INSTALL_AMD_GPU_DRIVERS=true"); }, [".arg:11: error: INSTALL_AMD_GPU_DRIVERS:", "ARCH=amd64 only"]),
        ["arg: nvidia requested yes"] = Arg("INSTALL_NVIDIA_GPU_DRIVERS=yes", "INSTALL_NVIDIA_GPU_DRIVERS", "not a boolean"),
        ["arg: nvidia driver type typo"] = Arg("NVIDIA_DRIVER_TYPE=opne", "NVIDIA_DRIVER_TYPE", "not a driver type"),
        ["arg: nvidia release as branch"] = Arg("NVIDIA_DRIVER_BRANCH=580.95.05", "NVIDIA_DRIVER_BRANCH", "write the branch, 580"),
        ["arg: nvidia branch latest"] = Arg("NVIDIA_DRIVER_BRANCH=latest", "NVIDIA_DRIVER_BRANCH", "not a driver branch"),
        ["arg: nvidia imex maybe"] = Arg("NVIDIA_INSTALL_IMEX=maybe", "NVIDIA_INSTALL_IMEX", "not a boolean"),
        ["arg: cuda repo ftp"] = Arg("NVIDIA_CUDA_REPO_URL=ftp://mirror.example.com/cuda", "NVIDIA_CUDA_REPO_URL", "not an http:// or https:// URL"),
        ["arg: amdgpu source prebuilt"] = Arg("AMDGPU_DRIVER_SOURCE=prebuilt", "AMDGPU_DRIVER_SOURCE", "not a driver source"),
        ["arg: amdgpu release latest"] = Arg("AMDGPU_DRIVER_RELEASE=latest", "AMDGPU_DRIVER_RELEASE", "not an amdgpu-install release"),
        ["arg: amdgpu artifact absolute"] = Arg("AMDGPU_ARTIFACT_PATH=/srv/amdgpu.tar.gz", "AMDGPU_ARTIFACT_PATH", "absolute path"),
        ["arg: amdgpu artifact missing"] = new(p => { p.AppendArg("INSTALL_AMD_GPU_DRIVERS=true"); p.AppendArg("AMDGPU_ARTIFACT_PATH=build/amdgpu.tar.gz"); },
            [".arg:11: error: AMDGPU_ARTIFACT_PATH:", "does not exist", "prebuild-amdgpu-artifact.sh"]),
        ["arg: amdgpu artifact not gzip"] = new(p => { p.Write("build/amdgpu.tar.gz", "plain text"); p.AppendArg("INSTALL_AMD_GPU_DRIVERS=true"); p.AppendArg("AMDGPU_ARTIFACT_PATH=build/amdgpu.tar.gz"); },
            ["build/amdgpu.tar.gz: error: AMDGPU_ARTIFACT_PATH:", "not gzip-compressed"]),
        ["arg: amdgpu artifact without module"] = new(p =>
        {
            p.WriteBytes("build/amdgpu.tar.gz", TarGz(("etc/modules-load.d/amdgpu.conf", "amdgpu\n"), ("lib/modules/6.8.0-49-generic/kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko", "in-tree")));
            p.AppendArg("INSTALL_AMD_GPU_DRIVERS=true");
            p.AppendArg("AMDGPU_ARTIFACT_PATH=build/amdgpu.tar.gz");
        }, ["build/amdgpu.tar.gz: error: AMDGPU_ARTIFACT_PATH:", "updates/dkms/amdgpu.ko"]),
        ["arg: proxy without scheme"] = Arg("HTTP_PROXY=proxy.example.com:3128", "HTTP_PROXY", "not a proxy URL"),
        ["arg: proxy ftp"] = Arg("HTTPS_PROXY=ftp://proxy.example.com", "HTTPS_PROXY", "not a proxy URL"),
        ["arg: no proxy garbage"] = Arg("NO_PROXY=localhost,bad entry!", "NO_PROXY", "'bad entry!'"),
        ["arg: proxy cert relative"] = Arg("PROXY_CERT_PATH=certs/proxy.pem", "PROXY_CERT_PATH", "absolute path"),
        ["arg: proxy cert missing"] = Arg("PROXY_CERT_PATH=/nonexistent/edgeforge/proxy.pem", "PROXY_CERT_PATH", "does not exist"),
        ["arg: cluster config not gzip"] = new(p => { p.Write("spc.tgz", "plain text"); p.AppendArg("CLUSTERCONFIG=spc.tgz"); }, ["spc.tgz: error: CLUSTERCONFIG:", "not gzip"]),
        ["arg: cluster config gzip but not tar"] = new(p => { p.WriteBytes("spc.tgz", Gzip(new byte[1024].Select((_, i) => (byte)(i * 7)).ToArray())); p.AppendArg("CLUSTERCONFIG=spc.tgz"); },
            ["spc.tgz", "CLUSTERCONFIG", "not a valid gzip-compressed tar"]),
        ["arg: edge custom config missing"] = Arg("EDGE_CUSTOM_CONFIG=keys/missing.yaml", "EDGE_CUSTOM_CONFIG", "does not exist"),
        ["arg: provider source placeholder typo"] = Arg("K8S_PROVIDER_SOURCE=r.example.com/k8s:{ver}", "K8S_PROVIDER_SOURCE", "{ver}"),
        ["arg: provider source without version"] = Arg("K8S_PROVIDER_SOURCE=r.example.com/k8s-{distribution}:latest", "K8S_PROVIDER_SOURCE", "{version}"),
        ["arg: provider source with scheme"] = Arg("K8S_PROVIDER_SOURCE=https://r.example.com/k8s:{version}", "K8S_PROVIDER_SOURCE", "scheme"),
        ["arg: boot assets missing directory"] = Arg("BOOT_ASSETS=./boot-assets", "BOOT_ASSETS", "does not exist"),
        ["arg: mirror with scheme"] = Arg("BASE_IMAGE_MIRROR=https://mirror.local", "BASE_IMAGE_MIRROR", "scheme"),
        ["arg: squashfs lz4"] = Arg("SQUASHFS_COMPRESSION=lz4", "SQUASHFS_COMPRESSION", "not a compressor"),
        ["arg: squashfs zstd level 30"] = Arg("SQUASHFS_COMPRESSION=zstd:30", "SQUASHFS_COMPRESSION", "out of range"),
        ["arg: squashfs gzip level 0"] = Arg("SQUASHFS_COMPRESSION=gzip:0", "SQUASHFS_COMPRESSION", "out of range"),
        // command line
        ["cli: build-arg without ="] = new(_ => { }, ["--build-arg 'CUSTOM_TAG'", "KEY=VALUE"], ["--build-arg", "CUSTOM_TAG"]),
        ["cli: build-arg typo"] = new(_ => { }, ["--build-arg: error: K8s_VERSION:", "did you mean K8S_VERSION?"], ["--build-arg", "K8s_VERSION=1.29.14"]),
        ["cli: build-arg bad value"] = new(_ => { }, ["--build-arg: error: ARCH:"], ["--build-arg", "ARCH=sparc"]),
        ["cli: version filter not built"] = new(_ => { }, ["--k8s-version: error:", "1.29.14"], ["--k8s-version", "1.29.14"]),
        ["cli: version filter malformed"] = new(_ => { }, ["--k8s-version: error:", "'latest'"], ["--k8s-version", "latest"]),
        ["cli: unknown option"] = new(_ => { }, ["--frobnicate"], ["--frobnicate"]),
        ["cli: missing directory"] = new(p => Directory.Delete(p.Directory, recursive: true), ["no such directory"]),
        // k8s_version.json
        ["k8s: invalid json"] = Versions("{\n  \"k3s\": [\"1.30.14\" \"1.29.14\"]\n}", "k8s_version.json:2:", "invalid JSON"),
        ["k8s: root is a list"] = Versions("[\"1.30.14\"]", "k8s_version.json:1:", "expected a JSON object"),
        ["k8s: list is a string"] = Versions("{\n  \"k3s\": \"1.30.14\"\n}", "k8s_version.json:2:", "expected a list of versions"),
        ["k8s: version is a number"] = Versions("{\n  \"k3s\": [\n    1.30\n  ]\n}", "k8s_version.json:3:", "expected a version string"),
        ["k8s: version with v"] = Versions("{\n  \"k3s\": [\n    \"v1.30.14\"\n  ]\n}", "k8s_version.json:3:", "write 1.30.14"),
        ["k8s: version with suffix"] = Versions("{\n  \"k3s\": [\n    \"1.30.14+k3s1\"\n  ]\n}", "k8s_version.json:3:", "write 1.30.14"),
        ["k8s: version two parts"] = Versions("{\n  \"k3s\": [\n    \"1.30\"\n  ]\n}", "k8s_version.json:3:", "x.y.z"),
        ["k8s: distribution twice"] = Versions("{\n  \"k3s\": [\"1.30.14\"],\n  \"k3s\": [\"1.29.14\"]\n}", "k8s_version.json:3:", "listed twice"),
        ["k8s: null list"] = Versions("{\n  \"k3s\": null\n}", "k8s_version.json:2:", "found null"),
        ["k8s: empty list"] = Versions("{\"k3s\": []}", "K8S_DISTRIBUTION", "lists no versions for k3s"),
        ["k8s: distribution absent"] = Versions("{\"rke2\": [\"1.30.14\"]}", "K8S_DISTRIBUTION", "lists no versions for k3s"),
        ["k8s: trailing garbage"] = Versions("{\"k3s\": [\"1.30.14\"]} x", "k8s_version.json:1:", "invalid JSON"),
        // user-data
        ["user-data: no header"] = UserDataWith(UserData.Replace("#cloud-config\n", ""), "user-data:1:", "#cloud-config"),
        ["user-data: bad indentation"] = UserDataWith(UserData.Replace("  poweroff: true", "  poweroff: true\n   reboot: true"), "user-data:9:", "invalid YAML"),
        ["user-data: tab indentation"] = UserDataWith(UserData.Replace("  poweroff: true", "\tpoweroff: true"), "user-data:8:", "tab"),
        ["user-data: duplicate key"] = UserDataWith(UserData.Replace("  poweroff: true", "  poweroff: true\n  poweroff: false"), "user-data:9:", "duplicate key"),
        // Found by MutationFuzzTests: structures YamlDotNet's parser accepts and its representation model refuses.
        ["user-data: empty key before a mapping"] = UserDataWith(UserData.Replace("  poweroff: true", " : poweroff: true"), "user-data:9:", "invalid YAML"),
        ["user-data: flow garbage before a document marker"] = UserDataWith(UserData.Replace("    projectName: Default", "  [\u00d8L\u00b7 ---\n projectName: Default"), "user-data:", "invalid YAML"),
        ["user-data: unclosed flow"] = UserDataWith(UserData + "extra: [1, 2\n", "user-data:", "invalid YAML"),
        ["user-data: password comment"] = UserDataWith(UserData + "stylus2: x\n".Replace("stylus2: x\n", "") + "", "user-data:", "got null", replace: ("    projectName: Default\n", "    projectName: Default\n  registryCredentials:\n    domain: r.example.com\n    username: bob\n    password: ####\n")),
        ["user-data: ca cert not pem"] = UserDataWith(UserData, "stylus.site.caCerts[0]", "PEM", replace: ("    projectName: Default\n", "    projectName: Default\n    caCerts:\n      - |\n        ------BEGIN CERTIFICATE------\n        ****\n        ------END CERTIFICATE------\n")),
        ["user-data: ca cert damaged"] = UserDataWith(UserData, "stylus.site.caCerts[0]", "does not decode", replace: ("    projectName: Default\n", "    projectName: Default\n    caCerts:\n      - |\n        -----BEGIN CERTIFICATE-----\n        AAAA\n        -----END CERTIFICATE-----\n")),
        ["user-data: reboot and poweroff"] = UserDataWith(UserData, "user-data:8:", "cannot both be true", replace: ("  poweroff: true\n", "  poweroff: true\n  reboot: true\n")),
        ["user-data: static without address"] = UserDataWith(UserData, "interfaces.eth0.ipAddress", "needs ipAddress", replace: ("    projectName: Default\n", "    projectName: Default\n    network:\n      interfaces:\n        eth0:\n          type: static\n")),
        ["user-data: address without mask"] = UserDataWith(UserData, "user-data:11:", "prefix length", replace: ("    projectName: Default\n", "    projectName: Default\n    network:\n      interfaces:\n        eth0:\n          type: static\n          ipAddress: 10.0.0.5\n")),
        ["user-data: gateway not an ip"] = UserDataWith(UserData, "interfaces.eth0.gateway", "not an IP address", replace: ("    projectName: Default\n", "    projectName: Default\n    network:\n      interfaces:\n        eth0:\n          type: static\n          ipAddress: 10.0.0.5/24\n          gateway: router\n")),
        ["user-data: interface type bridge"] = UserDataWith(UserData, "interfaces.eth0.type", "not one of dhcp, static", replace: ("    projectName: Default\n", "    projectName: Default\n    network:\n      interfaces:\n        eth0:\n          type: bridge\n")),
        ["user-data: nameserver not an ip"] = UserDataWith(UserData, "stylus.site.network.nameserver", "not an IP", replace: ("    projectName: Default\n", "    projectName: Default\n    network:\n      nameserver: dns.local\n")),
        ["user-data: proxy without scheme"] = UserDataWith(UserData, "stylus.site.network.httpProxy", "not a proxy URL", replace: ("    projectName: Default\n", "    projectName: Default\n    network:\n      httpProxy: proxy:3128\n")),
        ["user-data: registration url"] = UserDataWith(UserData, "stylus.site.registrationURL", "not an http(s) URL", replace: ("    projectName: Default\n", "    projectName: Default\n    registrationURL: edge-registration\n")),
        ["user-data: management mode"] = UserDataWith(UserData, "stylus.managementMode", "not one of central, local", replace: ("install:\n", "  managementMode: remote\ninstall:\n")),
        ["user-data: no token in central mode"] = UserDataWith(UserData, "stylus.site", "central registration needs edgeHostToken", replace: ("    edgeHostToken: aUAxxxxxxxxx0ChYCrO\n", "")),
        ["user-data: empty token"] = UserDataWith(UserData, "stylus.site.edgeHostToken", "got null", replace: ("    edgeHostToken: aUAxxxxxxxxx0ChYCrO\n", "    edgeHostToken:\n")),
        ["user-data: site is a list"] = UserDataWith("#cloud-config\nstylus:\n  site:\n    - edgeHostToken: x\n", "user-data:4:", "expected a mapping"),
        ["user-data: device name"] = UserDataWith(UserData, "install.device", "not valid", replace: ("  poweroff: true\n", "  poweroff: true\n  device: sda\n")),
        ["user-data: quoted boolean"] = UserDataWith(UserData, "install.poweroff", "quoted string", replace: ("  poweroff: true\n", "  poweroff: \"true\"\n")),
        ["user-data: local ui port"] = UserDataWith(UserData, "stylus.localUI.port", "out of range", replace: ("install:\n", "  localUI:\n    port: 70000\ninstall:\n")),
        ["user-data: local ui port text"] = UserDataWith(UserData, "stylus.localUI.port", "whole number", replace: ("install:\n", "  localUI:\n    port: http\ninstall:\n")),
        ["user-data: user name"] = UserDataWith(UserData, "users[0].name", "not valid", replace: ("  - name: kairos\n", "  - name: Kairos-Admin\n")),
        ["user-data: user without name"] = UserDataWith(UserData, "users[0].name", "needs name", replace: ("  - name: kairos\n    passwd: kairos\n", "  - passwd: kairos\n")),
        ["user-data: stage not a list"] = UserDataWith(UserData + "stages:\n  initramfs:\n    name: x\n", "user-data:14:", "expected a list"),
        ["user-data: commands not a list"] = UserDataWith(UserData + "stages:\n  boot:\n    - commands: echo hi\n", "stages.boot[0].commands", "expected a list"),
        ["user-data: file without path"] = UserDataWith(UserData + "stages:\n  boot:\n    - files:\n        - content: x\n", "stages.boot[0].files[0].path", "needs path"),
        ["user-data: file permissions text"] = UserDataWith(UserData + "stages:\n  boot:\n    - files:\n        - path: /etc/x\n          permissions: rw\n", "permissions", "whole number"),
        ["user-data: stage user name"] = UserDataWith(UserData + "stages:\n  initramfs:\n    - users:\n        Admin:\n          passwd: x\n", "stages.initramfs[0].users.Admin", "not a valid name"),
        ["user-data: encoded password not base64"] = UserDataWith(UserData, "stylus.registryCredentials.password", "not base64",
            replace: ("install:\n", "  registryCredentials:\n    domain: r.example.com\n    password: \"not base64!\"\n    encodedPassword: true\ninstall:\n")),
        ["user-data: credentials without domain"] = UserDataWith(UserData, "stylus.registryCredentials.domain", "need domain", replace: ("install:\n", "  registryCredentials:\n    username: bob\n    password: pw\ninstall:\n")),
        ["user-data: tags file without name"] = UserDataWith(UserData, "stylus.site.tagsFromFile.fileName", "needs fileName", replace: ("    projectName: Default\n", "    projectName: Default\n    tagsFromFile:\n      delimiter: \",\"\n")),
        ["user-data: tags is a list"] = UserDataWith(UserData, "stylus.site.tags", "expected a mapping", replace: ("    projectName: Default\n", "    projectName: Default\n    tags:\n      - a\n")),
        ["user-data: insecure skip verify text"] = UserDataWith(UserData, "stylus.site.insecureSkipVerify", "boolean", replace: ("    projectName: Default\n", "    projectName: Default\n    insecureSkipVerify: sometimes\n")),
        ["user-data: device uid length"] = UserDataWith(UserData, "stylus.site.deviceUIDPaths[0].length", "out of range", replace: ("    projectName: Default\n", "    projectName: Default\n    deviceUIDPaths:\n      - name: /etc/machine-id\n        length: 0\n")),
        ["user-data: relative bind mount"] = UserDataWith(UserData, "install.bind_mounts[0]", "not valid", replace: ("  poweroff: true\n", "  poweroff: true\n  bind_mounts:\n    - var/lib/extra\n")),
        ["user-data: partition fs"] = UserDataWith(UserData, "install.extra-partitions[0].fs", "not one of", replace: ("  poweroff: true\n", "  poweroff: true\n  extra-partitions:\n    - name: data\n      fs: ntfs\n")),
        ["user-data: two documents"] = UserDataWith(UserData + "---\nhostname: x\n", "user-data:13:", "several YAML documents"),
        ["user-data: fips without fips=1"] = new(p =>
        {
            p.AppendArg("K8S_DISTRIBUTION=rke2");
            p.AppendArg("BASE_IMAGE=r.example.com/ubuntu-fips:22.04");
            p.AppendArg("FIPS_ENABLED=true");
        }, ["user-data: error: install.grub_options.extra_cmdline:", "fips=1"]),
        // certs/
        ["certs: not pem"] = new(p => p.Write("certs/bad.crt", "hello\n"), ["certs/bad.crt: error:", "not a PEM certificate"]),
        ["certs: der encoded"] = new(p => p.WriteBytes("certs/der.crt", Convert.FromBase64String(string.Concat(Certificate("CN=DER").Split('\n').Where(l => !l.StartsWith("-----"))))), ["certs/der.crt: error:", "not a PEM certificate"]),
        ["certs: damaged body"] = new(p => p.Write("certs/damaged.pem", "-----BEGIN CERTIFICATE-----\nMIIBdamaged\n-----END CERTIFICATE-----\n"), ["certs/damaged.pem: error:", "does not decode"]),
        ["certs: private key only"] = new(p => p.Write("certs/key.pem", RSA.Create(2048).ExportPkcs8PrivateKeyPem()), ["certs/key.pem: error:", "not a PEM certificate"]),
        ["certs: six dashes"] = new(p => p.Write("certs/dashes.crt", "------BEGIN CERTIFICATE------\nAAAA\n------END CERTIFICATE------\n"), ["certs/dashes.crt: error:", "malformed"]),
        ["certs: empty file"] = new(p => p.Write("certs/empty.crt", ""), ["certs/empty.crt: error:"]),
        // edge custom config
        ["edge config: invalid yaml"] = EdgeConfig("content:\n  signing: [\n", ".edge-custom-config.yaml:", "invalid YAML"),
        ["edge config: no key path"] = EdgeConfig("content:\n  other: 1\n", ".edge-custom-config.yaml:1:", "content.signing.publicKey.base64EncodedValue"),
        ["edge config: not base64"] = EdgeConfig("content:\n  signing:\n    publicKey:\n      base64EncodedValue: \"not base64!\"\n", ".edge-custom-config.yaml:4:", "not valid base64"),
        ["edge config: not pem"] = EdgeConfig(EdgeCustomConfig("hello world"), ".edge-custom-config.yaml:4:", "does not decode to a PEM public key"),
        ["edge config: private key"] = EdgeConfig(EdgeCustomConfig(RSA.Create(2048).ExportRSAPrivateKeyPem()), ".edge-custom-config.yaml:4:", "PRIVATE key"),
        ["edge config: ec key"] = EdgeConfig(EdgeCustomConfig(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfoPem()), ".edge-custom-config.yaml:4:", "not an RSA key"),
        ["edge config: short key"] = EdgeConfig(EdgeCustomConfig(PublicKeyPem(1024)), ".edge-custom-config.yaml:4:", "1024 bits"),
        ["edge config: key is a mapping"] = EdgeConfig("content:\n  signing:\n    publicKey:\n      base64EncodedValue:\n        a: b\n", ".edge-custom-config.yaml:5:", "base64 string"),
        // content bundles
        ["content: not zstd"] = new(p => p.Write("content-site/bundle.zst", "tar data"), ["content-site/bundle.zst: error:", "not zstd"]),
        ["content: empty bundle"] = new(p => p.Write("content-site/empty.zst", ""), ["content-site/empty.zst: error:", "not zstd"]),
        ["content: tar without a header"] = new(p => p.Write("content-site/bundle.tar", "not a tar archive"), ["content-site/bundle.tar: error:", "no ustar header"]),
        ["content: one name twice"] = new(p =>
        {
            p.Write("content-a/core.zst", "");
            File.WriteAllBytes(Path.Combine(p.Directory, "content-a", "core.zst"), [0x28, 0xB5, 0x2F, 0xFD, 0]);
            p.Write("content-b/core.zst", "x");
            File.WriteAllBytes(Path.Combine(p.Directory, "content-b", "core.zst"), [0x28, 0xB5, 0x2F, 0xFD, 0]);
        }, ["content-b/core.zst: error:", "same file name as content-a/core.zst"]),
        // Dockerfile
        ["dockerfile: FROM"] = Docker("FROM ubuntu:22.04", "FROM", "BASE_IMAGE"),
        ["dockerfile: CMD"] = Docker("CMD [\"bash\"]", "CMD", "not supported"),
        ["dockerfile: ENTRYPOINT"] = Docker("ENTRYPOINT /bin/sh", "ENTRYPOINT", "not supported"),
        ["dockerfile: EXPOSE"] = Docker("EXPOSE 80", "EXPOSE", "not supported"),
        ["dockerfile: VOLUME"] = Docker("VOLUME /data", "VOLUME", "bind_mounts"),
        ["dockerfile: SHELL"] = Docker("SHELL [\"/bin/bash\", \"-c\"]", "SHELL", "not supported"),
        ["dockerfile: unknown instruction"] = Docker("RUNN apt-get update", "RUNN", "did you mean RUN?"),
        ["dockerfile: not an instruction"] = Docker("--rm apt-get", "cannot read"),
        ["dockerfile: RUN without command"] = Docker("RUN", "RUN", "needs arguments"),
        ["dockerfile: RUN bad exec form"] = Docker("RUN [\"apt-get\", update]", "RUN", "JSON array"),
        ["dockerfile: RUN mount option"] = Docker("RUN --mount=type=cache,target=/var/cache apt-get update", "RUN", "--mount"),
        ["dockerfile: heredoc"] = Docker("RUN <<EOF", "RUN", "heredocs"),
        ["dockerfile: COPY one argument"] = Docker("COPY files/motd", "COPY", "source and a destination"),
        ["dockerfile: COPY missing source"] = Docker("COPY files/absent /etc/absent", "COPY", "does not exist"),
        ["dockerfile: COPY outside context"] = Docker("COPY ../secret /etc/secret", "COPY", "outside the project directory"),
        ["dockerfile: COPY from stage"] = Docker("COPY --from=builder /out /opt", "COPY", "--from"),
        ["dockerfile: COPY bad chmod"] = Docker("COPY --chmod=rwx files/motd /etc/motd", "COPY", "not supported"),
        ["dockerfile: COPY several sources to file"] = Docker("COPY files/motd .arg /etc/motd", "COPY", "ending in '/'"),
        ["dockerfile: COPY pattern matches nothing"] = Docker("COPY files/*.conf /etc/", "COPY", "matches nothing"),
        ["dockerfile: ADD url"] = Docker("ADD https://example.com/x.tar.gz /opt/", "ADD", "URL"),
        ["dockerfile: ENV without value"] = Docker("ENV EDITOR", "ENV", "has no value"),
        ["dockerfile: ENV bad name"] = Docker("ENV 1X=2", "ENV", "not a valid variable name"),
        ["dockerfile: ENV unterminated quote"] = Docker("ENV A=\"b", "ENV", "unterminated"),
        ["dockerfile: LABEL without value"] = Docker("LABEL team", "LABEL", "not NAME=VALUE"),
        ["dockerfile: ARG two words"] = Docker("ARG A B", "ARG", "exactly one"),
        ["dockerfile: WORKDIR two words"] = Docker("WORKDIR /a /b", "WORKDIR", "exactly one"),
        ["dockerfile: USER without name"] = Docker("USER", "USER", "needs arguments"),
    };

    private static BadInput Arg(string line, params string[] expect) => new(p => p.AppendArg(line), [ArgLine, .. expect]);

    private static BadInput Versions(string json, params string[] expect) => new(p => p.Write("k8s_version.json", json), expect);

    private static BadInput UserDataWith(string text, string expect, string message, (string From, string To)? replace = null) =>
        new(p => p.Write("user-data", replace is { } r ? Replaced(text, r.From, r.To) : text), [expect, message]);

    private static string Replaced(string text, string from, string to) =>
        text.Contains(from, StringComparison.Ordinal) ? text.Replace(from, to, StringComparison.Ordinal) : throw new ArgumentException($"test input lacks '{from}'");

    private static BadInput EdgeConfig(string yaml, params string[] expect) => new(p => p.Write(".edge-custom-config.yaml", yaml), expect);

    private static BadInput Docker(string line, params string[] expect) => new(p => p.AppendDockerfile(line), [DockerLine, .. expect]);

    /// <summary>A gzip-compressed tar of text files, as CanvOS's prebuild script writes its artifact.</summary>
    internal static byte[] TarGz(params (string Name, string Content)[] files)
    {
        using var tar = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(tar, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)),
                });
            }
        }

        return Gzip(tar.ToArray());
    }

    private static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(data);
        }

        return buffer.ToArray();
    }
}
