#!/usr/bin/env bash
# Installs promtool and amtool, the validators the monitoring tests run on the generated Prometheus and
# Alertmanager configuration, from Debian's own packages. Idempotent: does nothing when both are on PATH.
# Only the two binaries are extracted (`apt-get download` + `dpkg-deb -x`): `apt-get install prometheus`
# would run the packages' maintainer scripts, which start the Prometheus and Alertmanager daemons.
# Grafana Loki and promtail are not packaged by Debian (its "loki" package is a genetics program).
set -euo pipefail
if command -v promtool >/dev/null && command -v amtool >/dev/null; then exit 0; fi
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-cache show prometheus >/dev/null 2>&1; then $sudo_cmd apt-get update -qq; fi
# _apt cannot write into a mktemp directory; fetching as root is what apt then falls back to anyway.
chmod 777 "$work"
apt-get download -qq prometheus prometheus-alertmanager
for deb in ./*.deb; do dpkg-deb -x "$deb" extracted; done
$sudo_cmd install -m 0755 extracted/usr/bin/promtool extracted/usr/bin/amtool /usr/local/bin/
/usr/local/bin/promtool --version 2>&1 | head -1
/usr/local/bin/amtool --version 2>&1 | head -1
