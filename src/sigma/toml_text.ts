/**
 * Writes the TOML of an imported rule: conditions as inline tables (one per
 * line of a `where` list), so the loader's file:line messages point at them.
 */

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

export function tomlString(s: string): string {
  // JSON's escapes are TOML's, except DEL, which TOML wants escaped too.
  return JSON.stringify(s).replace(/\x7f/g, "\\u007F");
}

export function tomlValue(v: unknown): string {
  if (typeof v === "string") return tomlString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    const parts = Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) =>
      `${BARE_KEY.test(k) ? k : tomlString(k)} = ${tomlValue(x)}`
    );
    return parts.length === 0 ? "{}" : `{ ${parts.join(", ")} }`;
  }
  throw new Error(`Cannot write ${String(v)} as TOML`);
}

/** A `# ` comment line; newlines inside become spaces. */
export function tomlComment(text: string): string {
  return `# ${text.replace(/[\r\n]+/g, " ").trimEnd()}`;
}
