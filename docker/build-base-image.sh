#!/usr/bin/env bash
# Builds the local stand-in for the official Node.js slim image, for machines that cannot
# reach a container registry: Debian bookworm (minbase, from the mirror apt already uses) plus
# this machine's own `node` binary, imported as one layer. Idempotent: an existing image is
# kept unless --force is given.
#
#   docker/build-base-image.sh [--force]
#
# Environment:
#   MAILWRIGHT_BASE_IMAGE     tag to build (default mailwright-base:local)
#   MAILWRIGHT_DEBIAN_MIRROR  Debian mirror (default: the first Debian URI in /etc/apt/sources.list*)
#   MAILWRIGHT_DEBIAN_SUITE   Debian suite (default bookworm)
#   NODE_BINARY               node binary to copy in (default: `command -v node`)
set -euo pipefail

tag="${MAILWRIGHT_BASE_IMAGE:-mailwright-base:local}"
suite="${MAILWRIGHT_DEBIAN_SUITE:-bookworm}"
force=false
if [ "${1:-}" = "--force" ]; then force=true; fi

log() { printf 'build-base-image: %s\n' "$*" >&2; }

# One build at a time (parallel test workers may all ask for the image): the others wait,
# then find it.
exec 9>"${TMPDIR:-/tmp}/mailwright-base-image.lock"
flock 9

if ! $force && docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag already exists (pass --force to rebuild)"
  exit 0
fi

# shellcheck source=scripts/debian-mirror.sh
source "$(dirname "$0")/../scripts/debian-mirror.sh"
mirror="${MAILWRIGHT_DEBIAN_MIRROR:-$(find_mirror)}"
if [ -z "$mirror" ]; then
  log "no Debian mirror found in /etc/apt/sources.list*; set MAILWRIGHT_DEBIAN_MIRROR"
  exit 1
fi

node_bin="$(readlink -f "${NODE_BINARY:-$(command -v node)}")"
[ -x "$node_bin" ] || { log "node binary not found (set NODE_BINARY)"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap is not installed"; exit 1; }

root="$(mktemp -d "${TMPDIR:-/tmp}/mailwright-base.XXXXXX")"
cleanup() { rm -rf "$root"; }
trap cleanup EXIT

log "debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -n 30 "$root.log" >&2
  rm -f "$root.log"
  exit 1
}
rm -f "$root.log"

log "adding $node_bin ($("$node_bin" --version))"
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"

# What the image never needs at run time: package caches, lists, docs and man pages.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*
# Inside a container the host's resolver and hostname apply; keep the build host's out.
: >"$root/etc/resolv.conf"
: >"$root/etc/hostname"

log "docker import -> $tag"
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
log "done: $tag ($(docker image inspect --format '{{.Size}}' "$tag") bytes)"
