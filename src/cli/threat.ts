/**
 * `bm threat ...` (and `bm threats`): list, show, quarantine list, restore,
 * allowed threat names. Calls go through a ThreatSource: the running daemon
 * over its control socket (so `allowed add` takes effect in the engine at
 * once), else the local store; anything that changes state needs root.
 */
import { systemClock } from "../clock.ts";
import { PermissionError, UsageError } from "../errors.ts";
import { stateDir } from "../store/state_dir.ts";
import { THREAT_STATUSES, type ThreatStatus } from "../store/threat.ts";
import type { ThreatSource } from "../store/threat_source.ts";
import { DaemonThreatSource } from "../daemon/daemon_threat_source.ts";
import {
  type Command,
  parseSubcommandArgs,
  printJson,
  runSubcommand,
  type SubcommandOptions,
  withOpened,
} from "./command.ts";
import { quarantineTable, threatDetail, threatTable } from "./_threat_format.ts";
import { displayPath } from "../sensor/path_codec.ts";

export const THREAT_USAGE = `Usage:
  bm threats [--output json]                       same as "bm threat list"
  bm threat list [--status STATUS] [--output json] threats, newest first
  bm threat show ID [--output json]                rules, score path, lineage tree, events, actions
  bm threat quarantine list [--output json]        files held in the quarantine vault
  bm threat restore --id ID [--destination-path PATH] [--force]
                                                   put a quarantined file back (root)
  bm threat allowed add --name NAME                never act on this threat name (root)
  bm threat allowed remove --name NAME             (root)
  bm threat allowed list [--output json]

ID is a threat id (restore: every file it quarantined) or a quarantine entry id.
Restore refuses to replace a file that exists at the destination unless --force.
Statuses: ${THREAT_STATUSES.join(", ")}.
The store lives in BM_STATE_DIR (default /var/lib/bm on Linux,
/Library/Application Support/bm/state on macOS).`;

/** Test seams: the caller's uid and where threats come from. */
export interface ThreatCommandDeps {
  uid?: () => number | null;
  source?: () => ThreatSource;
}

const parse = (verb: string, args: string[], options: SubcommandOptions, positionals: number) =>
  parseSubcommandArgs("threat", verb, args, options, positionals);

function need(value: unknown, flag: string, verb: string): string {
  if (typeof value !== "string" || value === "") {
    throw new UsageError(`"threat ${verb}" needs ${flag}: run "bm threat --help"`);
  }
  return value;
}

export function makeThreatCommand(deps: ThreatCommandDeps = {}, name = "threat"): Command {
  const uid = deps.uid ?? (() => Deno.uid());
  const open = deps.source ??
    (() => new DaemonThreatSource({ stateDir: stateDir(), clock: systemClock }));

  const requireRoot = (what: string) => {
    const u = uid();
    if (u !== null && u !== 0) {
      throw new PermissionError(`Cannot ${what}: only root can change threats (uid ${u})`);
    }
  };

  const withSource = <T>(fn: (s: ThreatSource) => Promise<T>) => withOpened(open, fn);

  async function list(args: string[]): Promise<number> {
    const { values } = parse("list", args, {
      output: { type: "string" },
      status: { type: "string" },
    }, 0);
    const status = values.status as string | undefined;
    if (status !== undefined && !(THREAT_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`Unknown --status "${status}": one of ${THREAT_STATUSES.join(", ")}`);
    }
    const threats = await withSource((s) =>
      s.list(status !== undefined ? { status: status as ThreatStatus } : {})
    );
    if (values.output === "json") printJson({ threats });
    else console.log(threatTable(threats));
    return 0;
  }

  async function show(args: string[]): Promise<number> {
    const { values, positionals } = parse("show", args, { output: { type: "string" } }, 1);
    const id = positionals[0]!;
    const found = await withSource(async (s) => {
      const t = await s.get(id);
      return t
        ? { t, q: await s.listQuarantine({ threatId: id, includeRestored: true }) }
        : undefined;
    });
    if (!found) throw new UsageError(`Unknown threat "${id}": run "bm threat list" for the ids`);
    if (values.output === "json") printJson({ threat: { ...found.t, quarantine: found.q } });
    else console.log(threatDetail(found.t, found.q));
    return 0;
  }

  async function quarantine(args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub !== "list") {
      throw new UsageError(
        `Unknown "threat quarantine ${
          sub ?? ""
        }": use "bm threat quarantine list" or "bm threat restore"`,
      );
    }
    const { values } = parse("quarantine list", rest, { output: { type: "string" } }, 0);
    const entries = await withSource((s) => s.listQuarantine());
    if (values.output === "json") printJson({ quarantine: entries });
    else console.log(quarantineTable(entries));
    return 0;
  }

  async function restore(args: string[]): Promise<number> {
    const { values } = parse("restore", args, {
      id: { type: "string" },
      "destination-path": { type: "string" },
      force: { type: "boolean" },
      output: { type: "string" },
    }, 0);
    const id = need(values.id, "--id ID", "restore");
    const dest = values["destination-path"] as string | undefined;
    if (dest !== undefined && dest === "") throw new UsageError(`Empty --destination-path`);
    requireRoot(`restore "${id}"`);
    const done = await withSource((s) =>
      s.restore(id, {
        ...(dest !== undefined ? { destination: dest } : {}),
        ...(values.force ? { force: true } : {}),
      })
    );
    if (values.output === "json") {
      printJson({ restored: done.map((r) => ({ ...r.entry, restored_path: r.path })) });
    } else {
      for (const r of done) {
        console.log(`Restored "${displayPath(r.entry.original_path)}" to "${displayPath(r.path)}"`);
      }
    }
    return 0;
  }

  async function allowed(args: string[]): Promise<number> {
    const [sub, ...rest] = args;
    if (sub === "list") {
      const { values } = parse("allowed list", rest, { output: { type: "string" } }, 0);
      const names = await withSource((s) => s.listAllowed());
      if (values.output === "json") printJson({ allowed_threats: names });
      else console.log(names.length ? names.map((n) => n.name).join("\n") : "No allowed threats");
      return 0;
    }
    if (sub !== "add" && sub !== "remove") {
      throw new UsageError(`Unknown "threat allowed ${sub ?? ""}": use add, remove or list`);
    }
    const { values } = parse(`allowed ${sub}`, rest, { name: { type: "string" } }, 0);
    const threatName = need(values.name, "--name NAME", `allowed ${sub}`);
    if (threatName.length > 256 || /[\0\n]/.test(threatName)) {
      throw new UsageError(
        `Bad threat name "${threatName.slice(0, 60)}": too long or has a newline`,
      );
    }
    requireRoot(`${sub === "add" ? "allow" : "disallow"} "${threatName}"`);
    const changed = await withSource((s) =>
      sub === "add" ? s.addAllowed(threatName) : s.removeAllowed(threatName)
    );
    if (sub === "add") {
      console.log(changed ? `Allowed "${threatName}"` : `"${threatName}" was already allowed`);
    } else {
      console.log(changed ? `Removed "${threatName}"` : `"${threatName}" was not in the list`);
    }
    return 0;
  }

  return {
    name,
    summary: name === "threats"
      ? 'list threats (same as "bm threat list")'
      : "list, show, restore and allow threats",
    usage: THREAT_USAGE,
    run(args) {
      if (name === "threats") return list(args);
      return runSubcommand("threat", THREAT_USAGE, {
        list,
        show,
        quarantine,
        restore,
        allowed,
        allow: allowed,
      }, args);
    },
  };
}

export const threatCommand: Command = makeThreatCommand();
