/** `bm daemon`: run the agent in the foreground (root), or ask a running one to reload. */
import { UsageError } from "../errors.ts";
import { callDaemon } from "../daemon/control_socket.ts";
import { Daemon } from "../daemon/daemon.ts";
import { realDaemonDeps } from "../daemon/daemon_deps.ts";
import { type Command, outputFormat, parseCommandArgs, printJson } from "./command.ts";

const USAGE = `Usage:
  bm daemon [--trace FILE [--exit-at-end]] [--scope-pid PID]
                                             run the agent in the foreground (root)
  bm daemon reload [--output json]           validate and apply changed config and rules

The agent logs JSON lines to stderr (and logging.file). It reloads on SIGHUP
and when a config or rule file changes, keeping the last good set when the new
one is broken; SIGTERM or SIGINT stops it after answering every held event.
--trace runs it on a recorded trace instead of the OS sensor (actions are
recorded, never carried out); --exit-at-end stops it when the trace ends.
--scope-pid PID confines the rules to PID and its descendants (tests and the
demonstration: process events are system-wide, and an agent under test must
not act on the machine's other processes).
Paths: BM_MANAGED_CONFIG, BM_LOCAL_CONFIG, BM_STATE_DIR (the control socket is
$BM_STATE_DIR/bm.sock when set, else /run/bm/bm.sock).`;

export const daemonCommand: Command = {
  name: "daemon",
  summary: "run the agent in the foreground (root); reload a running one",
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs("daemon", {
      args,
      options: {
        trace: { type: "string" },
        "exit-at-end": { type: "boolean" },
        "scope-pid": { type: "string" },
        output: { type: "string" },
      },
      allowPositionals: true,
      strict: true,
    });
    outputFormat(values.output);
    if (positionals[0] === "reload") {
      if (positionals.length > 1) throw new UsageError(`"daemon reload" takes no arguments`);
      const r = await callDaemon("reload") as { ok: boolean; errors: string[] };
      if (values.output === "json") printJson(r);
      else if (r.ok) console.log("Configuration and rules reloaded");
      else for (const e of r.errors) console.error(e);
      if (!r.ok && values.output !== "json") {
        console.error("Reload refused: the last good configuration and rules stay in force");
      }
      return r.ok ? 0 : 2;
    }
    if (positionals.length > 0) {
      throw new UsageError(
        `Unknown "daemon" subcommand "${positionals[0]}": run "bm daemon --help"`,
      );
    }
    if (values["exit-at-end"] && values.trace === undefined) {
      throw new UsageError(`--exit-at-end needs --trace FILE`);
    }
    let scopePid: number | undefined;
    if (values["scope-pid"] !== undefined) {
      scopePid = Number(values["scope-pid"]);
      if (!Number.isInteger(scopePid) || scopePid < 1) {
        throw new UsageError(`Bad --scope-pid "${values["scope-pid"]}": a process id`);
      }
    }
    const daemon = new Daemon({
      ...(values.trace !== undefined ? { trace: values.trace } : {}),
      exitAtEnd: values["exit-at-end"] ?? false,
      ...(scopePid !== undefined ? { scopePid } : {}),
    }, realDaemonDeps());
    return await daemon.run();
  },
};
