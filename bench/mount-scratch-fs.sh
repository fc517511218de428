#!/usr/bin/env bash
# Makes and mounts a journaled ext4 for `npm run bench -- --work <mountpoint>/tresor-bench`.
#
#   bench/mount-scratch-fs.sh [IMAGE] [MOUNTPOINT]   # defaults: /work/bench-fs.img /mnt/bench
#
# Why: the development VM's root filesystem is ext4 without a journal, where creating files
# right after deleting others is up to 10x slower (docs/performance.md, "Method"); the tools'
# restores would then be timed against what the previous tool deleted. Needs root and a free
# loop device. Idempotent: a mounted MOUNTPOINT is left as it is. Undo: umount, rm IMAGE.
set -euo pipefail
image=${1:-/work/bench-fs.img}
mountpoint=${2:-/mnt/bench}
if findmnt --noheadings --mountpoint "$mountpoint" > /dev/null; then
  echo "$mountpoint is already mounted"
  exit 0
fi
if [ ! -e "$image" ]; then
  truncate --size 16G "$image"   # sparse: takes only what the bench writes
  mkfs.ext4 -q -F "$image"
fi
mkdir -p "$mountpoint"
mount -o loop "$image" "$mountpoint"
findmnt --noheadings --output SOURCE,FSTYPE,OPTIONS --mountpoint "$mountpoint"
