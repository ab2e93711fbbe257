/**
 * What `bm threats` and `bm threat ...` read and change, behind one
 * interface: today the local store (read-only for reads), later the daemon's
 * control socket (the daemon helper adds that implementation; the socket
 * side must check the caller is root for the mutating calls).
 */
import type { Clock } from "../clock.ts";
import { BmError } from "../errors.ts";
import { restoreFile, type RestoreOptions } from "../response/quarantine.ts";
import { threatDbPath, vaultDir } from "./state_dir.ts";
import type { AllowedThreat, QuarantineEntry, Threat, ThreatSummary } from "./threat.ts";
import { type ListQuery, type QuarantineQuery, SqliteThreatStore } from "./threat_store.ts";
import * as fs from "node:fs";

export interface Restored {
  entry: QuarantineEntry;
  path: string;
}

export interface ThreatSource {
  list(query?: ListQuery): Promise<ThreatSummary[]>;
  get(id: string): Promise<Threat | undefined>;
  /** Files in the vault; restored ones only with `includeRestored`. */
  listQuarantine(query?: QuarantineQuery): Promise<QuarantineEntry[]>;
  listAllowed(): Promise<AllowedThreat[]>;
  addAllowed(name: string): Promise<boolean>;
  removeAllowed(name: string): Promise<boolean>;
  /**
   * Restores the files quarantined for a threat id, or the one file of a
   * quarantine entry id. Unknown id: BmError exit 2.
   */
  restore(id: string, options: RestoreOptions): Promise<Restored[]>;
  close(): void;
}

export interface LocalSourceOptions {
  stateDir: string;
  clock: Clock;
}

/** Reads the SQLite store directly; opens it read-only unless a call changes something. */
export class LocalThreatSource implements ThreatSource {
  private ro: SqliteThreatStore | undefined;
  private rw: SqliteThreatStore | undefined;
  private readonly path: string;

  constructor(private readonly o: LocalSourceOptions) {
    this.path = threatDbPath(o.stateDir);
  }

  list(query?: ListQuery): Promise<ThreatSummary[]> {
    return Promise.resolve(this.reader()?.list(query) ?? []);
  }

  get(id: string): Promise<Threat | undefined> {
    return Promise.resolve(this.reader()?.get(id));
  }

  listQuarantine(query?: QuarantineQuery): Promise<QuarantineEntry[]> {
    return Promise.resolve(this.reader()?.listQuarantine(query) ?? []);
  }

  listAllowed(): Promise<AllowedThreat[]> {
    return Promise.resolve(this.reader()?.listAllowed() ?? []);
  }

  addAllowed(name: string): Promise<boolean> {
    return Promise.resolve(this.writer().addAllowed(name));
  }

  removeAllowed(name: string): Promise<boolean> {
    return Promise.resolve(this.writer().removeAllowed(name));
  }

  restore(id: string, options: RestoreOptions): Promise<Restored[]> {
    const store = this.writer();
    let entries: QuarantineEntry[];
    const one = store.getQuarantine(id);
    if (one) {
      entries = [one];
    } else {
      if (!store.get(id)) throw new BmError(`Unknown threat or quarantine entry "${id}"`, 2);
      entries = store.listQuarantine({ threatId: id });
      if (entries.length === 0) {
        throw new BmError(`Threat "${id}" has no file in quarantine`, 2);
      }
    }
    const vault = { dir: vaultDir(this.o.stateDir), store, clock: this.o.clock };
    const out: Restored[] = [];
    for (const entry of entries) {
      out.push({ entry, path: restoreFile(entry.id, options, vault) });
    }
    return Promise.resolve(out);
  }

  close(): void {
    this.ro?.close();
    this.rw?.close();
  }

  /** Undefined when there is no store yet (nothing recorded): reads show nothing. */
  private reader(): SqliteThreatStore | undefined {
    if (this.rw) return this.rw;
    if (!this.ro) {
      try {
        fs.statSync(this.path);
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") return undefined;
        // Anything else (permission denied): let the store name the file and the reason.
      }
      this.ro = new SqliteThreatStore({ path: this.path, clock: this.o.clock, readOnly: true });
    }
    return this.ro;
  }

  private writer(): SqliteThreatStore {
    this.rw ??= new SqliteThreatStore({ path: this.path, clock: this.o.clock });
    return this.rw;
  }
}
