/**
 * Scores with decay per lineage: a firing adds its rule's score to the
 * firing process and each ancestor (pid 1 excepted), each decayed by the
 * half-life since its last change, and remembers why (the score records a
 * verdict's explanation is built from).
 *
 * The state lives here, keyed by process record, not on the process table's
 * records: the table knows processes, this module knows scores.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { Proc } from "./process_table.ts";
import type { CompiledRule } from "./rule_set.ts";

/** One rule firing, as the scores remember it. */
export interface FiringRecord {
  rule: CompiledRule;
  time: number;
  /** entity_id of the process the rule's last step matched. */
  entityId: string;
  /** Per written step, the events it matched. */
  events: BmEvent[][];
}

/** One change of one process's score. */
export interface ScoreRecord {
  firing: FiringRecord;
  /** Score after decay, before this firing. */
  before: number;
  added: number;
  after: number;
}

interface ScoreState {
  score: number;
  /** Event time of the last change. */
  time: number;
  /** Newest last, bounded by MAX_RECORDS_PER_PROC. */
  records: ScoreRecord[];
}

const MAX_RECORDS_PER_PROC = 32;
const MAX_DEPTH = 64;

export class Scoring {
  readonly #state = new WeakMap<Proc, ScoreState>();

  /** Scores halve every `halfLifeMs` of event time; 0 disables decay. */
  constructor(public halfLifeMs: number) {}

  /** The score as of its last change, undecayed (0 for a process that never scored). */
  score(p: Proc): number {
    return this.#state.get(p)?.score ?? 0;
  }

  /** The score decayed to `now`. */
  decayed(p: Proc, now: number): number {
    const s = this.#state.get(p);
    if (s === undefined || s.score === 0) return 0;
    const h = this.halfLifeMs;
    const dt = now - s.time;
    if (h <= 0 || dt <= 0) return s.score;
    return s.score * Math.pow(0.5, dt / h);
  }

  /**
   * Adds a firing to `firingProc` and its ancestors. Returns the process
   * whose score crossed `threshold` (the nearest one), or the firing process
   * when the rule alone reaches it, or undefined.
   */
  add(firing: FiringRecord, firingProc: Proc, threshold: number): Proc | undefined {
    const added = firing.rule.score;
    const now = firing.time;
    let crossed: Proc | undefined;
    for (
      let a: Proc | undefined = firingProc, n = 0;
      a !== undefined && n < MAX_DEPTH && (a === firingProc || a.pid > 1);
      a = a.parent, n++
    ) {
      const before = this.decayed(a, now);
      const after = before + added;
      let s = this.#state.get(a);
      if (s === undefined) this.#state.set(a, s = { score: after, time: now, records: [] });
      else {
        s.score = after;
        s.time = now;
      }
      s.records.push({ firing, before, added, after });
      if (s.records.length > MAX_RECORDS_PER_PROC) s.records.shift();
      if (crossed === undefined && before < threshold && after >= threshold) crossed = a;
    }
    if (added >= threshold) crossed = firingProc;
    return crossed;
  }

  /** The records that still explain `p`'s score at `now`, oldest first. */
  explain(p: Proc, now: number): ScoreRecord[] {
    const records = this.#state.get(p)?.records ?? [];
    // Firings older than 8 half-lives add under 0.4% and no longer explain anything.
    const h = this.halfLifeMs;
    return records.filter((r) => h <= 0 || now - r.firing.time <= 8 * h);
  }
}
