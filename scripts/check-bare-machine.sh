#!/usr/bin/env bash
# The README's two commands on a bare machine (issue 24): a fresh Debian 12 root filesystem (debootstrap, minbase:
# none of the tools the suite runs) with only Node and Terraform copied in from this machine, a fresh clone of
# HEAD with ../shared beside it, and the first ```bash block of README.md run line by line, as written.
# Needs root (debootstrap, chroot, mounts) and Debian's package mirror, as this machine's apt has it.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
[ "$(id -u)" -eq 0 ] || { echo "check-bare-machine: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
[ -d ../shared ] || { echo "check-bare-machine: ../shared is not beside the checkout" >&2; exit 1; }
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }

root="$(mktemp -d /var/tmp/bare-machine.XXXXXX)"
chmod 0755 "$root" # a root directory other users can traverse, as on any machine (PostgreSQL runs as its own user)
machine_pid=""
cleanup() {
  # The machine is a PID namespace: its first process dying (unshare --kill-child) kills every process in it, and its
  # mounts die with its mount namespace; none of them is visible here. So: stop it, wait for it, remove the files.
  if [ -n "$machine_pid" ]; then kill "$machine_pid" 2>/dev/null || true; wait "$machine_pid" 2>/dev/null || true; fi
  # Mounts this host still sees under the root would be a bug of this script: detach them rather than delete through them.
  awk -v root="$root" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/self/mounts | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$root" "$root.debootstrap.log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP # EXIT's trap runs on these too

# This machine's own Debian mirror (deb822 sources, else sources.list): the same packages CI gets.
mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)"
started=$SECONDS
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
echo "check-bare-machine: Debian 12 minbase in $((SECONDS - started)) s"
cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
cp /etc/resolv.conf "$root/etc/resolv.conf"
# A chroot has no init: packages must not start their services (the standard policy-rc.d of chroots).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 0755 "$root/usr/sbin/policy-rc.d"

# What the README assumes a machine has: Node 20 (with npm) and Terraform 1.11. Nothing else.
node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules" && cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
install -m 0755 "$(command -v terraform)" "$root/usr/local/bin/terraform"
[ -f "$HOME/.npmrc" ] && install -D -m 0600 "$HOME/.npmrc" "$root/root/.npmrc"
# The network's trust, not a tool: where this machine reaches the registries through a certificate authority of its
# own (NODE_EXTRA_CA_CERTS), the bare machine gets the same file.
ca_env=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  install -D -m 0644 "$NODE_EXTRA_CA_CERTS" "$root$NODE_EXTRA_CA_CERTS"
  ca_env=(NODE_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS")
fi

mkdir -p "$root/work"
git clone -q "$repo" "$root/work/main"
cp -a ../shared "$root/work/shared"
# The README's first ```bash block, each line as written (its comment stripped).
mapfile -t commands < <(awk '/^```bash$/ { inside = 1; next } inside && /^```$/ { exit } inside' README.md | sed -E 's/[[:space:]]+#.*$//' | grep -v '^[[:space:]]*$')
[ "${#commands[@]}" -ge 2 ] || { echo "check-bare-machine: no commands in README.md's first bash block" >&2; exit 1; }

# The commands run on a machine of its own, not in a chroot: a mount namespace whose root IS the new file system
# (pivot_root, as on a booted machine or in a container) and a PID namespace. In a plain chroot the mount namespace's
# root stays this host's /, and runc puts a process it execs into a container (`docker exec`, every health check)
# at that namespace root: the Swarm test's health checks ran `test -f /tmp/ok` against this host's /tmp, never
# passed, and Swarm killed every replica as unhealthy. On a machine that root is the container's.
machine_env=(HOME=/root TERM=dumb CI="${CI:-}" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${ca_env[@]}")
# shellcheck disable=SC2016 # expanded inside the machine
machine='
set -euo pipefail
root=$1 env_count=$2
shift 2
machine_env=("${@:1:env_count}")
shift "$env_count"
mount --bind "$root" "$root" # pivot_root needs the new root to be a mount point
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
cd "$root" && mkdir .host && pivot_root . .host && umount -l /.host && rmdir /.host
# Shared propagation, as systemd sets up every booted machine (a new peer group, unseen by the host): dockerd bind-mounts
# a data root under a private mount onto itself, and a daemon a test stops leaves that mount behind.
mount --make-rshared /
for command in "$@"; do
  echo "check-bare-machine: \$ $command"
  started=$SECONDS
  cd / && /usr/bin/env -i "${machine_env[@]}" bash -c "cd /work/main && $command" || { echo "check-bare-machine: failed on a bare machine: $command" >&2; exit 1; }
  echo "check-bare-machine: passed in $((SECONDS - started)) s: $command"
done
'
unshare --mount --propagation private --pid --fork --kill-child bash -c "$machine" bare-machine "$root" "${#machine_env[@]}" "${machine_env[@]}" "${commands[@]}" &
machine_pid=$!
wait "$machine_pid"
