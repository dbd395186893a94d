#!/usr/bin/env bash
# Builds the Debian 12 base image the Containerfile starts from, for machines
# that reach a Debian mirror but no image registry: debootstrap a minimal
# bookworm from the mirror apt already uses and import it into podman.
#
#   deploy/container/base-image.sh [IMAGE]    default IMAGE: localhost/debian:bookworm
#
# Does nothing when the image exists. Needs root, debootstrap and podman.
# Where a registry is reachable, `podman pull docker.io/library/debian:bookworm-slim`
# and `--build-arg BASE=...` do the same.
set -euo pipefail

image=${1:-localhost/debian:bookworm}
if podman image exists "$image"; then
  exit 0
fi

# The first deb822 or one-line source apt uses, else Debian's own mirror.
# shellcheck disable=SC2016 # $(REPO_URI) is apt's field name, not shell.
mirror=$(apt-get indextargets --format '$(REPO_URI)' 2>/dev/null |
  grep -m1 '/debian/$' || true)
mirror=${mirror:-http://deb.debian.org/debian/}

root=$(mktemp -d /var/tmp/pfor-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "base-image: debootstrap bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
# No package caches or lists in the image: stages run apt-get update themselves.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | podman import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "base-image: $image" >&2
