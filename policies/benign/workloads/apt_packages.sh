#!/bin/bash
# apt-get install and purge of two small Debian packages whose maintainer
# scripts add a system user (vnstat), systemd units (both) and a cron file
# (sysstat: /etc/cron.d/sysstat).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends vnstat sysstat
getent passwd vnstat
ls -l /etc/cron.d/sysstat /lib/systemd/system/vnstat.service /lib/systemd/system/sysstat.service
apt-get purge -y vnstat sysstat
