/**
 * The control socket's calls (`bm health`, `bm threat ...`, `bm daemon
 * reload`, ...), served from the running daemon's parts. The socket
 * (control_socket.ts) frames requests and refuses mutating calls from
 * non-root peers; this module answers them.
 */
import type { Clock } from "../clock.ts";
import { BmError } from "../errors.ts";
import { restoreFile, type RestoreOptions } from "../response/quarantine.ts";
import type { QuarantineEntry, ThreatStatus } from "../store/threat.ts";
import { THREAT_STATUSES } from "../store/threat.ts";
import type { Restored } from "../store/threat_source.ts";
import type { QuarantineQuery, ThreatStore } from "../store/threat_store.ts";
import type { HealthReport } from "./health.ts";
import { type AlertQuery, type AlertStore, SEVERITIES } from "../store/alert.ts";
import type { Severity } from "../engine/verdict.ts";

/** What the calls need of the running daemon. */
export interface ControlContext {
  store: ThreatStore & AlertStore;
  clock: Clock;
  health(details?: string): HealthReport;
  reload(why: string): Promise<{ ok: boolean; errors: string[] }>;
  hotSources(limit: number): unknown;
  engineStats(): unknown;
  /** The quarantine folder in force (settings: quarantine.path). */
  quarantineDir(): string;
  /** The store's allowed-threat list changed: the engine and responder take it at once. */
  allowedThreatsChanged(): void;
}

export class ControlApi {
  constructor(private readonly ctx: ControlContext) {}

  async handle(method: string, params: Record<string, unknown>): Promise<unknown> {
    const { ctx } = this;
    const store = ctx.store;
    switch (method) {
      case "health":
        return ctx.health(typeof params.details === "string" ? params.details : undefined);
      case "reload":
        return await ctx.reload("control socket");
      case "hot_event_sources":
        return ctx.hotSources(typeof params.limit === "number" ? params.limit : 20);
      case "engine_stats":
        return ctx.engineStats();
      case "threat_list": {
        const status = typeof params.status === "string" ? params.status : undefined;
        if (status !== undefined && !(THREAT_STATUSES as readonly string[]).includes(status)) {
          throw new BmError(`Unknown threat status "${status}"`, 2);
        }
        return store.list(status ? { status: status as ThreatStatus } : {});
      }
      case "threat_get_or_null":
        return store.get(String(params.id ?? "")) ?? null;
      case "alert_list":
        return store.listAlerts(alertQuery(params));
      case "alert_get_or_null":
        return store.getAlert(String(params.id ?? "")) ?? null;
      case "quarantine_list": {
        const q: QuarantineQuery = {};
        if (typeof params.threatId === "string") q.threatId = params.threatId;
        if (params.includeRestored === true) q.includeRestored = true;
        return store.listQuarantine(q);
      }
      case "allowed_list":
        return store.listAllowed();
      case "allowed_add":
      case "allowed_remove": {
        const name = String(params.name ?? "");
        if (name === "") throw new BmError("A threat name is needed", 2);
        const changed = method === "allowed_add"
          ? store.addAllowed(name)
          : store.removeAllowed(name);
        ctx.allowedThreatsChanged();
        return changed;
      }
      case "threat_restore":
        return this.restore(String(params.id ?? ""), params);
      case "threat_get": {
        const id = String(params.id ?? "");
        const t = store.get(id);
        if (!t) throw new BmError(`Unknown threat "${id}"`, 2);
        return t;
      }
      default:
        throw new BmError(`Unknown control method "${method}"`, 2);
    }
  }

  /** Restores one quarantine entry, or every file of a threat. */
  private restore(id: string, params: Record<string, unknown>): Restored[] {
    const store = this.ctx.store;
    let entries: QuarantineEntry[];
    const one = store.getQuarantine(id);
    if (one) entries = [one];
    else {
      if (!store.get(id)) throw new BmError(`Unknown threat or quarantine entry "${id}"`, 2);
      entries = store.listQuarantine({ threatId: id });
      if (entries.length === 0) throw new BmError(`Threat "${id}" has no file in quarantine`, 2);
    }
    const vault = { dir: this.ctx.quarantineDir(), store, clock: this.ctx.clock };
    return entries.map((entry) => ({
      entry,
      path: restoreFile(entry.id, restoreOptions(params), vault),
    }));
  }
}

function alertQuery(p: Record<string, unknown>): AlertQuery {
  const q: AlertQuery = {};
  if (p.minSeverity !== undefined) {
    if (!(SEVERITIES as readonly unknown[]).includes(p.minSeverity)) {
      throw new BmError(`Unknown severity "${String(p.minSeverity)}"`, 2);
    }
    q.minSeverity = p.minSeverity as Severity;
  }
  if (typeof p.since === "number") q.since = p.since;
  if (typeof p.limit === "number") q.limit = p.limit;
  return q;
}

function restoreOptions(p: Record<string, unknown>): RestoreOptions {
  const o: RestoreOptions = {};
  if (typeof p.destination === "string") o.destination = p.destination;
  if (p.force === true) o.force = true;
  return o;
}
