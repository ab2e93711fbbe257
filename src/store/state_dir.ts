/**
 * Where bm keeps its state: the threat database and the quarantine vault.
 * `BM_STATE_DIR` overrides the default (tests, packaging).
 */
import * as fs from "node:fs";
import { BmError } from "../errors.ts";

export const DEFAULT_STATE_DIR_LINUX = "/var/lib/bm";
export const DEFAULT_STATE_DIR_MACOS = "/Library/Application Support/bm/state";

export function stateDir(env: (name: string) => string | undefined = Deno.env.get): string {
  const v = env("BM_STATE_DIR");
  if (v !== undefined && v !== "") return v;
  return Deno.build.os === "darwin" ? DEFAULT_STATE_DIR_MACOS : DEFAULT_STATE_DIR_LINUX;
}

export function threatDbPath(dir: string): string {
  return `${dir}/threats.db`;
}

export function vaultDir(dir: string): string {
  return `${dir}/quarantine`;
}

/**
 * Creates `path` (and parents) if missing and makes it 0700. Refuses a path
 * that is a symlink or not a directory, and one owned by another user, since
 * whoever owns the state directory could swap the database or the vault.
 */
export function ensurePrivateDir(path: string, use = "as a state directory"): void {
  try {
    fs.mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new BmError(`Cannot create "${path}": ${errText(e)}`);
  }
  const st = fs.lstatSync(path);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new BmError(`Cannot use "${path}" ${use}: not a directory`);
  }
  const uid = Deno.uid();
  if (uid !== null && st.uid !== uid) {
    throw new BmError(`Cannot use "${path}" ${use}: owned by uid ${st.uid}`);
  }
  if ((st.mode & 0o777) !== 0o700) fs.chmodSync(path, 0o700);
}

/** A short reason for an error from a file system call. */
export function errText(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  const code = (e as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "is a symlink";
    case "EEXIST":
      return "already exists";
    case "ENOSPC":
      return "no space left on device";
  }
  return e instanceof Error ? e.message : String(e);
}
