#!/usr/bin/env bash
# The real tools the test suite runs, installed when missing (idempotent; Debian's packages, as root or with sudo).
# `npm test` calls this one script (in .ci/run too), so the list cannot drift between a laptop and CI; it covers
# `npm run e2e` as well, since the integration lane runs the e2e's real engine (ops on release tasks).
# Where nothing can be installed (no apt-get, not root and no password-less sudo), it names what is missing and exits 1
# before any test runs: a missing tool is never a skipped test.
set -euo pipefail

case "${1:-}" in
  '') ;;
  -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "install-test-tools: unknown option $1 (options: --help)" >&2; exit 2 ;;
esac

# "what the suite runs|Debian package": a command on PATH, or an absolute path.
tools=(
  "cloud-init|cloud-init"                           # validates the generated cloud-config (cloud-init schema)
  "haproxy|haproxy"                                 # checks the generated load-balancer configuration (haproxy -c)
  "/usr/lib/postgresql/15/bin/initdb|postgresql-15" # the restore drill and the role checks run a real PostgreSQL 15
  "redis-server|redis-server"                       # the restore drill and the ACL checks run a real Redis
  "redis-cli|redis-tools"
  "age|age"                                         # the backup job encrypts its dumps with age
  "dpkg:busybox|busybox"                            # the alpine images' shell and applets (health checks, volume guard);
                                                    # busybox-static does not do: its wget crashes in static glibc's NSS
  "wget|wget"                                       # the backup job's heartbeat in the restore drill: Debian's busybox 1.35
                                                    # wget crashes on -T (alpine's applet takes it), GNU wget takes the same options
  "pgrep|procps"
  "openssl|openssl"                                 # the e2e mock provider's AutoMTLS certificate
  "git|git"                                         # the README and pipeline tests work in fresh clones
  "dockerd|docker.io"                               # the Swarm service test and the e2e run dockerds of their own
  "ip|iproute2"                                     # the Swarm test's daemon brings up the loopback of its own network namespace
  "curl|curl"                                       # scripts/swarm/join sends the join request to the host's Docker socket with it
  "/usr/sbin/sshd|openssh-server"                   # the agent-mode swarm joins: Terraform's SSH client logs in to an sshd the test
                                                    # starts itself (no use of the system's ssh service); brings ssh-keygen too
)

missing_packages=()
for entry in "${tools[@]}"; do
  tool="${entry%%|*}" package="${entry##*|}"
  case "$tool" in
    /*) [ -x "$tool" ] && continue ;;
    dpkg:*) [ "$(dpkg-query -W -f='${Status}' "${tool#dpkg:}" 2>/dev/null)" = "install ok installed" ] && continue ;;
    *) command -v "$tool" >/dev/null && continue ;;
  esac
  [[ " ${missing_packages[*]} " == *" $package "* ]] || missing_packages+=("$package")
done
# promtool and amtool (the monitoring validators) come out of Debian's prometheus packages without installing them:
# their maintainer scripts would start the Prometheus and Alertmanager daemons.
need_validators=false
command -v promtool >/dev/null && command -v amtool >/dev/null || need_validators=true

sudo_cmd=()
can_install=true
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo_cmd=(sudo -n); else can_install=false; fi
fi
command -v apt-get >/dev/null || can_install=false

# apt-get download with the package lists as they are, and again after refreshing them: a machine with every package
# installed may have stale lists (or none), which the install branch below refreshes only when it installs something.
apt_download() {
  apt-get download -qq "$@" 2>/dev/null || { "${sudo_cmd[@]}" apt-get update -qq && apt-get download -qq "$@"; }
}

if [ "${#missing_packages[@]}" -gt 0 ] || $need_validators; then
  if ! $can_install; then
    echo "install-test-tools: these tools are missing and cannot be installed here (needs apt-get, and root or password-less sudo):" >&2
    [ "${#missing_packages[@]}" -gt 0 ] && echo "  apt-get install -y --no-install-recommends ${missing_packages[*]}" >&2
    $need_validators && echo "  promtool and amtool (Debian's prometheus and prometheus-alertmanager packages)" >&2
    exit 1
  fi
  echo "install-test-tools: installing ${missing_packages[*]}$($need_validators && echo ' promtool amtool')" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  if [ "${#missing_packages[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
  fi
  if $need_validators; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    chmod 777 "$work" # _apt cannot write into a mktemp directory
    (cd "$work" && apt_download prometheus prometheus-alertmanager && for deb in ./*.deb; do dpkg-deb -x "$deb" extracted; done)
    "${sudo_cmd[@]}" install -m 0755 "$work/extracted/usr/bin/promtool" "$work/extracted/usr/bin/amtool" /usr/local/bin/
  fi
fi

# The e2e's stand-in images (npm run e2e, and the integration lane's ops on a real engine) need a busybox with every applet the synthesized commands run (crond for the backup job):
# busybox-static has it, Debian's dynamic busybox does not. The two packages replace each other, and the restore drill
# needs the dynamic one installed, so the static binary is only extracted, to a path of its own.
E2E_BUSYBOX=/usr/local/lib/manacore-e2e/busybox
if [ ! -x "$E2E_BUSYBOX" ]; then
  if ! $can_install; then echo "install-test-tools: $E2E_BUSYBOX (from Debian's busybox-static) is missing and cannot be installed here" >&2; exit 1; fi
  busybox_work="$(mktemp -d)"
  chmod 777 "$busybox_work" # _apt cannot write into a mktemp directory
  (cd "$busybox_work" && apt_download busybox-static && dpkg-deb -x ./busybox-static*.deb extracted)
  "${sudo_cmd[@]}" install -D -m 0755 "$busybox_work/extracted/bin/busybox" "$E2E_BUSYBOX"
  rm -rf "$busybox_work"
fi

# The postgres metrics exporter's real binary (Debian's prometheus-postgres-exporter 0.11.1), for the Swarm integration
# test's exporter image: only extracted, since installing the package would start its daemon.
E2E_POSTGRES_EXPORTER=/usr/local/lib/manacore-e2e/postgres_exporter
if [ ! -x "$E2E_POSTGRES_EXPORTER" ]; then
  if ! $can_install; then echo "install-test-tools: $E2E_POSTGRES_EXPORTER (from Debian's prometheus-postgres-exporter) is missing and cannot be installed here" >&2; exit 1; fi
  exporter_work="$(mktemp -d)"
  chmod 777 "$exporter_work" # _apt cannot write into a mktemp directory
  (cd "$exporter_work" && apt_download prometheus-postgres-exporter && dpkg-deb -x ./prometheus-postgres-exporter*.deb extracted)
  "${sudo_cmd[@]}" install -D -m 0755 "$exporter_work/extracted/usr/bin/prometheus-postgres-exporter" "$E2E_POSTGRES_EXPORTER"
  rm -rf "$exporter_work"
fi

# Terraform is not a Debian package: these machines come with it (1.11), and nothing here can download it.
if ! command -v terraform >/dev/null; then
  echo "install-test-tools: terraform 1.11 is required (the migration and e2e tests run it) and is not on PATH;" >&2
  echo "  it is not a Debian package: install it from HashiCorp's release archive on a machine with access." >&2
  exit 1
fi
