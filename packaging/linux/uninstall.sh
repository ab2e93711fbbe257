#!/bin/sh
# Removes what install.sh installed.
#
#   uninstall.sh [--purge]
#
# Stops and disables the service, removes the binary, library, rule pack and
# unit. /etc/bm (configuration) and /var/lib/bm (threat store, quarantine vault)
# are kept unless --purge is given; --purge deletes quarantined files too.
set -eu

purge=0
case "${1:-}" in
  "") ;;
  --purge) purge=1 ;;
  -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
  *) printf '%s\n' "uninstall.sh: unknown argument \"$1\"" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  printf '%s\n' "uninstall.sh: needs root" >&2
  exit 2
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now bm.service 2>/dev/null || true
fi
rm -f /usr/bin/bm /usr/lib/bm/libbm_sensor.so /usr/lib/bm/bm_guardian /lib/systemd/system/bm.service
rmdir /usr/lib/bm 2>/dev/null || true
rm -rf /usr/share/bm /usr/share/doc/bm
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
fi
if [ "$purge" -eq 1 ]; then
  rm -rf /etc/bm /var/lib/bm /run/bm
  echo "bm removed with its configuration, threat store and quarantine"
else
  echo "bm removed; kept /etc/bm and /var/lib/bm (run with --purge to delete them)"
fi
