#!/bin/bash
# Bramble's first boot, part 2 (bramble-setup.service, once, after the network is up): installs
# Docker when the image lacks it, from the .debs prepare-sd carried (offline site) or from the
# distribution's archive, and loads the carried image tarballs. Whatever fails is logged and
# bramble.service starts anyway: its Node then says what is missing (Ready=False, ContainerRuntimeUnreachable).
set -u
stage=/var/lib/bramble-setup
echo "bramble setup: starting"
if ! command -v docker >/dev/null; then
  debs=("$stage"/debs/*.deb)
  if [ -f "${debs[0]}" ]; then
    echo "bramble setup: installing Docker from ${#debs[@]} carried .deb files"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${debs[@]}" ||
      echo "bramble setup: the carried .debs did not install (a missing dependency is named above): add it to --debs"
  else
    echo "bramble setup: installing Docker (docker.io) from the archive"
    DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io ||
      echo "bramble setup: Docker did not install (no internet? carry the .debs with prepare-sd --debs)"
  fi
fi
if command -v docker >/dev/null; then
  systemctl enable --now docker
  for tarball in "$stage"/images/*; do
    [ -f "$tarball" ] || continue
    docker load -i "$tarball" && rm -f "$tarball" || echo "bramble setup: docker load $tarball failed"
  done
fi
# Without Docker (no network yet) the next boot tries again: pending stays.
if command -v docker >/dev/null; then
  rm -rf "$stage/debs" "$stage/pending"
  echo "bramble setup: done"
else
  echo "bramble setup: no Docker yet; tried again at the next boot (Bramble runs meanwhile; its Node says ContainerRuntimeUnreachable)"
fi
