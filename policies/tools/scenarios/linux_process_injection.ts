/** Process injection procedures (policies/linux/process_injection.toml). */
import { run, runArgv, runDoing, sc, type Scenario, write } from "../scenario.ts";

const GDB = "/usr/bin/gdb";

export const PROCESS_INJECTION: Scenario[] = [
  sc(
    "gdb_attach_process",
    "root",
    [run(GDB, "-p", "1377")],
    // gdb starts the program it debugs (ptrace of its own child)
    [
      run(GDB, "--args", "./server", "--port", "8080"),
      run(GDB, "-batch", "-ex", "bt", "./a.out", "core"),
    ],
  ),
  sc(
    "gdb_code_injection",
    "root",
    [run(
      GDB,
      "-p",
      "1377",
      "-batch",
      "-ex",
      'call (void*)dlopen("/tmp/.l.so", 2)',
      "-ex",
      "detach",
    )],
    [run(GDB, "-p", "1377", "-batch", "-ex", "thread apply all bt", "-ex", "detach")],
  ),
  sc(
    "ptrace_injector_tools",
    "root",
    [runArgv("/tmp/linux-inject", ["./linux-inject", "-p", "1377", "/tmp/x.so"])],
    [
      run("/usr/bin/strace", "-f", "./a.out"),
      runArgv("/usr/bin/perf", ["perf", "record", "-p", "1377"]),
    ],
  ),
  sc(
    "proc_mem_write",
    "root",
    [runDoing("/usr/bin/python3", ["python3", "/tmp/patch.py", "1377"], [{
      open: "/proc/1377/maps",
    }, write("/proc/1377/mem", { create: false })])],
    [runDoing("/usr/bin/python3", ["python3", "tune.py"], [
      write("/proc/sys/vm/swappiness", { create: false }),
    ])],
  ),
  sc(
    "strace_attach_login",
    "cron",
    [run("/usr/bin/strace", "-p", "1804", "-f", "-o", "/tmp/.s.log")],
    [runArgv("/usr/bin/strace", ["strace", "-p", "1804", "-c"], {
      tty: "pts/0",
      stdin: "tty",
      stdout: "tty",
    })],
    "root",
  ),
];
