/**
 * The Responder: turns a Verdict into a recorded threat and carries out its
 * actions, recording each outcome.
 *
 * Order (invariant 6): the threat is recorded and committed first, so it
 * exists even if bm dies while acting; each action's outcome and the status
 * it earns are committed as soon as the action completes. Actions run
 * strongest-containment first whatever order the verdict lists them in:
 * block (stop new execs), tree kills, single kills, quarantine (remove the
 * file), report; kills of one process are merged (see `plan`).
 *
 * Audit mode records the threat as `audited` and every requested action as
 * skipped. A threat name in the allowed list is recorded as `allowed` and
 * nothing is done: the engine already drops allowed threats, this is defence
 * in depth.
 */
import type { Clock } from "../clock.ts";
import type { ActionRequest, Verdict } from "../engine/verdict.ts";
import type { Sensor } from "../sensor/sensor.ts";
import type { ActionRecord, ThreatStatus } from "../store/threat.ts";
import type { ThreatStore } from "../store/threat_store.ts";
import { blockProcess } from "./block.ts";
import { killProcess } from "./kill.ts";
import { type ProcessInspector, systemProcessInspector } from "./process_inspector.ts";
import { quarantineFile } from "./quarantine.ts";

export interface ResponderOptions {
  store: ThreatStore;
  sensor: Pick<Sensor, "denyProcess">;
  clock: Clock;
  /** The quarantine vault directory (`vaultDir(stateDir())`). */
  vaultDir: string;
  /** Threat names never acted on: settings antivirusEngine.allowedThreats merged with the store's list. */
  allowedThreats?: readonly string[];
  /** Default: /proc on Linux (built on first kill). */
  inspector?: ProcessInspector;
  /** Start-time tolerance for the kill check, ms (default 1000). */
  killToleranceMs?: number;
  /** Signal sender for kill (default Deno.kill). */
  signal?: (pid: number, sig: Deno.Signal) => void;
}

export interface ResponseResult {
  threatId: string;
  status: ThreatStatus;
  /** The outcomes recorded, in the order carried out. */
  actions: ActionRecord[];
}

const ORDER: Record<ActionRequest["type"], number> = {
  block: 0,
  kill: 1,
  quarantine: 3,
  report: 4,
};

/**
 * The actions in the order they run, kills merged per process: a tree kill
 * subsumes a single kill of the same process, and tree kills run before single
 * kills. Run the other way, a single kill of the target (or of a process in
 * its tree) would orphan its children away from the tree and they would
 * survive the tree kill.
 */
export function plan(actions: readonly ActionRequest[]): ActionRequest[] {
  const trees = new Set<string>();
  for (const a of actions) if (a.type === "kill" && a.tree) trees.add(`${a.pid}:${a.start}`);
  const seen = new Set<string>();
  const out: ActionRequest[] = [];
  for (const a of actions) {
    if (a.type === "kill") {
      const key = `${a.pid}:${a.start}`;
      if (!a.tree && trees.has(key)) continue;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(a);
  }
  const rank = (a: ActionRequest) => a.type === "kill" && !a.tree ? 2 : ORDER[a.type];
  return out.sort((a, b) => rank(a) - rank(b));
}
const RANK: Partial<Record<ThreatStatus, number>> = {
  active: 0,
  blocked: 1,
  killed: 2,
  quarantined: 3,
};

export class Responder {
  private allowed: Set<string>;
  private inspector: ProcessInspector | undefined;

  constructor(private readonly o: ResponderOptions) {
    this.allowed = new Set(o.allowedThreats ?? []);
    this.inspector = o.inspector;
  }

  /** Replaces the allowed threat names (settings reload, `bm threat allowed add`). */
  setAllowedThreats(names: readonly string[]): void {
    this.allowed = new Set(names);
  }

  /** Records the verdict (committed before anything else), then acts on it. */
  handle(verdict: Verdict): Promise<ResponseResult> {
    const { store } = this.o;
    const actions: ActionRecord[] = [];
    const note = (id: string, a: Omit<ActionRecord, "time">) => {
      const rec: ActionRecord = { ...a, time: this.o.clock.now() };
      store.addAction(id, rec);
      actions.push(rec);
    };

    if (this.allowed.has(verdict.name)) {
      const threatId = store.record(verdict, "allowed");
      note(threatId, {
        type: "allow",
        target: verdict.name,
        result: "skipped",
        detail: "threat name is in the allowed list: no action taken",
      });
      return Promise.resolve({ threatId, status: "allowed", actions });
    }

    const threatId = store.record(verdict);
    const requested = plan(verdict.actions);
    if (verdict.mode === "audit") {
      for (const a of requested) {
        note(threatId, {
          type: a.type,
          target: targetOf(a),
          result: "skipped",
          detail: "audit mode",
        });
      }
      return Promise.resolve({ threatId, status: "audited", actions });
    }

    let status: ThreatStatus = "active";
    for (const a of requested) {
      let outcome: Omit<ActionRecord, "time">;
      try {
        outcome = this.act(threatId, a);
      } catch (e) {
        outcome = {
          type: a.type,
          target: targetOf(a),
          result: "error",
          detail: e instanceof Error ? e.message : String(e),
        };
      }
      note(threatId, outcome);
      const earned = outcome.result === "ok" ? earns(a.type) : undefined;
      if (earned && (RANK[earned] ?? 0) > (RANK[status] ?? 0)) {
        status = earned;
        store.setStatus(threatId, status);
      }
    }
    return Promise.resolve({ threatId, status, actions });
  }

  private act(threatId: string, a: ActionRequest): Omit<ActionRecord, "time"> {
    const target = targetOf(a);
    switch (a.type) {
      case "block":
        blockProcess(this.o.sensor, a.pid);
        return { type: "block", target, result: "ok", detail: "further execs denied" };
      case "kill": {
        this.inspector ??= systemProcessInspector();
        const r = killProcess({ pid: a.pid, start: a.start, tree: a.tree }, {
          inspector: this.inspector,
          ...(this.o.killToleranceMs !== undefined ? { toleranceMs: this.o.killToleranceMs } : {}),
          ...(this.o.signal ? { signal: this.o.signal } : {}),
        });
        if (r.gone) return { type: "kill", target, result: "skipped", detail: "already exited" };
        return { type: "kill", target, result: "ok", detail: `killed pid ${r.killed.join(", ")}` };
      }
      case "quarantine": {
        const q = quarantineFile(a.path, threatId, {
          dir: this.o.vaultDir,
          store: this.o.store,
          clock: this.o.clock,
        });
        return { type: "quarantine", target, result: "ok", detail: `vault entry ${q.id}` };
      }
      case "report":
        return { type: "report", target, result: "ok" };
    }
  }
}

function targetOf(a: ActionRequest): string {
  switch (a.type) {
    case "block":
      return `pid ${a.pid}`;
    case "kill":
      return a.tree ? `pid ${a.pid} and descendants` : `pid ${a.pid}`;
    case "quarantine":
      return a.path;
    case "report":
      return "threat log";
  }
}

function earns(t: ActionRequest["type"]): ThreatStatus | undefined {
  return t === "block"
    ? "blocked"
    : t === "kill"
    ? "killed"
    : t === "quarantine"
    ? "quarantined"
    : undefined;
}
