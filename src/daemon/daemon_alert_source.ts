/**
 * Where `bm alert list|show` read alerts: the running daemon over its control
 * socket (its store, wherever `store.path` puts it), else the local store in
 * the state directory, opened read-only.
 */
import * as fs from "node:fs";
import type { Clock } from "../clock.ts";
import type { Alert, AlertQuery, AlertSummary } from "../store/alert.ts";
import { threatDbPath } from "../store/state_dir.ts";
import { SqliteThreatStore } from "../store/threat_store.ts";
import { callDaemon, DaemonUnreachable } from "./control_socket.ts";

export interface AlertSource {
  list(query?: AlertQuery): Promise<AlertSummary[]>;
  get(id: string): Promise<Alert | undefined>;
  close(): void;
}

export class DaemonAlertSource implements AlertSource {
  private local: SqliteThreatStore | undefined;
  private noStore = false;

  constructor(private readonly o: { stateDir: string; clock: Clock; socket?: string }) {}

  list(query: AlertQuery = {}): Promise<AlertSummary[]> {
    return this.ask("alert_list", { ...query }, (s) => s?.listAlerts(query) ?? []);
  }

  async get(id: string): Promise<Alert | undefined> {
    return (await this.ask<Alert | null>(
      "alert_get_or_null",
      { id },
      (s) => s?.getAlert(id) ?? null,
    )) ?? undefined;
  }

  close(): void {
    this.local?.close();
  }

  private async ask<T>(
    method: string,
    params: Record<string, unknown>,
    fallback: (s: SqliteThreatStore | undefined) => T,
  ): Promise<T> {
    try {
      return await callDaemon(method, params, this.o.socket ? { path: this.o.socket } : {}) as T;
    } catch (e) {
      if (!(e instanceof DaemonUnreachable)) throw e;
      return fallback(this.reader());
    }
  }

  /** Undefined when there is no store yet: nothing was ever recorded. */
  private reader(): SqliteThreatStore | undefined {
    if (this.local || this.noStore) return this.local;
    const path = threatDbPath(this.o.stateDir);
    if (!fs.existsSync(path)) {
      this.noStore = true;
      return undefined;
    }
    this.local = new SqliteThreatStore({ path, clock: this.o.clock, readOnly: true });
    return this.local;
  }
}
