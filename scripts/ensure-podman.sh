#!/usr/bin/env bash
# ensure-podman.sh — make a Podman Docker-compatible API service available for
# the local-docker runner's tests, with no registry access.
#
# Usage: scripts/ensure-podman.sh STATE_DIR
#   Installs podman, runc and busybox-static with apt when missing (CI runs as
#   root on a fresh Debian machine), writes a containers.conf that works
#   inside an unprivileged build container (runc, no network namespace),
#   imports a busybox image from a local tarball as "flotilla-test/busybox:latest",
#   starts `podman system service` on STATE_DIR/podman.sock and prints
#   "PID SOCKET CONTAINERS_CONF" on its last line. Idempotent: each step is
#   skipped when already done. The caller stops the service by killing PID.
set -euo pipefail

state_dir=${1:?usage: ensure-podman.sh STATE_DIR}
mkdir -p "$state_dir"
image=flotilla-test/busybox:latest

# Test files run in parallel and each calls this script: one at a time through the install and
# image import (apt and dpkg take a lock of their own and fail rather than wait).
exec 9>"${TMPDIR:-/tmp}/flotilla-ensure-podman.lock"
flock 9

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-podman: missing ${need[*]} and not root; install them with apt-get" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${need[@]}" >&2
fi

conf="$state_dir/containers.conf"
cat >"$conf" <<'CONF'
[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$conf"

if ! podman image exists "$image" 2>/dev/null; then
  rootfs="$state_dir/rootfs"
  rm -rf "$rootfs"
  mkdir -p "$rootfs/bin" "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh echo cat sleep true false env pwd ls printf; do
    ln -sf busybox "$rootfs/bin/$applet"
  done
  tar -C "$rootfs" -cf "$state_dir/busybox.tar" .
  podman import --quiet "$state_dir/busybox.tar" "$image" >&2
fi

flock -u 9
exec 9>&-

sock="$state_dir/podman.sock"
rm -f "$sock"
podman system service --time=0 "unix://$sock" >"$state_dir/service.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  [ -S "$sock" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "ensure-podman: podman system service exited; its log:" >&2
    cat "$state_dir/service.log" >&2
    exit 1
  fi
  sleep 0.1
done
[ -S "$sock" ] || { echo "ensure-podman: socket $sock did not appear in 10s" >&2; kill "$pid"; exit 1; }
echo "$pid $sock $conf"
