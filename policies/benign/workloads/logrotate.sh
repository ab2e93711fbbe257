#!/bin/bash
# logrotate forced over an application's logs with compression and a
# postrotate script, twice (the second run compresses the first rotation).
set -eu
dir="$1"
mkdir -p "$dir/log"
for f in access error; do seq 1 20000 | sed "s/^/$f line /" > "$dir/log/$f.log"; done
cat > "$dir/app.conf" <<CONF
$dir/log/*.log {
    rotate 4
    compress
    delaycompress
    missingok
    notifempty
    create 0640 root adm
    sharedscripts
    postrotate
        touch $dir/reopened
    endscript
}
CONF
logrotate -v -f -s "$dir/state" "$dir/app.conf"
for f in access error; do seq 1 5000 >> "$dir/log/$f.log"; done
logrotate -v -f -s "$dir/state" "$dir/app.conf"
ls -l "$dir/log"
