# Commands an administrator types in an interactive root shell (fed to
# "bash --norc -i" on a pseudo-terminal by admin_session_run.sh).
cd /tmp
cat > /tmp/diskcheck.sh <<'SH'
#!/bin/sh
df -h / | tail -1
uptime
SH
chmod +x /tmp/diskcheck.sh
/tmp/diskcheck.sh
cat > /tmp/hello.c <<'C'
#include <stdio.h>
int main(void) { puts("hello from a.out"); return 0; }
C
cc -O2 -o /tmp/a.out /tmp/hello.c
/tmp/a.out
sed -i '$a 10.0.0.99 bm-benign-recording.internal' /etc/hosts
grep bm-benign /etc/hosts
sed -i '/bm-benign-recording.internal/d' /etc/hosts
crontab -l || true
ls /etc/cron.d /etc/cron.daily
cat /etc/crontab | head -5
useradd --system --no-create-home --shell /usr/sbin/nologin svc-bmrec
id svc-bmrec
userdel svc-bmrec
rm -f /tmp/diskcheck.sh /tmp/hello.c /tmp/a.out
exit
