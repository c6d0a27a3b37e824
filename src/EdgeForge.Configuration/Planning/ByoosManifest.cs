using System.Text;

namespace EdgeForge.Configuration.Planning;

/// <summary>
/// The YAML users paste into the <c>edge-native-byoi</c> (BYOS Edge OS) pack of a cluster profile (EDGEFORGE.md §4).
/// Unlike CanvOS, <c>system.uri</c> ends in <c>-{{customTag}}</c> only when the images were tagged with one, and the
/// agent version is the one built, so the manifest always names images that exist.
/// </summary>
public static class ByoosManifest
{
    private const string Options = ".spectro.pack.edge-native-byoi.options";

    public static string Render(BuildPlan plan)
    {
        var settings = plan.Settings;
        var uri = $"{{{{ {Options}.system.registry }}}}/{{{{ {Options}.system.repo }}}}:{{{{ {Options}.system.k8sDistribution }}}}-" +
                  $"{{{{ .spectro.system.kubernetes.version }}}}-{{{{ {Options}.system.peVersion }}}}" +
                  (settings.CustomTag.Length > 0 ? $"-{{{{ {Options}.system.customTag }}}}" : "");
        var yaml = new StringBuilder();
        yaml.Append("pack:\n");
        yaml.Append("  content:\n");
        yaml.Append("    images:\n");
        yaml.Append($"      - image: \"{{{{{Options}.system.uri}}}}\"\n");
        yaml.Append("  # Below config is default value, please uncomment if you want to modify default values\n");
        yaml.Append("  # drain:\n");
        yaml.Append("  #   cordon: true\n");
        yaml.Append("  #   timeout: 60 # The length of time to wait before giving up, zero means infinite\n");
        yaml.Append("  #   gracePeriod: 60 # Period of time in seconds given to each pod to terminate gracefully. If negative, the default value specified in the pod will be used\n");
        yaml.Append("  #   ignoreDaemonSets: true\n");
        yaml.Append("  #   deleteLocalData: true # Continue even if there are pods using emptyDir (local data that will be deleted when the node is drained)\n");
        yaml.Append("  #   force: true # Continue even if there are pods that do not declare a controller\n");
        yaml.Append("  #   disableEviction: false # Force drain to use delete, even if eviction is supported. This will bypass checking PodDisruptionBudgets, use with caution\n");
        yaml.Append("  #   skipWaitForDeleteTimeout: 60 # If pod DeletionTimestamp older than N seconds, skip waiting for the pod. Seconds must be greater than 0 to skip.\n");
        yaml.Append("options:\n");
        yaml.Append($"  system.uri: \"{uri}\"\n");
        yaml.Append('\n');
        yaml.Append($"  system.registry: {Scalar(settings.ImageRegistry)}\n");
        yaml.Append($"  system.repo: {Scalar(settings.ImageRepo)}\n");
        yaml.Append($"  system.k8sDistribution: {Scalar(settings.K8sDistribution)}\n");
        yaml.Append($"  system.osName: {Scalar(settings.OsDistribution)}\n");
        yaml.Append($"  system.peVersion: {Scalar(settings.PeVersion)}\n");
        yaml.Append($"  system.customTag: {Scalar(settings.CustomTag)}\n");
        yaml.Append($"  system.osVersion: {Scalar(settings.OsVersion)}\n");
        return yaml.ToString();
    }

    /// <summary>Quotes a value YAML would otherwise read as something other than this string (22.04 as a number, an empty value as null).</summary>
    private static string Scalar(string value)
    {
        var plainIsString = value.Length > 0 && !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) &&
            value is not ("true" or "false" or "null" or "~" or "yes" or "no") && value.IndexOfAny([':', '#', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`']) < 0;
        return plainIsString ? value : "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }
}
