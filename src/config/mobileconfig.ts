/**
 * Finds bm's settings inside a configuration profile (.mobileconfig). Two
 * shapes are accepted, as MDMs write them:
 * - a payload whose PayloadType is bm's domain or `com.microsoft.wdav` with the
 *   settings beside its Payload* keys (Intune / Microsoft's sample profile);
 * - a `com.apple.ManagedClient.preferences` payload holding
 *   `PayloadContent[domain].Forced[].mcx_preference_settings` (custom settings).
 */
import { DEFENDER_DOMAIN, MANAGED_DOMAIN } from "./paths.ts";

const DOMAINS = [MANAGED_DOMAIN, DEFENDER_DOMAIN];

function isDict(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date) &&
    !(v instanceof ArrayBuffer);
}

/** True when a parsed plist is a profile rather than a plain preferences dict. */
export function isProfile(root: unknown): boolean {
  return isDict(root) && Array.isArray(root.PayloadContent) &&
    (root.PayloadType === "Configuration" || typeof root.PayloadType !== "string");
}

export type PayloadResult =
  | { ok: true; settings: Record<string, unknown>; payloadType: string; warnings: string[] }
  | { ok: false; reason: string };

/** The settings dict of the profile's bm (or Defender) payload. */
export function extractPayload(root: Record<string, unknown>): PayloadResult {
  const found: { settings: Record<string, unknown>; payloadType: string }[] = [];
  const types: string[] = [];
  for (const payload of root.PayloadContent as unknown[]) {
    if (!isDict(payload)) continue;
    const type = typeof payload.PayloadType === "string" ? payload.PayloadType : "(none)";
    types.push(type);
    if (payload.PayloadEnabled === false) continue;
    if (DOMAINS.includes(type)) {
      const settings: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(payload)) {
        if (!k.startsWith("Payload")) settings[k] = v;
      }
      found.push({ settings, payloadType: type });
    } else if (type === "com.apple.ManagedClient.preferences" && isDict(payload.PayloadContent)) {
      for (const domain of DOMAINS) {
        const entry = payload.PayloadContent[domain];
        if (!isDict(entry) || !Array.isArray(entry.Forced)) continue;
        for (const forced of entry.Forced) {
          if (isDict(forced) && isDict(forced.mcx_preference_settings)) {
            found.push({ settings: forced.mcx_preference_settings, payloadType: domain });
          }
        }
      }
    }
  }
  const first = found[0];
  if (!first) {
    return {
      ok: false,
      reason: `no payload of type "${MANAGED_DOMAIN}" or "${DEFENDER_DOMAIN}" in PayloadContent` +
        ` (found: ${types.length ? types.map((t) => `"${t}"`).join(", ") : "none"})`,
    };
  }
  const warnings = found.length > 1
    ? [`${found.length} settings payloads found: only the first ("${first.payloadType}") is used`]
    : [];
  return { ok: true, settings: first.settings, payloadType: first.payloadType, warnings };
}
