/**
 * forwardRtpToBm, live: hashes files that are executed or closed after a
 * write and, when a SHA-256 is on the blocklist, hands the agent an
 * `rtp_verdict` event of the same process for the engine to score.
 *
 * Off the hot path: `offer` only checks and enqueues (bounded; full = drop,
 * counted); one worker hashes with streaming reads, so neither the auth answer
 * nor the engine's processing of the original event waits for file I/O.
 * The follow-up is a synthesized `rtp_verdict`, not a copy of the original
 * event with `file.hash.sha256` set: a copied exec would pass through the
 * process table and every exec rule a second time.
 *
 * Files are opened without following a symlink in the last component and
 * without blocking on FIFOs; only regular files up to `maxBytes` are hashed.
 * A cache keyed by (dev, ino, size, mtime) hashes a file run 1,000 times once.
 *
 * Cost: every exec on the machine is offered, so the common case (a binary
 * already hashed) is one lstat (Deno's, a third of node:fs's) and a map
 * look-up. What the sensor record already says is used before any syscall: a
 * written file whose record names a directory or a size over `maxBytes` is
 * skipped in `offer`, and a job already waiting for the same process and path
 * (a log appended to by one open-write-close after another) is not queued
 * twice. The worker starts after the batch that offered its first job (a
 * microtask: never between an event and its answer) and runs the small-file
 * path without a promise per job. Small files (up to SYNC_MAX) are read with
 * synchronous syscalls, which costs a few µs from the page cache where each
 * async file op costs a hop to Deno's blocking pool and back (several times
 * that, on two threads); the worker gives the event loop a turn every SLICE_MS
 * so sensor waits and auth answers never queue behind it. Larger files are
 * read SYNC_MAX bytes at a time (FileCalls: through libc, synchronously between
 * those turns; through node:fs, one asynchronous hop a read).
 */
import { createHash } from "node:crypto";
import fs, { constants } from "node:fs";
import type { BmEvent, ProcessFields } from "../sensor/event.ts";
import {
  AT_FDCWD,
  closeFd,
  fstatFd,
  lstatAt,
  O,
  openBytes,
  openForNode,
  readFd,
} from "../../ffi/libc_fs.ts";
import { pathToBytes, pathToOsString } from "../sensor/path_codec.ts";
import { blocklistSizes } from "../engine/rtp_blocklist.ts";

export interface RtpCounters {
  /** Files read and hashed (cache misses). */
  filesHashed: number;
  /** Events answered from the (dev, ino, size, mtime) cache. */
  cacheHits: number;
  /** Hashes found in the blocklist (one follow-up event each). */
  matches: number;
  /** Not hashed: too big, not a regular file, a symlink, vanished or unreadable. */
  skipped: number;
  /** Jobs dropped because the queue was full. */
  queueDropped: number;
  /** Jobs not queued because the same process's job for the same path was waiting. */
  coalesced: number;
  /** Files not hashed because no blocklist entry has their size (every entry gave one). */
  sizeFiltered: number;
}

export interface RtpScannerOptions {
  /** Receives each follow-up `rtp_verdict` event (the agent's inject). */
  sink: (event: BmEvent) => void;
  enabled?: boolean;
  blocklist?: ReadonlySet<string>;
  /** Pending jobs at most (default 1,024). */
  queueMax?: number;
  /** Larger files are skipped (default 64 MiB). */
  maxBytes?: number;
  /** Cached hashes at most (default 8,192). */
  cacheMax?: number;
  /** Called with why a file was skipped (debug logging). */
  onSkip?: (path: string, reason: string) => void;
}

interface Job {
  event: BmEvent;
  path: string;
  /** The pending-job key (writer and path) of a close_modified job, removed when it runs. */
  key: string | undefined;
}

/** Files up to this size are hashed with synchronous reads (one read from the page cache). */
const SYNC_MAX = 256 * 1024;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
/** The worker yields to the event loop at least this often. */
const SLICE_MS = 2;
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Exec jobs remembered to skip the second exec event of one exec (Linux auth + notify). */
const RECENT_EXEC_MAX = 4096;

export class RtpScanner {
  readonly counters: RtpCounters = {
    filesHashed: 0,
    cacheHits: 0,
    matches: 0,
    skipped: 0,
    queueDropped: 0,
    coalesced: 0,
    sizeFiltered: 0,
  };
  private enabled: boolean;
  private blocklist: ReadonlySet<string>;
  /** The sizes of the blocklisted files, when the list says (rtp_blocklist.ts). */
  private sizes: ReadonlySet<number> | undefined;
  private readonly queueMax: number;
  private readonly maxBytes: number;
  private readonly cacheMax: number;
  private queue: Job[] = [];
  private head = 0;
  private readonly cache = new Map<string, string>();
  /** Per process (entity id, else pid): the file of its last exec record not yet seen twice. */
  private readonly recentExec = new Map<string | number, string>();
  /** Keys of the close_modified jobs waiting in the queue. */
  private readonly pendingWrites = new Set<string>();
  private worker: Promise<void> | undefined;
  /** One read buffer: the single worker hashes one file at a time (one more byte shows growth). */
  private readonly readBuf = new Uint8Array(SYNC_MAX + 1);
  private stopped = false;

  constructor(private readonly o: RtpScannerOptions) {
    this.enabled = o.enabled ?? true;
    this.blocklist = o.blocklist ?? new Set();
    this.sizes = blocklistSizes(this.blocklist);
    this.queueMax = o.queueMax ?? 1024;
    this.maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
    this.cacheMax = o.cacheMax ?? 8192;
  }

  /** Turns scanning on or off and replaces the blocklist (start and reload). */
  configure(enabled: boolean, blocklist: ReadonlySet<string>): void {
    this.enabled = enabled;
    this.blocklist = blocklist;
    this.sizes = blocklistSizes(blocklist);
  }

  get blocklistSize(): number {
    return this.blocklist.size;
  }

  /** Pending jobs. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Hot path: O(1), no I/O. Enqueues a hash job for an exec or close_modified event. */
  offer(ev: BmEvent): void {
    if (!this.enabled || this.stopped || this.blocklist.size === 0) return;
    const action = ev.event.action;
    if (action !== "exec" && action !== "close_modified") return;
    const file = (ev as {
      file?: { path?: string; hash?: { sha256?: string }; mode?: number; size?: number };
    }).file;
    // A source that hashes already: the engine checks the blocklist itself.
    if (file?.hash?.sha256 !== undefined) return;
    const path = file?.path ?? (action === "exec" ? ev.process.executable : undefined);
    if (path === undefined || path === "" || !path.startsWith("/")) return;
    let key: string | undefined;
    if (action === "close_modified") {
      // The record's own facts first: no job (and no syscall) for what cannot be hashed.
      const mode = file?.mode;
      if (mode !== undefined && mode !== 0 && (mode & S_IFMT) !== S_IFREG) {
        this.skip(path, "not a regular file");
        return;
      }
      if (file?.size !== undefined && file.size > this.maxBytes) {
        this.skip(path, `over ${this.maxBytes} bytes`);
        return;
      }
      key = `${ev.process.entity_id ?? ev.process.pid}\0${path}`;
      if (this.pendingWrites.has(key)) {
        // the waiting job hashes the file as it is then, and scores the same writer
        this.counters.coalesced++;
        return;
      }
    } else {
      // Linux reports one exec twice (held auth exec, then the notify exec):
      // whichever names the file first is hashed. Keyed by the process, not a
      // string built per exec: a process's next exec replaces a record whose
      // second report never came.
      const who = ev.process.entity_id ?? ev.process.pid;
      if (this.recentExec.get(who) === path) {
        this.recentExec.delete(who);
        return;
      }
      this.recentExec.set(who, path);
      if (this.recentExec.size > RECENT_EXEC_MAX) {
        const oldest = this.recentExec.keys().next().value;
        if (oldest !== undefined) this.recentExec.delete(oldest);
      }
    }
    // The record's size (an exec's image, a written file): no job when no listed file has it.
    const size = file?.size;
    if (size !== undefined && size >= 0 && !this.sizeListed(size)) return;
    if (this.pending >= this.queueMax) {
      // A burst of writes (a tar extraction) fills the queue within one batch, before the
      // worker runs: a sized list can still rule a file out now by one lstat, so only a
      // file that could match is lost (and counted).
      if (size === undefined && this.sizes !== undefined && !this.sizeOnDiskListed(path)) return;
      this.counters.queueDropped++;
      return;
    }
    if (key !== undefined) this.pendingWrites.add(key);
    this.queue.push({ event: ev, path, key });
    // After the batch in hand, never inside it: offer runs between events and their answers.
    this.worker ??= Promise.resolve().then(() => this.work());
  }

  /** Resolves when the queue is empty and no hash is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.worker !== undefined) await this.worker;
  }

  /** Stops taking jobs; drops those pending; resolves when the job in flight is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    this.pendingWrites.clear();
    await this.idle();
  }

  /**
   * The one worker: hashes jobs until the queue is empty. It clears `worker`
   * itself, in the same synchronous run as its last look at the queue: a
   * `.finally` on its promise ran a few microtasks later, and a job offered in
   * between found a worker still set that would not look again (the job was
   * left in the queue until some later offer).
   */
  private async work(): Promise<void> {
    try {
      let slice = performance.now();
      while (!this.stopped && this.head < this.queue.length) {
        if (performance.now() - slice >= SLICE_MS) {
          await new Promise((r) => setTimeout(r, 0));
          slice = performance.now();
          continue;
        }
        const job = this.queue[this.head]!;
        this.queue[this.head] = undefined as unknown as Job;
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        if (job.key !== undefined) this.pendingWrites.delete(job.key);
        const quick = this.hashSmall(job.path);
        const hash = quick === LARGE ? await this.hashLarge(job.path) : quick;
        if (hash === undefined || this.stopped) continue;
        if (!this.blocklist.has(hash)) continue;
        this.counters.matches++;
        this.o.sink(rtpVerdictEvent(job.event, job.path, hash));
      }
      if (this.head >= this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
    } finally {
      // No await between the loop's last look at the queue and here.
      this.worker = undefined;
    }
  }

  /**
   * SHA-256 of a regular file (lower-case hex), from the cache when unchanged,
   * with synchronous syscalls only; LARGE when the file is over SYNC_MAX (the
   * caller streams it with hashLarge). The cache check is one lstat: no open,
   * no async hop, for the binary run 1,000 times.
   */
  private hashSmall(path: string): string | undefined | typeof LARGE {
    const name = CALLS.name(path);
    let lst: FileFacts | undefined;
    try {
      lst = CALLS.lstat(name);
    } catch (e) {
      return this.skip(path, errCode(e));
    }
    // undefined: these calls cannot name it by path (not UTF-8 for node:fs); the fstat decides
    if (lst !== undefined) {
      if (lst.isSymbolicLink) return this.skip(path, "symlink");
      const id = this.identityOf(path, lst);
      if (id === undefined) return undefined;
      const cached = this.cached(id.key);
      if (cached !== undefined) return cached;
      if (id.size > SYNC_MAX) return LARGE;
    }
    const fd = this.open(path, name);
    if (fd === undefined) return undefined;
    try {
      const id = this.identityOf(path, CALLS.fstat(fd));
      if (id === undefined) return undefined;
      const hit = this.cached(id.key);
      if (hit !== undefined) return hit;
      if (id.size > SYNC_MAX) return LARGE; // grew since the lstat
      const buf = this.readBuf;
      const n = CALLS.read(fd, buf, buf.length);
      if (n > SYNC_MAX) return LARGE; // one byte more than SYNC_MAX: grew since the fstat
      return this.remember(id.key, createHash("sha256").update(buf.subarray(0, n)).digest("hex"));
    } catch (e) {
      return this.skip(path, errCode(e));
    } finally {
      CALLS.close(fd);
    }
  }

  /**
   * hashSmall for files over SYNC_MAX: SYNC_MAX bytes a read, from the page
   * cache where a file just written or run is; the event loop gets a turn
   * every SLICE_MS (and at every read that is asynchronous).
   */
  private async hashLarge(path: string): Promise<string | undefined> {
    const fd = this.open(path, CALLS.name(path));
    if (fd === undefined) return undefined;
    try {
      const id = this.identityOf(path, CALLS.fstat(fd));
      if (id === undefined) return undefined;
      const hit = this.cached(id.key);
      if (hit !== undefined) return hit;
      const h = createHash("sha256");
      const buf = this.readBuf;
      let total = 0;
      let slice = performance.now();
      for (;;) {
        if (performance.now() - slice >= SLICE_MS) {
          await new Promise((r) => setTimeout(r, 0));
          if (this.stopped) return undefined;
          slice = performance.now();
        }
        const read = CALLS.readLarge(fd, buf, SYNC_MAX);
        const n = typeof read === "number" ? read : await read;
        if (n === 0) break;
        total += n;
        if (total > this.maxBytes) return this.skip(path, `over ${this.maxBytes} bytes`);
        h.update(buf.subarray(0, n));
      }
      return this.remember(id.key, h.digest("hex"));
    } catch (e) {
      return this.skip(path, errCode(e));
    } finally {
      CALLS.close(fd);
    }
  }

  private open(path: string, name: unknown): number | undefined {
    try {
      return CALLS.open(name);
    } catch (e) {
      this.skip(path, (e as { code?: string }).code === "ELOOP" ? "symlink" : errCode(e));
      return undefined;
    }
  }

  /**
   * The cache key and size of the file (its identity, not the path's), or
   * undefined (skipped) when it is no regular file, too big or of no listed size.
   */
  private identityOf(path: string, st: FileFacts): { key: string; size: number } | undefined {
    if (!st.isFile) return this.skip(path, "not a regular file");
    if (st.size > this.maxBytes) return this.skip(path, `over ${this.maxBytes} bytes`);
    if (!this.sizeListed(st.size)) return undefined;
    return { key: cacheKey(st.dev, st.ino, st.size, st.mtimeMs), size: st.size };
  }

  /** The cached hash of an unchanged file, counted as a hit. */
  private cached(key: string): string | undefined {
    const hit = this.cache.get(key);
    if (hit !== undefined) this.counters.cacheHits++;
    return hit;
  }

  private remember(key: string, hex: string): string {
    this.counters.filesHashed++;
    this.cache.set(key, hex);
    if (this.cache.size > this.cacheMax) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    return hex;
  }

  /** sizeListed on the file's size now (one lstat); a file that cannot be stat'ed cannot match. */
  private sizeOnDiskListed(path: string): boolean {
    let lst: FileFacts | undefined;
    try {
      lst = CALLS.lstat(CALLS.name(path));
    } catch {
      return false;
    }
    return lst === undefined || this.sizeListed(lst.size); // unnamed by path: it could match
  }

  /** False (counted) when the blocklist gives sizes and none is `size`: the file cannot match. */
  private sizeListed(size: number): boolean {
    if (this.sizes === undefined || this.sizes.has(size)) return true;
    this.counters.sizeFiltered++;
    return false;
  }

  private skip(path: string, reason: string): undefined {
    this.counters.skipped++;
    this.o.onSkip?.(path, reason);
    return undefined;
  }
}

/**
 * The follow-up event: same process, the original event's time (so replaying
 * what the daemon saw gives the same scores), the file and its hash.
 */
export function rtpVerdictEvent(orig: BmEvent, path: string, sha256: string): BmEvent {
  const p = orig.process;
  const process: ProcessFields = { pid: p.pid };
  if (p.entity_id !== undefined) process.entity_id = p.entity_id;
  if (p.start !== undefined) process.start = p.start;
  const exe = orig.event.action === "exec" ? path : p.executable;
  if (exe !== undefined) process.executable = exe;
  if (p.parent !== undefined) {
    process.parent = { pid: p.parent.pid };
    if (p.parent.entity_id !== undefined) process.parent.entity_id = p.parent.entity_id;
  }
  const ev: BmEvent = {
    "@timestamp": orig["@timestamp"],
    event: { action: "rtp_verdict" },
    process,
    file: { path, hash: { sha256 } },
    bm: { source: "rtp", rtp_threat: `sha256:${sha256}` },
  };
  if (orig.user !== undefined) ev.user = orig.user;
  return ev;
}

/** hashSmall's answer for a file it leaves to hashLarge. */
const LARGE = Symbol("large");

/** What the scanner reads of a file, from its lstat or the fstat of the file opened (ffi's ByteStat is one). */
interface FileFacts {
  isFile: boolean;
  isSymbolicLink: boolean;
  size: number;
  dev: number;
  ino: number | null;
  mtimeMs: number | undefined;
}

/**
 * The file calls the scanner makes, on a name prepared once per job. Method
 * syntax on purpose: each implementation takes its own name type and the
 * scanner passes back only what `name` gave it.
 */
interface FileCalls<Name> {
  name(path: string): Name;
  /** undefined when these calls cannot name the file by its path (the fstat decides). */
  lstat(name: Name): FileFacts | undefined;
  /** Read-only, not following a symlink (ELOOP), not blocking on a FIFO. */
  open(name: Name): number;
  fstat(fd: number): FileFacts;
  read(fd: number, buf: Uint8Array, len: number): number;
  /** A read of a large file: synchronous, or a hop to the blocking pool. */
  readLarge(fd: number, buf: Uint8Array, len: number): number | Promise<number>;
  close(fd: number): void;
}

/**
 * Linux: libc through FFI (ffi/libc_fs.ts) on the name's bytes, which also
 * names a file that is not UTF-8. Each node:fs call costs µs of wrapping (its
 * fstat alone about 6 µs, more than open, read and close together); these are
 * one FFI call and one syscall each, so a written file costs about a third as
 * much. Large files are read synchronously too, between SLICE_MS turns.
 */
const LIBC_CALLS: FileCalls<Uint8Array> = {
  name: pathToBytes,
  lstat: (bytes) => lstatAt(AT_FDCWD, bytes),
  open: (bytes) => openBytes(bytes, O.RDONLY | O.NOFOLLOW | O.NONBLOCK),
  fstat: fstatFd,
  read: readFd,
  readLarge: readFd,
  close: closeFd,
};

/** Elsewhere: Deno's lstat (a third of node:fs's) and node:fs; large files read asynchronously. */
const NODE_CALLS: FileCalls<{ path: string; os: string | undefined }> = {
  name: (path) => ({ path, os: pathToOsString(path) }),
  lstat: ({ os }) => {
    if (os === undefined) return undefined;
    const st = Deno.lstatSync(os);
    return {
      isFile: st.isFile,
      isSymbolicLink: st.isSymlink,
      size: st.size,
      dev: st.dev,
      ino: st.ino,
      mtimeMs: st.mtime?.getTime(),
    };
  },
  open: ({ path, os }) =>
    os !== undefined ? fs.openSync(os, OPEN_FLAGS) : openForNode(
      pathToBytes(path),
      O.RDONLY | O.NOFOLLOW | O.NONBLOCK,
      constants.O_RDONLY | constants.O_NONBLOCK,
    ),
  fstat: (fd) => {
    const st = fs.fstatSync(fd);
    return {
      isFile: st.isFile(),
      isSymbolicLink: false,
      size: st.size,
      dev: st.dev,
      ino: st.ino,
      mtimeMs: st.mtimeMs,
    };
  },
  read: (fd, buf, len) => fs.readSync(fd, buf, 0, len, null),
  readLarge: (fd, buf, len) =>
    new Promise<number>((ok, bad) =>
      fs.read(fd, buf, 0, len, null, (err, n) => err ? bad(err) : ok(n))
    ),
  close: closeQuietly,
};

/** Files are read through libc (Linux) or node:fs (elsewhere). */
const CALLS: FileCalls<unknown> = Deno.build.os === "linux" ? LIBC_CALLS : NODE_CALLS;

function cacheKey(
  dev: number,
  ino: number | null,
  size: number,
  mtimeMs: number | undefined,
): string {
  return `${dev}:${ino}:${size}:${mtimeMs}`;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch { /* already closed */ }
}

function errCode(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "ENOENT") return "vanished";
  return code ?? (e instanceof Error ? e.message : String(e));
}
