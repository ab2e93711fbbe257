/**
 * Merges the three sources into effective settings with each key's source.
 * Scalars: managed > local > default. Lists in POLICY_LISTS follow the
 * effective `antivirusEngine.exclusionsMergePolicy`: `merge` = union of managed
 * and local (source: the highest source that contributed), `admin_only` =
 * managed only (local entries ignored, with a warning). Other lists are
 * scalars for precedence.
 */
import { getPath, POLICY_LISTS, setPath, SETTING_KEYS, type Settings } from "./schema.ts";
import type { Source } from "./schema.ts";

export interface Merged {
  settings: Settings;
  /** Every setting's dotted key -> where its effective value came from. */
  sources: Record<string, Source>;
  warnings: string[];
}

/** A canonical JSON key so list entries compare by value (object key order ignored). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Union of lists, first occurrence kept, order managed then local. */
export function unionLists(...lists: unknown[][]): unknown[] {
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const list of lists) {
    for (const item of list) {
      const k = canonical(item);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(item);
      }
    }
  }
  return out;
}

export function mergeSettings(
  defaults: Settings,
  managed: ReadonlyMap<string, unknown>,
  local: ReadonlyMap<string, unknown>,
  files: { managed: string; local: string } = { managed: "managed", local: "local" },
): Merged {
  const settings = structuredClone(defaults) as Record<string, unknown>;
  const sources: Record<string, Source> = {};
  const warnings: string[] = [];
  for (const key of SETTING_KEYS) {
    if (POLICY_LISTS.includes(key)) continue;
    if (managed.has(key)) {
      setPath(settings, key, structuredClone(managed.get(key)));
      sources[key] = "managed";
    } else if (local.has(key)) {
      setPath(settings, key, structuredClone(local.get(key)));
      sources[key] = "local";
    } else {
      sources[key] = "default";
    }
  }
  const policy = getPath(settings, "antivirusEngine.exclusionsMergePolicy");
  for (const key of SETTING_KEYS) {
    if (!POLICY_LISTS.includes(key)) continue;
    const m = managed.get(key) as unknown[] | undefined;
    const l = local.get(key) as unknown[] | undefined;
    if (policy === "admin_only") {
      if (l !== undefined) {
        warnings.push(
          `${files.local}: ${key}: ignored: exclusionsMergePolicy is "admin_only"` +
            ` (only the managed list applies)`,
        );
      }
      if (m !== undefined) {
        setPath(settings, key, structuredClone(m));
        sources[key] = "managed";
      } else {
        sources[key] = "default";
      }
    } else if (m !== undefined || l !== undefined) {
      setPath(settings, key, structuredClone(unionLists(m ?? [], l ?? [])));
      sources[key] = m !== undefined ? "managed" : "local";
    } else {
      sources[key] = "default";
    }
  }
  // Schema order, so `config show` and its JSON list keys the same way.
  const ordered: Record<string, Source> = {};
  for (const key of SETTING_KEYS) ordered[key] = sources[key]!;
  return { settings: settings as Settings, sources: ordered, warnings };
}
