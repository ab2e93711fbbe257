/** Reading node:sqlite result rows of the store's tables (threats and alerts). */
import type { SQLOutputValue } from "node:sqlite";

/** One result row by column name. */
export type Row = Record<string, SQLOutputValue>;

/** A text column; "" for NULL or a missing column. */
export function str(v: SQLOutputValue | undefined): string {
  return v === null || v === undefined ? "" : String(v);
}

/** A number column (INTEGER may come back as bigint); 0 for NULL or a missing column. */
export function num(v: SQLOutputValue | undefined): number {
  return typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : Number(v ?? 0);
}
