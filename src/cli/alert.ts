/**
 * `bm alert list|show`: every rule firing the daemon kept, below the
 * threshold too (`bm threats` lists only the lineages that crossed it).
 */
import { type Clock, systemClock } from "../clock.ts";
import { UsageError } from "../errors.ts";
import type { Severity } from "../engine/verdict.ts";
import { SEVERITIES } from "../store/alert.ts";
import { stateDir } from "../store/state_dir.ts";
import { type AlertSource, DaemonAlertSource } from "../daemon/daemon_alert_source.ts";
import {
  type Command,
  parseSubcommandArgs,
  printJson,
  runSubcommand,
  withOpened,
} from "./command.ts";
import { alertDetail, alertTable } from "./_alert_format.ts";

export const ALERT_USAGE = `Usage:
  bm alert list [--severity S] [--since DURATION] [--output json]
                                 alerts, newest (last seen) first
  bm alert show ID [--output json]
                                 rule, process, lineage and evidence events

An alert is one rule firing (firings of the same rule on the same process
within 10 minutes are one alert with a count). A threat is a lineage whose
score crossed engine.scoreThreshold: "bm threats" lists those.
  --severity S     this severity or higher: ${SEVERITIES.join(", ")}
  --since D        last seen within D: a number with s, m, h or d (e.g. 30m, 7d)
  --output json    { "alerts": [ ... ] } / { "alert": { ... } }`;

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m" -> ms; UsageError on anything else. */
export function parseSince(text: string): number {
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(text);
  if (!m) {
    throw new UsageError(
      `Bad --since "${text}": expected a number with s, m, h or d (e.g. 30m, 7d)`,
    );
  }
  return Number(m[1]) * UNITS[m[2]!]!;
}

export interface AlertCommandDeps {
  source?: () => AlertSource;
  clock?: Clock;
}

export function makeAlertCommand(deps: AlertCommandDeps = {}): Command {
  const clock = deps.clock ?? systemClock;
  const open = deps.source ?? (() => new DaemonAlertSource({ stateDir: stateDir(), clock }));

  const withSource = <T>(fn: (s: AlertSource) => Promise<T>) => withOpened(open, fn);

  async function list(args: string[]): Promise<number> {
    const { values } = parseSubcommandArgs("alert", "list", args, {
      output: { type: "string" },
      severity: { type: "string" },
      since: { type: "string" },
    }, 0);
    const sev = values.severity as string | undefined;
    if (sev !== undefined && !(SEVERITIES as readonly string[]).includes(sev)) {
      throw new UsageError(`Unknown --severity "${sev}": one of ${SEVERITIES.join(", ")}`);
    }
    const since = values.since !== undefined ? parseSince(values.since as string) : undefined;
    const alerts = await withSource((s) =>
      s.list({
        ...(sev !== undefined ? { minSeverity: sev as Severity } : {}),
        ...(since !== undefined ? { since: clock.now() - since } : {}),
      })
    );
    if (values.output === "json") printJson({ alerts });
    else console.log(alertTable(alerts));
    return 0;
  }

  async function show(args: string[]): Promise<number> {
    const { values, positionals } = parseSubcommandArgs("alert", "show", args, {
      output: { type: "string" },
    }, 1);
    const id = positionals[0]!;
    const a = await withSource((s) => s.get(id));
    if (!a) throw new UsageError(`Unknown alert "${id}": run "bm alert list" for the ids`);
    if (values.output === "json") printJson({ alert: a });
    else console.log(alertDetail(a));
    return 0;
  }

  return {
    name: "alert",
    summary: "list and show alerts (every rule firing)",
    usage: ALERT_USAGE,
    run: (args) => runSubcommand("alert", ALERT_USAGE, { list, show }, args),
  };
}

export const alertCommand: Command = makeAlertCommand();
