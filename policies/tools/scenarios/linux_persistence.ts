/** Persistence procedures (policies/linux/persistence_procedures.toml). */
import { run, runArgv, runDoing, sc, type Scenario, write } from "../scenario.ts";

const BASH = "/usr/bin/bash";
const SH = "/usr/bin/sh";
const TEE = "/usr/bin/tee";
const CP = "/usr/bin/cp";
const DPKG = "/usr/bin/dpkg";

/** dpkg running a package's maintainer script, which runs `cmd`. */
function dpkgRuns(script: string, ...acts: Parameters<typeof runDoing>[2]) {
  return runDoing(DPKG, ["dpkg", "--configure", "-a"], [
    runDoing(SH, ["/bin/sh", `/var/lib/dpkg/info/${script}`, "configure"], acts),
  ]);
}

export const PERSISTENCE: Scenario[] = [
  sc(
    "rc_local_write",
    "root",
    [runDoing(TEE, ["tee", "-a", "/etc/rc.local"], [write("/etc/rc.local", { create: false })])],
    [dpkgRuns("initscripts.postinst", write("/etc/rc.local"))],
  ),
  sc(
    "initd_script_write",
    "root",
    [runDoing(CP, ["cp", "/tmp/.s/net-helper", "/etc/init.d/net-helper"], [
      write("/etc/init.d/net-helper"),
    ])],
    [dpkgRuns("nginx.postinst", write("/etc/init.d/nginx"))],
  ),
  sc(
    "update_rc_enable",
    "root",
    [run("/usr/sbin/update-rc.d", "net-helper", "defaults")],
    [dpkgRuns("nginx.postinst", run("/usr/sbin/update-rc.d", "nginx", "defaults"))],
  ),
  sc(
    "shell_rc_append_by_script",
    "root",
    // an installer script appends to root's .bashrc (bash install.sh; the shell writes the redirect)
    [runDoing(BASH, ["bash", "/tmp/install.sh"], [write("/root/.bashrc", { create: false })])],
    // the administrator appends an alias from the interactive shell, and a script writes elsewhere
    [runDoing(BASH, ["bash", "/root/bin/rotate.sh"], [write("/root/rotate.log")])],
  ),
  sc(
    "uid0_account_create",
    "root",
    [run(
      "/usr/sbin/useradd",
      "-o",
      "-u",
      "0",
      "-g",
      "0",
      "-M",
      "-d",
      "/root",
      "-s",
      "/bin/bash",
      "sysadm",
    )],
    [run(
      "/usr/sbin/useradd",
      "--system",
      "--no-create-home",
      "-s",
      "/usr/sbin/nologin",
      "prometheus",
    )],
  ),
  sc(
    "local_account_create",
    "root",
    [run("/usr/sbin/useradd", "-m", "-s", "/bin/bash", "backup2")],
    [dpkgRuns(
      "postgresql-common.postinst",
      run("/usr/sbin/adduser", "--system", "--group", "postgres"),
    )],
  ),
  sc(
    "passwd_direct_write",
    "root",
    [runDoing(BASH, ["bash", "-c", "echo 'toor:$1$x$abc:0:0::/root:/bin/bash' >> /etc/passwd"], [
      write("/etc/passwd", { create: false }),
    ])],
    [runDoing("/usr/sbin/useradd", ["useradd", "-m", "carol"], [
      write("/etc/passwd", { create: false }),
      write("/etc/shadow", { create: false }),
    ])],
  ),
  sc(
    "kernel_module_from_temp",
    "root",
    [run("/usr/sbin/insmod", "/tmp/.x/diamorphine.ko")],
    [
      run("/usr/sbin/modprobe", "br_netfilter"),
      run("/usr/sbin/insmod", "/lib/modules/6.1.0-18-amd64/extra/vboxdrv.ko"),
    ],
  ),
  sc(
    "modules_load_config_write",
    "root",
    [runDoing(TEE, ["tee", "/etc/modules-load.d/netfilter.conf"], [
      write("/etc/modules-load.d/netfilter.conf"),
    ])],
    [dpkgRuns("kmod.postinst", write("/etc/modprobe.d/blacklist.conf"))],
  ),
  sc(
    "kernel_module_file_drop",
    "root",
    [runDoing(CP, ["cp", "rk.ko", "/lib/modules/6.1.0-18-amd64/kernel/drivers/block/rk.ko"], [
      write("/lib/modules/6.1.0-18-amd64/kernel/drivers/block/rk.ko"),
    ])],
    [runDoing("/usr/sbin/dkms", ["dkms", "install", "zfs/2.2.2"], [
      runDoing("/usr/bin/install", [
        "install",
        "-m",
        "644",
        "zfs.ko",
        "/lib/modules/6.1.0-18-amd64/updates/dkms/zfs.ko",
      ], [
        write("/lib/modules/6.1.0-18-amd64/updates/dkms/zfs.ko"),
      ]),
    ])],
  ),
  sc(
    "pam_config_write",
    "root",
    [runDoing(
      "/usr/bin/sed",
      ["sed", "-i", "1i auth sufficient pam_permit.so", "/etc/pam.d/sshd"],
      [
        write("/etc/pam.d/sedX4a9Qz"),
        { rename: ["/etc/pam.d/sedX4a9Qz", "/etc/pam.d/sshd"] },
      ],
    )],
    [runDoing("/usr/sbin/pam-auth-update", ["pam-auth-update", "--package"], [
      write("/etc/pam.d/common-auth"),
    ])],
  ),
  sc(
    "pam_config_edit",
    "root",
    [runDoing("/usr/bin/vim.basic", ["vim", "/etc/pam.d/common-password"], [
      write("/etc/pam.d/common-password", { create: false }),
    ])],
    [runDoing("/usr/bin/vim.basic", ["vim", "/etc/hosts"], [
      write("/etc/hosts", { create: false }),
    ])],
  ),
  sc(
    "pam_module_drop",
    "root",
    [runDoing(CP, ["cp", "/tmp/pam_unix.so", "/lib/x86_64-linux-gnu/security/pam_unix.so"], [
      write("/lib/x86_64-linux-gnu/security/pam_unix.so"),
    ])],
    [runDoing(DPKG, ["dpkg", "-i", "libpam-modules_1.5.2-6_amd64.deb"], [
      write("/lib/x86_64-linux-gnu/security/pam_unix.so.dpkg-new"),
      {
        rename: [
          "/lib/x86_64-linux-gnu/security/pam_unix.so.dpkg-new",
          "/lib/x86_64-linux-gnu/security/pam_unix.so",
        ],
      },
    ])],
  ),
  sc(
    "ld_audit_env",
    "user",
    [runArgv("/usr/bin/env", ["env", "LD_AUDIT=/tmp/.l/audit.so", "/usr/bin/sudo", "-l"])],
    [runArgv("/usr/bin/env", ["env", "LD_LIBRARY_PATH=/opt/app/lib", "/opt/app/bin/app"])],
  ),
  sc(
    "ld_so_conf_write",
    "root",
    [runDoing(TEE, ["tee", "/etc/ld.so.conf.d/x.conf"], [write("/etc/ld.so.conf.d/x.conf")])],
    [dpkgRuns("libc-bin.postinst", write("/etc/ld.so.conf.d/x86_64-linux-gnu.conf"))],
  ),
  sc(
    "systemd_generator_write",
    "root",
    [runDoing(CP, ["cp", "/tmp/g", "/etc/systemd/system-generators/net-gen"], [
      write("/etc/systemd/system-generators/net-gen"),
    ])],
    [dpkgRuns(
      "systemd.postinst",
      write("/usr/lib/systemd/system-generators/systemd-fstab-generator"),
    )],
  ),
  sc(
    "xdg_autostart_write",
    "user",
    [runDoing("/usr/bin/python3", ["python3", "/tmp/.u/inst.py"], [
      write("/home/alice/.config/autostart/gnome-keyring-ssh.desktop"),
    ])],
    // the desktop's own settings app writes the entry
    [runDoing("/usr/bin/gnome-session-properties", ["gnome-session-properties"], [
      write("/home/alice/.config/autostart/syncthing.desktop"),
    ])],
  ),
  sc(
    "motd_script_write",
    "root",
    [runDoing(TEE, ["tee", "/etc/update-motd.d/99-sys"], [write("/etc/update-motd.d/99-sys")])],
    [dpkgRuns("update-notifier-common.postinst", write("/etc/update-motd.d/90-updates-available"))],
  ),
  sc(
    "apt_hook_write",
    "root",
    [runDoing(BASH, [
      "bash",
      "-c",
      "echo 'APT::Update::Pre-Invoke {\"nohup /tmp/.a &\"};' > /etc/apt/apt.conf.d/42backdoor",
    ], [
      write("/etc/apt/apt.conf.d/42backdoor"),
    ])],
    [dpkgRuns("unattended-upgrades.postinst", write("/etc/apt/apt.conf.d/20auto-upgrades"))],
  ),
  sc(
    "udev_rule_write",
    "root",
    [runDoing(TEE, ["tee", "/etc/udev/rules.d/75-net.rules"], [
      write("/etc/udev/rules.d/75-net.rules"),
    ])],
    [dpkgRuns("udev.postinst", write("/usr/lib/udev/rules.d/99-systemd.rules"))],
  ),
  sc(
    "ssh_rc_write",
    "user",
    [runDoing(BASH, ["bash", "-c", "echo 'nohup ~/.cache/.s >/dev/null 2>&1 &' >> ~/.ssh/rc"], [
      write("/home/alice/.ssh/rc"),
    ])],
    [runDoing("/usr/bin/ssh-keygen", [
      "ssh-keygen",
      "-t",
      "ed25519",
      "-f",
      "/home/alice/.ssh/id_ed25519",
      "-N",
      "",
    ], [
      write("/home/alice/.ssh/id_ed25519"),
      write("/home/alice/.ssh/id_ed25519.pub"),
    ])],
  ),
  sc(
    "sshd_config_backdoor",
    "root",
    [run(
      "/usr/bin/sed",
      "-i",
      "s/#PermitRootLogin prohibit-password/PermitRootLogin yes/",
      "/etc/ssh/sshd_config",
    )],
    [run(
      "/usr/bin/sed",
      "-i",
      "s/PermitRootLogin yes/PermitRootLogin no/",
      "/etc/ssh/sshd_config",
    )],
  ),
];
