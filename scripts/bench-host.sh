#!/usr/bin/env bash
# Makes this machine a Bramble benchmark host: Debian's etcd-server (3.4, the side-by-side anchor)
# and etcd-client (etcdctl, handy when a bench misbehaves). Safe to run again: each package is
# installed only when missing, so a warm run takes well under a second. The bench:* npm scripts
# run it first. Needs root on Debian/Ubuntu to install; anywhere else it says what is missing.
set -euo pipefail

say() { printf 'bench-host: %s\n' "$*"; }
die() { printf 'bench-host: %s\n' "$*" >&2; exit 1; }

packages=(etcd-server etcd-client)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ] && command -v etcd >/dev/null; then
  exit 0
fi

[ "$(uname -s)" = Linux ] || die "the benches need Linux (/proc/<pid>/io, /proc/<pid>/stat); this is $(uname -s)"
command -v apt-get >/dev/null || die "install etcd 3.4 (etcd and etcdctl on PATH) by hand: there is no apt-get here"
[ "$(id -u)" = 0 ] || die "run as root once to install ${missing[*]} (apt-get install -y ${missing[*]})"

say "installing ${missing[*]}"
# The package list may be stale or absent on a fresh machine: update once, then install.
if ! apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's package starts an etcd service on 127.0.0.1:2379/2380 where systemd runs; the benches
# start their own members on free ports, so a running packaged service is left alone.
command -v etcd >/dev/null || die "etcd-server is installed but no etcd binary is on PATH"
say "etcd $(etcd --version 2>/dev/null | head -n 1 | sed 's/^etcd Version: //') ready"
