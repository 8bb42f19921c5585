#!/bin/bash
# Bramble's first boot, part 1 (run as root from the boot partition by cloud-init's runcmd or by
# firstrun.sh): installs the binary, the units, /etc/bramble/env and the bundle onto the root file
# system, moves offline images and .debs to /var/lib/bramble-setup, enables the units, then
# deletes bramble/ from the boot partition: the bundle's CA key, the token and everything else
# leave the FAT file system at the first boot. Part 2 (setup.sh, bramble-setup.service) installs
# Docker and loads the images once the network is up. Written by prepare-sd; safe to run again.
set -u
# One function, called on the last line: bash has read all of it before it deletes this file.
main() {
  src=$(cd "$(dirname "$0")" && pwd)
  stage=/var/lib/bramble-setup
  log=/var/log/bramble-firstboot.log
  exec > >(tee -a "$log") 2>&1
  echo "bramble first boot: installing from $src"

  [ -f "$src/bramble" ] || { echo "bramble first boot: $src/bramble is missing: nothing to install"; exit 1; }
  # Every copy must succeed before $src (the only copy) is deleted below: a full root stops here.
  local failed="bramble first boot: a copy failed (root file system full?); $src is kept on the boot partition for another try"
  install -d -m 0700 /etc/bramble "$stage" || { echo "$failed"; exit 1; }
  install -m 0755 "$src/bramble" /usr/local/bin/bramble || { echo "$failed"; exit 1; }
  install -m 0644 "$src/bramble.service" /etc/systemd/system/bramble.service || { echo "$failed"; exit 1; }
  install -m 0644 "$src/bramble-setup.service" /etc/systemd/system/bramble-setup.service || { echo "$failed"; exit 1; }
  install -m 0755 "$src/setup.sh" "$stage/setup.sh" || { echo "$failed"; exit 1; }
  install -m 0600 "$src/env" /etc/bramble/env || { echo "$failed"; exit 1; }
  if [ -d "$src/bundle" ]; then
    rm -rf /etc/bramble/bundle
    cp -r "$src/bundle" /etc/bramble/bundle || { echo "$failed"; exit 1; }
    chmod -R go-rwx /etc/bramble/bundle
  fi
  for dir in images debs; do
    if [ -d "$src/$dir" ]; then rm -rf "${stage:?}/$dir"; cp -r "$src/$dir" "$stage/$dir" || { echo "$failed"; exit 1; }; fi
  done
  : >"$stage/pending"
  if [ -f "$src/enable-ssh" ]; then systemctl enable ssh; fi
  systemctl daemon-reload
  systemctl enable bramble-setup.service bramble.service
  rm -rf "$src"
  sync
  echo "bramble first boot: installed; $src removed from the boot partition"
  # From cloud-init the system is up: start now (no-block: cloud-final must not wait on it).
  # From firstrun.sh the board reboots next, and the enabled units start then.
  if [ "${1:-}" = --now ]; then
    # cloud-init has applied its seed (network-config holds the Wi-Fi passphrase): it runs no more,
    # and the seed files leave the boot partition too.
    touch /etc/cloud/cloud-init.disabled
    boot=$(dirname "$src")
    rm -f "$boot/user-data" "$boot/meta-data" "$boot/network-config"
    sync
    systemctl start --no-block bramble-setup.service bramble.service
  fi
}
main "$@"
