/**
 * The ThreatSource `bm threats` / `bm threat ...` use when the daemon runs:
 * every call goes over the control socket (so `threat allowed add` takes
 * effect in the running engine at once); when the daemon cannot be reached
 * the call falls back to the local store (read-only for reads).
 */
import type { Clock } from "../clock.ts";
import type { RestoreOptions } from "../response/quarantine.ts";
import type { AllowedThreat, QuarantineEntry, Threat, ThreatSummary } from "../store/threat.ts";
import { LocalThreatSource, type Restored, type ThreatSource } from "../store/threat_source.ts";
import type { ListQuery, QuarantineQuery } from "../store/threat_store.ts";
import { callDaemon, DaemonUnreachable } from "./control_socket.ts";

export class DaemonThreatSource implements ThreatSource {
  private local: LocalThreatSource | undefined;

  constructor(
    private readonly o: { stateDir: string; clock: Clock; socket?: string },
  ) {}

  private async ask<T>(
    method: string,
    params: Record<string, unknown>,
    fallback: (l: LocalThreatSource) => Promise<T>,
  ): Promise<T> {
    try {
      return await callDaemon(method, params, this.o.socket ? { path: this.o.socket } : {}) as T;
    } catch (e) {
      if (!(e instanceof DaemonUnreachable)) throw e;
      this.local ??= new LocalThreatSource({ stateDir: this.o.stateDir, clock: this.o.clock });
      return await fallback(this.local);
    }
  }

  list(query: ListQuery = {}): Promise<ThreatSummary[]> {
    return this.ask("threat_list", { ...query }, (l) => l.list(query));
  }
  async get(id: string): Promise<Threat | undefined> {
    return await this.ask<Threat | null>(
      "threat_get_or_null",
      { id },
      (l) => l.get(id).then((t) => t ?? null),
    ) ??
      undefined;
  }
  listQuarantine(query: QuarantineQuery = {}): Promise<QuarantineEntry[]> {
    return this.ask("quarantine_list", { ...query }, (l) => l.listQuarantine(query));
  }
  listAllowed(): Promise<AllowedThreat[]> {
    return this.ask("allowed_list", {}, (l) => l.listAllowed());
  }
  addAllowed(name: string): Promise<boolean> {
    return this.ask("allowed_add", { name }, (l) => l.addAllowed(name));
  }
  removeAllowed(name: string): Promise<boolean> {
    return this.ask("allowed_remove", { name }, (l) => l.removeAllowed(name));
  }
  restore(id: string, options: RestoreOptions): Promise<Restored[]> {
    return this.ask("threat_restore", { id, ...options }, (l) => l.restore(id, options));
  }
  close(): void {
    this.local?.close();
  }
}
