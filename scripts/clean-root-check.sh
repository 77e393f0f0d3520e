#!/usr/bin/env bash
# Proves that a fresh machine passes: builds a clean Debian bookworm root with debootstrap
# (minbase, from the mirror apt already uses), copies in nothing from this machine but the
# checkout (tracked and untracked files, no node_modules, no build output, no .git), the
# resolver configuration and the CA certificates, then runs `.ci/run` inside it: its install
# steps (Debian packages, Node.js, npm ci), lint, typecheck and `npm test`. Chromium and
# Postfix run inside the root; the test files that need a Docker engine are left out
# with `.ci/run --without-docker`, which prints them.
#
#   sudo scripts/clean-root-check.sh [--keep]
#
# Runs as root. The run happens in private mount and PID namespaces, so its mounts (/proc,
# /sys, /dev, /dev/pts, /dev/shm) and every process it starts end with it, on success,
# failure, timeout or Ctrl-C; the root itself is then deleted (unless --keep).
#
# Environment:
#   MAILWRIGHT_CLEAN_ROOT_TIMEOUT  limit for the whole run inside the root (default 90m)
#   MAILWRIGHT_DEBIAN_MIRROR       Debian mirror (default: the first Debian URI in /etc/apt/sources.list*)
#   MAILWRIGHT_DEBIAN_SUITE        Debian suite (default bookworm)
#   TMPDIR                         where the root is built (default /var/tmp; needs ~4 GB)
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
suite="${MAILWRIGHT_DEBIAN_SUITE:-bookworm}"
limit="${MAILWRIGHT_CLEAN_ROOT_TIMEOUT:-90m}"
keep=false
if [ "${1:-}" = "--keep" ]; then keep=true; fi

log() { printf '\nclean-root-check: %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { log "must run as root (debootstrap, chroot, mounts)"; exit 1; }
for tool in debootstrap unshare chroot timeout git findmnt; do
  command -v "$tool" >/dev/null || { log "$tool is not installed"; exit 1; }
done

# shellcheck source=scripts/debian-mirror.sh
source "$repo/scripts/debian-mirror.sh"
mirror="${MAILWRIGHT_DEBIAN_MIRROR:-$(find_mirror)}"
[ -n "$mirror" ] || { log "no Debian mirror found in /etc/apt/sources.list*; set MAILWRIGHT_DEBIAN_MIRROR"; exit 1; }

started=$SECONDS
root="$(mktemp -d "${TMPDIR:-/var/tmp}/mailwright-clean-root.XXXXXX")"
# mktemp makes it 0700: inside the root that is `/`, which every other user (postfix's daemons
# among them) must be able to traverse.
chmod 0755 "$root"

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # The namespaces took their mounts and processes with them; anything still mounted under
  # the root (an interrupted run of an older version, say) is unmounted before deleting.
  local mounts
  mounts="$(findmnt -rn -o TARGET | grep -F "$root/" | sort -r || true)"
  if [ -n "$mounts" ]; then
    while read -r target; do umount "$target" 2>/dev/null || umount -l "$target" || true; done <<<"$mounts"
  fi
  if $keep; then
    log "kept the root at $root"
  elif findmnt -rn -o TARGET | grep -qF "$root/"; then
    log "mounts remain under $root; not deleting it"
  else
    rm -rf --one-file-system "$root" "$root.debootstrap.log"
  fi
  log "$([ "$status" = 0 ] && echo PASSED || echo "FAILED (status $status)") in $((SECONDS - started)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "debootstrap --variant=minbase $suite from $mirror into $root"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -n 30 "$root.debootstrap.log" >&2
  exit 1
}
log "debootstrap done after $((SECONDS - started)) s"

# The apt sources of a fresh install: the main archive (as debootstrap wrote it), updates and
# security, from the same mirror host.
base="${mirror%/}"
security="${base%/debian}/debian-security"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF

# What a fresh machine has of its own and this one lends it: the resolver and the CA
# certificates (the network may inspect TLS), added as local CAs so that the ca-certificates
# package keeps them when it installs.
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
host_ca=/etc/ssl/certs/ca-certificates.crt
if [ -f "$host_ca" ]; then
  install -D -m 0644 "$host_ca" "$root/usr/local/share/ca-certificates/host-network.crt"
  install -D -m 0644 "$host_ca" "$root/etc/ssl/certs/ca-certificates.crt"
fi
# In a chroot no service may start (postfix, docker): the standard policy-rc.d answer 101.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

log "copying the checkout (git ls-files: tracked and untracked, not ignored)"
mkdir -p "$root/src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
  tar --null -T - -cf -) | tar -xf - -C "$root/src"

log "running .ci/run inside the root (limit $limit)"
# The root cannot run a Docker engine: the files of the suites that need one are left out, visibly.
inside='cd /src && exec .ci/run --without-docker'
env_inside=(
  HOME=/root LANG=C.UTF-8 TERM=dumb
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
)
set +e
timeout --kill-after=30s "$limit" unshare --mount --pid --fork --kill-child --propagation private \
  /bin/bash -euo pipefail -c '
    root="$1"; shift
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --bind /dev "$root/dev"
    mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666,mode=0620
    mount -t tmpfs -o mode=1777,size=1g shm "$root/dev/shm"
    exec chroot "$root" /usr/bin/env -i "$@"
  ' inner "$root" "${env_inside[@]}" /bin/bash -c "$inside"
status=$?
set -e
if [ "$status" = 124 ] || [ "$status" = 137 ]; then log "timed out after $limit"; fi
exit "$status"
