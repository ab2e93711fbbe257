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
import { BmError } from "../errors.ts";
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
  /** The store's threat id, or `unsaved-N` when the store could not record it. */
  threatId: string;
  status: ThreatStatus;
  /** The outcomes, in the order carried out. */
  actions: ActionRecord[];
  /** False when a store write failed: the outcomes above are then all there is. */
  stored: boolean;
  /** The first store failure, when there was one. */
  storeError?: string;
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
  private unsaved = 0;
  /** Pids the last kill action signalled. */
  private killed: number[] = [];

  constructor(private readonly o: ResponderOptions) {
    this.allowed = new Set(o.allowedThreats ?? []);
    this.inspector = o.inspector;
  }

  /** Replaces the allowed threat names (settings reload, `bm threat allowed add`). */
  setAllowedThreats(names: readonly string[]): void {
    this.allowed = new Set(names);
  }

  /**
   * Records the verdict (committed before anything else), then acts on it.
   * Protection comes first: when the store cannot write, the actions are
   * still carried out and the result says so (`storeError`, an `unsaved-N`
   * id); the outcomes live only in the returned result then.
   */
  handle(verdict: Verdict): Promise<ResponseResult> {
    const { store } = this.o;
    const actions: ActionRecord[] = [];
    let storeError: string | undefined;
    let threatId: string | undefined;
    /** One failed write stops writing this threat: a half-written threat helps nobody. */
    const write = (fn: () => void) => {
      if (storeError !== undefined) return;
      try {
        fn();
      } catch (e) {
        storeError = e instanceof Error ? e.message : String(e);
      }
    };
    const note = (a: Omit<ActionRecord, "time">) => {
      const rec: ActionRecord = { ...a, time: this.o.clock.now() };
      write(() => store.addAction(threatId!, rec));
      actions.push(rec);
    };
    const result = (status: ThreatStatus): Promise<ResponseResult> => {
      const r: ResponseResult = {
        threatId: threatId ?? `unsaved-${++this.unsaved}`,
        status,
        actions,
        stored: storeError === undefined,
      };
      if (storeError !== undefined) r.storeError = storeError;
      return Promise.resolve(r);
    };

    if (this.allowed.has(verdict.name)) {
      write(() => threatId = store.record(verdict, "allowed"));
      note({
        type: "allow",
        target: verdict.name,
        result: "skipped",
        detail: "threat name is in the allowed list: no action taken",
      });
      return result("allowed");
    }

    write(() => threatId = store.record(verdict));
    const requested = plan(verdict.actions);
    if (verdict.mode === "audit") {
      for (const a of requested) {
        note({ type: a.type, target: targetOf(a), result: "skipped", detail: "audit mode" });
      }
      return result("audited");
    }

    let status: ThreatStatus = "active";
    /** pid -> the tree kill that already signalled it (SIGKILL lands asynchronously). */
    const killedBy = new Map<number, number>();
    for (const a of requested) {
      let outcome: Omit<ActionRecord, "time">;
      try {
        const by = a.type === "kill" ? killedBy.get(a.pid) : undefined;
        if (by !== undefined) {
          outcome = {
            type: "kill",
            target: targetOf(a),
            result: "skipped",
            detail: `already killed with the tree of pid ${by}`,
          };
        } else {
          this.killed = [];
          outcome = this.act(threatId, a);
          if (a.type === "kill") { for (const p of this.killed) killedBy.set(p, a.pid); }
        }
      } catch (e) {
        outcome = {
          type: a.type,
          target: targetOf(a),
          result: "error",
          detail: e instanceof Error ? e.message : String(e),
        };
      }
      note(outcome);
      const earned = outcome.result === "ok" ? earns(a.type) : undefined;
      if (earned && (RANK[earned] ?? 0) > (RANK[status] ?? 0)) {
        status = earned;
        const st = status;
        write(() => store.setStatus(threatId!, st));
      }
    }
    return result(status);
  }

  /** bm and its ancestors (a shell, sshd, a container's init): never acted on. */
  private agentLineage(): Set<number> {
    const out = new Set([Deno.pid]);
    let ins: ProcessInspector;
    try {
      ins = this.inspector ??= systemProcessInspector();
    } catch {
      return out;
    }
    for (
      let p = ins.info(Deno.pid)?.ppid, n = 0;
      p !== undefined && p > 1 && n < 256;
      p = ins.info(p)?.ppid, n++
    ) out.add(p);
    return out;
  }

  private act(threatId: string | undefined, a: ActionRequest): Omit<ActionRecord, "time"> {
    const target = targetOf(a);
    switch (a.type) {
      case "block":
        if (this.agentLineage().has(a.pid)) {
          throw new BmError(`Refusing to block pid ${a.pid}: it is bm or an ancestor of bm`);
        }
        blockProcess(this.o.sensor, a.pid);
        return { type: "block", target, result: "ok", detail: "further execs denied" };
      case "kill": {
        this.inspector ??= systemProcessInspector();
        const r = killProcess({ pid: a.pid, start: a.start, tree: a.tree }, {
          inspector: this.inspector,
          ...(this.o.killToleranceMs !== undefined ? { toleranceMs: this.o.killToleranceMs } : {}),
          ...(this.o.signal ? { signal: this.o.signal } : {}),
        });
        this.killed = r.killed;
        if (r.gone) return { type: "kill", target, result: "skipped", detail: "already exited" };
        return { type: "kill", target, result: "ok", detail: `killed pid ${r.killed.join(", ")}` };
      }
      case "quarantine": {
        if (threatId === undefined) {
          // Without a threat row the vault entry could not be indexed, and an
          // unindexed file could never be restored: the file stays where it is.
          throw new BmError(`Cannot quarantine "${a.path}": the threat store could not record it`);
        }
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
