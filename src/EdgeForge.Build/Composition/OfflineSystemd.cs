namespace EdgeForge.Build.Composition;

/// <summary>
/// <c>systemctl enable</c>, <c>disable</c> and <c>mask</c> as systemctl does them on an offline root, as POSIX shell
/// functions for the scripts the RUN sandbox runs: the links of a unit's <c>[Install]</c> section in
/// /etc/systemd/system (systemd.unit(5), "[Install] Section Options"), and a <c>/dev/null</c> link for a mask. systemctl
/// itself needs a running systemd or one it detects as offline, which the sandbox is not.
/// </summary>
internal static class OfflineSystemd
{
    /// <summary>
    /// <c>unit_file NAME</c> prints where the unit is installed (or fails), <c>/lib</c> before <c>/usr/lib</c> as the
    /// systemctl of Debian 12 and Ubuntu 22.04 names it in its links; <c>enable_unit NAME</c> links it into each
    /// <c>WantedBy=</c> target's <c>.wants</c> and under each <c>Alias=</c>, failing for a unit that is not installed or
    /// names no target; <c>disable_unit NAME</c> removes its <c>.wants</c> links; <c>mask_unit NAME</c> disables it and
    /// links it to /dev/null (also a unit that is not installed, as systemctl does).
    /// </summary>
    public const string Functions = """
        unit_file() { for dir in /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system; do if [ -f "$dir/$1" ]; then echo "$dir/$1"; return 0; fi; done; return 1; }
        enable_unit() {
          unit=$(unit_file "$1") || { echo "edgeforge: no unit $1 is installed" >&2; return 1; }
          targets=$(sed -n 's/^WantedBy=//p' "$unit" | tr ' ' '\n' | grep . || true)
          [ -n "$targets" ] || { echo "edgeforge: $1 names no WantedBy= target" >&2; return 1; }
          for target in $targets; do mkdir -p "/etc/systemd/system/$target.wants"; ln -sf "$unit" "/etc/systemd/system/$target.wants/$1"; done
          for alias in $(sed -n 's/^Alias=//p' "$unit"); do ln -sf "$unit" "/etc/systemd/system/$alias"; done
        }
        disable_unit() { if [ -d /etc/systemd/system ]; then find /etc/systemd/system -path "*.wants/$1" -delete; fi; }
        mask_unit() { mkdir -p /etc/systemd/system; disable_unit "$1"; ln -sf /dev/null "/etc/systemd/system/$1"; }
        """;
}
