/** `bm diagnostic hot-event-sources`: the processes producing the most events. */
import { callDaemon } from "../daemon/control_socket.ts";
import type { HotSource } from "../daemon/hot_sources.ts";
import { UsageError } from "../errors.ts";
import { displayPath } from "../sensor/path_codec.ts";
import { type Command, outputFormat, parseCommandArgs, printJson } from "./command.ts";

const USAGE = `Usage: bm diagnostic hot-event-sources [--limit N] [--output json]

Lists the executables whose processes produced the most events since the
daemon started, with their busiest pids and event kinds: the first thing to
check when CPU use rises after enabling behavior monitoring. Add a noisy,
trusted path to antivirusEngine.exclusions to stop scoring it.
Needs the running daemon (root).`;

export const diagnosticCommand: Command = {
  name: "diagnostic",
  summary: "diagnostics from the running daemon: hot-event-sources",
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs("diagnostic", {
      args,
      options: { limit: { type: "string" }, output: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1 || positionals[0] !== "hot-event-sources") {
      throw new UsageError(
        `Unknown diagnostic "${positionals.join(" ")}": run "bm diagnostic --help"`,
      );
    }
    outputFormat(values.output);
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new UsageError(`Bad --limit "${values.limit}": a positive whole number`);
    }
    const r = await callDaemon("hot_event_sources", { limit }) as {
      total: number;
      sources: HotSource[];
    };
    if (values.output === "json") {
      printJson(r);
      return 0;
    }
    console.log(`${r.total} events since the daemon started`);
    if (r.sources.length === 0) return 0;
    const w = Math.max(6, ...r.sources.map((s) => String(s.events).length));
    console.log(`${"events".padStart(w)}  ${"share".padStart(6)}  executable  (top pids; kinds)`);
    for (const s of r.sources) {
      const share = r.total ? ((100 * s.events) / r.total).toFixed(1) + "%" : "-";
      const pids = s.pids.map((p) => `${p.pid}:${p.events}`).join(" ");
      const kinds = Object.entries(s.actions).map(([k, n]) => `${k} ${n}`).join(", ");
      console.log(
        `${String(s.events).padStart(w)}  ${share.padStart(6)}  ${
          displayPath(s.executable)
        }  (${pids}; ${kinds})`,
      );
    }
    return 0;
  },
};
