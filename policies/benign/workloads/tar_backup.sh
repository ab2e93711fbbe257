#!/bin/bash
# A tar backup of /etc, listed, then restored into a scratch directory.
set -eu
dir="$1"
tar -czf "$dir/etc-backup.tar.gz" -C / etc 2>/dev/null || [ $? -eq 1 ]
tar -tzf "$dir/etc-backup.tar.gz" | wc -l
mkdir -p "$dir/restore"
tar -xzf "$dir/etc-backup.tar.gz" -C "$dir/restore"
sha256sum "$dir/etc-backup.tar.gz"
