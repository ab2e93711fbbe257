/**
 * Quarantine: move a file into the root-only vault and back.
 *
 * Moving is a rename when the vault is on the same file system, else copy +
 * fsync + unlink. The vault copy loses its execute and set-id bits; the
 * store keeps the original path, owner, mode, size and SHA-256, and restore
 * puts the file back byte-identical with owner and mode. Restore never
 * overwrites a file that exists at the destination unless forced (the
 * no-clobber case uses link(2), which fails atomically on an existing name).
 *
 * Never follows a symlink out of the path it means: the file itself must not
 * be a symlink, no directory on the way may be one (the parent must be its own
 * real path), files are opened O_NOFOLLOW and the file moved is checked to be
 * the one inspected (same device and inode). Never runs a shell.
 */
import * as fs from "node:fs";
import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import { BmError } from "../errors.ts";
import { ensurePrivateDir, errText } from "../store/state_dir.ts";
import type { QuarantineEntry } from "../store/threat.ts";
import type { ThreatStore } from "../store/threat_store.ts";

export interface VaultOptions {
  /** The vault directory, created 0700 (normally `vaultDir(stateDir())`). */
  dir: string;
  store: ThreatStore;
  clock: Clock;
}

export interface RestoreOptions {
  /** Where to put the file; an existing directory gets the original name. Default: the original path. */
  destination?: string;
  /** Replace a file that exists at the destination. */
  force?: boolean;
}

const C = fs.constants;
const CHUNK = 1 << 20;

/** Moves `path` into the vault and records it for `threatId`. Throws BmError on refusal or failure. */
export function quarantineFile(path: string, threatId: string, o: VaultOptions): QuarantineEntry {
  checkPath(path, "quarantine");
  const before = lstat(path, "quarantine");
  if (before.isSymbolicLink()) throw refuse("quarantine", path, "it is a symlink");
  if (!before.isFile()) throw refuse("quarantine", path, "not a regular file");
  ensurePrivateDir(o.dir);
  const id = crypto.randomUUID();
  const vpath = `${o.dir}/${id}`;

  let sha256: string;
  let moved = false;
  try {
    fs.renameSync(path, vpath);
    moved = true;
  } catch (e) {
    if ((e as { code?: string }).code !== "EXDEV") {
      throw refuse("quarantine", path, errText(e), 1);
    }
  }
  if (moved) {
    const after = fs.lstatSync(vpath);
    if (after.isSymbolicLink() || after.ino !== before.ino || after.dev !== before.dev) {
      // Swapped between lstat and rename: put back whatever we moved.
      fs.renameSync(vpath, path);
      throw refuse("quarantine", path, "the file changed while it was being moved", 1);
    }
    sha256 = hashFile(vpath);
  } else {
    sha256 = copyAcross(path, vpath, before);
    try {
      const now = fs.lstatSync(path);
      if (now.ino !== before.ino || now.dev !== before.dev) throw new Error("the file changed");
      fs.unlinkSync(path);
    } catch (e) {
      fs.unlinkSync(vpath);
      throw refuse("quarantine", path, errText(e), 1);
    }
    syncDir(parentOf(path));
  }
  fs.chmodSync(vpath, before.mode & 0o666);
  syncDir(o.dir);

  const entry: QuarantineEntry = {
    id,
    threat_id: threatId,
    original_path: path,
    uid: before.uid,
    gid: before.gid,
    mode: before.mode & 0o7777,
    size: before.size,
    sha256,
    quarantined_time: o.clock.now(),
  };
  try {
    o.store.addQuarantine(entry);
  } catch (e) {
    // Without an index entry the file could never be restored: put it back.
    try {
      fs.chmodSync(vpath, entry.mode);
      fs.renameSync(vpath, path);
    } catch { /* leave it in the vault rather than lose it */ }
    throw e;
  }
  return entry;
}

/** Puts a quarantined file back; returns the path it was restored to. */
export function restoreFile(entryId: string, opts: RestoreOptions, o: VaultOptions): string {
  const q = o.store.getQuarantine(entryId);
  if (!q) throw new BmError(`Unknown quarantine entry "${entryId}"`, 2);
  if (q.restored_time !== undefined) {
    throw new BmError(
      `Quarantined file "${q.original_path}" was already restored to "${q.restored_path}"`,
    );
  }
  const vpath = `${o.dir}/${q.id}`;
  let vst: fs.Stats;
  try {
    vst = fs.lstatSync(vpath);
  } catch (e) {
    throw new BmError(
      `Cannot restore "${q.original_path}" for threat "${q.threat_id}": vault file "${vpath}" ${
        (e as { code?: string }).code === "ENOENT" ? "is missing" : errText(e)
      }`,
    );
  }
  if (vst.isSymbolicLink() || !vst.isFile()) {
    throw new BmError(
      `Cannot restore "${q.original_path}": vault file "${vpath}" is not a regular file`,
    );
  }
  if (hashFile(vpath) !== q.sha256) {
    throw new BmError(
      `Cannot restore "${q.original_path}": vault file "${vpath}" has changed (SHA-256 differs)`,
    );
  }

  let dest = opts.destination ?? q.original_path;
  checkPath(dest, "restore to");
  try {
    const d = fs.lstatSync(dest);
    if (d.isDirectory()) {
      dest = `${dest.replace(/\/+$/, "")}/${
        q.original_path.slice(q.original_path.lastIndexOf("/") + 1)
      }`;
      checkPath(dest, "restore to");
    }
  } catch { /* does not exist: the usual case */ }
  let existing: fs.Stats | undefined;
  try {
    existing = fs.lstatSync(dest);
  } catch { /* free */ }
  if (existing) {
    if (!opts.force) {
      throw refuse("restore to", dest, "a file exists there (use --force to replace it)");
    }
    if (existing.isDirectory()) throw refuse("restore to", dest, "it is a directory");
  }

  // The vault is root-only, so nobody can swap the file between these calls.
  // chown first: it clears set-id bits that chmod then puts back.
  fs.chownSync(vpath, q.uid, q.gid);
  fs.chmodSync(vpath, q.mode);
  try {
    placeFile(vpath, dest, !!opts.force);
  } catch (e) {
    if ((e as { code?: string }).code !== "EXDEV") {
      fs.chmodSync(vpath, q.mode & 0o666);
      throw e instanceof BmError ? e : refuse("restore to", dest, errText(e), 1);
    }
    const tmp = `${parentOf(dest)}/.bm-restore-${crypto.randomUUID()}`;
    try {
      const sha = copyAcross(vpath, tmp, vst, q);
      if (sha !== q.sha256) throw new Error("copy differs from the vault file");
      placeFile(tmp, dest, !!opts.force);
    } catch (e2) {
      try {
        fs.unlinkSync(tmp);
      } catch { /* never created */ }
      fs.chmodSync(vpath, q.mode & 0o666);
      throw e2 instanceof BmError ? e2 : refuse("restore to", dest, errText(e2), 1);
    }
    fs.unlinkSync(vpath);
  }
  syncDir(parentOf(dest));
  syncDir(o.dir);

  const now = o.clock.now();
  o.store.markRestored(q.id, dest, now);
  o.store.addAction(q.threat_id, { type: "restore", target: dest, result: "ok", time: now });
  if (o.store.listQuarantine({ threatId: q.threat_id }).length === 0) {
    o.store.setStatus(q.threat_id, "restored");
  }
  return dest;
}

/**
 * Moves `from` to `to`. Without force, link + unlink so an existing `to` is
 * never replaced (link fails with EEXIST atomically). Across file systems
 * EXDEV is thrown back so the caller can copy instead.
 */
function placeFile(from: string, to: string, force: boolean): void {
  if (force) {
    fs.renameSync(from, to);
    return;
  }
  try {
    fs.linkSync(from, to);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EEXIST") {
      throw refuse("restore to", to, "a file exists there (use --force to replace it)");
    }
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP") {
      // File systems without hard links: check, then rename (a small window).
      let exists = true;
      try {
        fs.lstatSync(to);
      } catch {
        exists = false;
      }
      if (exists) throw refuse("restore to", to, "a file exists there (use --force to replace it)");
      fs.renameSync(from, to);
      return;
    }
    throw e;
  }
  fs.unlinkSync(from);
}

/**
 * Copies `from` (O_NOFOLLOW, must be the inode `expect` describes) to a new
 * file `to` (O_EXCL|O_NOFOLLOW), fsyncs it and returns the SHA-256. With
 * `owner`, gives the copy that owner and mode through its descriptor.
 */
function copyAcross(
  from: string,
  to: string,
  expect: fs.Stats,
  owner?: { uid: number; gid: number; mode: number },
): string {
  const src = fs.openSync(from, C.O_RDONLY | C.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(src);
    if (st.ino !== expect.ino || st.dev !== expect.dev) {
      throw refuse("quarantine", from, "the file changed while it was being copied", 1);
    }
    const dst = fs.openSync(to, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
    const hash = createHash("sha256");
    try {
      const buf = new Uint8Array(CHUNK);
      for (;;) {
        const n = fs.readSync(src, buf, 0, CHUNK, null);
        if (n === 0) break;
        const chunk = buf.subarray(0, n);
        hash.update(chunk);
        let off = 0;
        while (off < n) off += fs.writeSync(dst, chunk, off, n - off);
      }
      if (owner) {
        fs.fchownSync(dst, owner.uid, owner.gid);
        fs.fchmodSync(dst, owner.mode);
      }
      fs.fsyncSync(dst);
    } finally {
      fs.closeSync(dst);
    }
    return hash.digest("hex");
  } finally {
    fs.closeSync(src);
  }
}

export function hashFile(path: string): string {
  const fd = fs.openSync(path, C.O_RDONLY | C.O_NOFOLLOW);
  try {
    const hash = createHash("sha256");
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
    return hash.digest("hex");
  } finally {
    fs.closeSync(fd);
  }
}

/** Absolute, and every directory on the way is its own real path (no symlinks, no `..`). */
function checkPath(path: string, verb: string): void {
  if (!path.startsWith("/")) throw refuse(verb, path, "not an absolute path");
  const parent = parentOf(path);
  let real: string;
  try {
    real = fs.realpathSync(parent);
  } catch (e) {
    throw refuse(verb, path, `directory "${parent}": ${errText(e)}`);
  }
  if (real !== parent) {
    throw refuse(verb, path, `directory "${parent}" goes through a symlink (to "${real}")`);
  }
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (base === "" || base === "." || base === "..") throw refuse(verb, path, "not a file name");
}

function lstat(path: string, verb: string): fs.Stats {
  try {
    return fs.lstatSync(path);
  } catch (e) {
    throw refuse(verb, path, errText(e));
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A refusal (the path or what is there) is bad input, exit 2; a failure of the OS is exit 1. */
function refuse(verb: string, path: string, why: string, exitCode: 1 | 2 = 2): BmError {
  return new BmError(`Cannot ${verb} "${path}": ${why}`, exitCode);
}
