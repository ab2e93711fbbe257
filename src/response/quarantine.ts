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
 *
 * Paths are in the text form of src/sensor/path_codec.ts (as events carry
 * them), so a name that is not UTF-8 is quarantined and restored with its
 * exact bytes (./_place.ts).
 */
import * as fs from "node:fs";
import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import { BmError } from "../errors.ts";
import { ensurePrivateDir, errText } from "../store/state_dir.ts";
import type { QuarantineEntry } from "../store/threat.ts";
import type { ThreatStore } from "../store/threat_store.ts";
import { openPlace, type Place, type PlaceStat, refuse } from "./_place.ts";

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
  const place = openPlace(path, "quarantine");
  try {
    return quarantineAt(place, threatId, o);
  } finally {
    place.close();
  }
}

function quarantineAt(place: Place, threatId: string, o: VaultOptions): QuarantineEntry {
  const path = place.path;
  const before = lstat(place, "quarantine");
  if (before.isSymbolicLink) throw refuse("quarantine", path, "it is a symlink");
  if (!before.isFile) throw refuse("quarantine", path, "not a regular file");
  ensurePrivateDir(o.dir);
  const id = crypto.randomUUID();
  const vpath = `${o.dir}/${id}`;

  let sha256: string;
  let moved = false;
  try {
    place.renameTo(vpath);
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
      place.renameFrom(vpath);
      throw refuse("quarantine", path, "the file changed while it was being moved", 1);
    }
    sha256 = hashFile(vpath);
  } else {
    sha256 = copyAcross(place.openRead(), path, vpath, before);
    try {
      const now = place.lstat();
      if (now.ino !== before.ino || now.dev !== before.dev) throw new Error("the file changed");
      place.unlink();
    } catch (e) {
      fs.unlinkSync(vpath);
      throw refuse("quarantine", path, errText(e), 1);
    }
    place.syncDir();
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
      place.renameFrom(vpath);
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

  let place = openPlace(opts.destination ?? q.original_path, "restore to");
  try {
    let existing: PlaceStat | undefined;
    try {
      existing = place.lstat();
    } catch { /* free: the usual case */ }
    if (existing?.isDirectory) {
      const into = `${place.path.replace(/\/+$/, "")}/${
        q.original_path.slice(q.original_path.lastIndexOf("/") + 1)
      }`;
      place.close();
      place = openPlace(into, "restore to");
      existing = undefined;
      try {
        existing = place.lstat();
      } catch { /* free */ }
    }
    if (existing) {
      if (!opts.force) {
        throw refuse("restore to", place.path, "a file exists there (use --force to replace it)");
      }
      if (existing.isDirectory) throw refuse("restore to", place.path, "it is a directory");
    }
    restoreAt(place, vpath, vst, q, !!opts.force);
  } finally {
    place.close();
  }
  const dest = place.path;
  syncDir(o.dir);

  const now = o.clock.now();
  o.store.markRestored(q.id, dest, now);
  o.store.addAction(q.threat_id, { type: "restore", target: dest, result: "ok", time: now });
  if (o.store.listQuarantine({ threatId: q.threat_id }).length === 0) {
    o.store.setStatus(q.threat_id, "restored");
  }
  return dest;
}

function restoreAt(place: Place, vpath: string, vst: fs.Stats, q: QuarantineEntry, force: boolean) {
  // The vault is root-only, so nobody can swap the file between these calls.
  // chown first: it clears set-id bits that chmod then puts back.
  fs.chownSync(vpath, q.uid, q.gid);
  fs.chmodSync(vpath, q.mode);
  try {
    placeFile(vpath, place, force);
  } catch (e) {
    if ((e as { code?: string }).code !== "EXDEV") {
      fs.chmodSync(vpath, q.mode & 0o666);
      throw e instanceof BmError ? e : refuse("restore to", place.path, errText(e), 1);
    }
    const tmp = place.sibling(`.bm-restore-${crypto.randomUUID()}`);
    try {
      const src = fs.openSync(vpath, C.O_RDONLY | C.O_NOFOLLOW);
      const sha = copyAcross(src, vpath, tmp, vst, q);
      if (sha !== q.sha256) throw new Error("copy differs from the vault file");
      placeFile(tmp, place, force);
    } catch (e2) {
      try {
        fs.unlinkSync(tmp);
      } catch { /* never created */ }
      fs.chmodSync(vpath, q.mode & 0o666);
      throw e2 instanceof BmError ? e2 : refuse("restore to", place.path, errText(e2), 1);
    }
    fs.unlinkSync(vpath);
  }
  place.syncDir();
}

/**
 * Moves `from` to `to`. Without force, link + unlink so an existing `to` is
 * never replaced (link fails with EEXIST atomically). Across file systems
 * EXDEV is thrown back so the caller can copy instead.
 */
function placeFile(from: string, to: Place, force: boolean): void {
  if (force) {
    to.renameFrom(from);
    return;
  }
  try {
    to.linkFrom(from);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "EEXIST") {
      throw refuse("restore to", to.path, "a file exists there (use --force to replace it)");
    }
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP") {
      // File systems without hard links: check, then rename (a small window).
      let exists = true;
      try {
        to.lstat();
      } catch {
        exists = false;
      }
      if (exists) {
        throw refuse("restore to", to.path, "a file exists there (use --force to replace it)");
      }
      to.renameFrom(from);
      return;
    }
    throw e;
  }
  fs.unlinkSync(from);
}

/**
 * Copies the open file `src` (named `from` in messages, must be the inode
 * `expect` describes; closed here) to a new file `to` (O_EXCL|O_NOFOLLOW),
 * fsyncs it and returns the SHA-256. With `owner`, gives the copy that owner
 * and mode through its descriptor.
 */
function copyAcross(
  src: number,
  from: string,
  to: string,
  expect: { ino: number; dev: number },
  owner?: { uid: number; gid: number; mode: number },
): string {
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

function lstat(place: Place, verb: string): PlaceStat {
  try {
    return place.lstat();
  } catch (e) {
    throw refuse(verb, place.path, errText(e));
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
