/**
 * The control socket: JSON lines over a Unix socket, one request and one
 * response per line. The CLI uses it for health, threats, reload and
 * diagnostics.
 *
 *   request:  {"id": 1, "method": "health", "params": {...}}
 *   response: {"id": 1, "ok": true, "result": ...}
 *             {"id": 1, "ok": false, "error": "one line", "exitCode": 1|2}
 *
 * Only root may use it (invariant 7). Deno cannot read a Unix socket peer's
 * credentials (no SO_PEERCRED), so the file system enforces it: the socket
 * lives in a root-owned 0700 directory and is itself 0600, so no other user
 * can even reach it to connect. The directory is made private before the
 * socket is bound, so there is no window with a wider mode.
 *
 * Bounded per connection (ControlLimits): a request line longer than
 * maxLineBytes is answered with an error and the connection closed, without
 * holding more than that much of it; a connection with no complete request
 * for idleTimeoutMs is closed; beyond maxConnections a new connection gets an
 * error line and is closed.
 */
import * as fs from "node:fs";
import { BmError } from "../errors.ts";
import { ensurePrivateDir } from "../store/state_dir.ts";

/** Where the daemon listens: `$BM_STATE_DIR/bm.sock` when set, else the runtime dir. */
export function socketPath(
  env: { get(name: string): string | undefined } = Deno.env,
  os: string = Deno.build.os,
): string {
  const state = env.get("BM_STATE_DIR");
  if (state) return `${state.startsWith("/") ? state : `${Deno.cwd()}/${state}`}/bm.sock`;
  return os === "darwin" ? "/var/run/bm/bm.sock" : "/run/bm/bm.sock";
}

export interface Request {
  id?: number;
  method: string;
  params?: Record<string, unknown>;
}

export type Response =
  | { id?: number; ok: true; result: unknown }
  | { id?: number; ok: false; error: string; exitCode: 1 | 2 };

export type Handler = (method: string, params: Record<string, unknown>) => Promise<unknown>;

/** Per-connection bounds of the server (README: Limits). */
export interface ControlLimits {
  /** Longest request line, bytes. Default 64 KiB. */
  maxLineBytes: number;
  /** A connection must complete a request line within this long of connecting or of the last one. Default 30 s. */
  idleTimeoutMs: number;
  /** Open connections at most. Default 64. */
  maxConnections: number;
}

export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  maxLineBytes: 64 * 1024,
  idleTimeoutMs: 30_000,
  maxConnections: 64,
};

/** The client's bound on a response line (the daemon's answers are trusted, but not unbounded). */
const MAX_RESPONSE_BYTES = 64 << 20;

class LineTooLong extends Error {
  constructor(readonly limit: number) {
    super(`Control request line longer than ${limit} bytes`);
  }
}

class IdleTimeout extends Error {}

/** Makes `dir` exist, root-owned (when root), mode 0700; refuses a symlink or foreign owner. */
export function ensureSocketDir(dir: string): void {
  ensurePrivateDir(dir, "for the control socket");
}

export class ControlServer {
  private conns = new Set<Deno.Conn>();
  private closed = false;
  private loop: Promise<void>;

  /** Connections refused because maxConnections were open. */
  refused = 0;

  private constructor(
    readonly path: string,
    private readonly listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>,
    private readonly handler: Handler,
    private readonly limits: ControlLimits,
  ) {
    this.loop = this.accept();
  }

  /** Binds the socket; throws BmError when another daemon already answers on it. */
  static async listen(
    path: string,
    handler: Handler,
    limits: Partial<ControlLimits> = {},
  ): Promise<ControlServer> {
    const dir = path.slice(0, path.lastIndexOf("/")) || "/";
    ensureSocketDir(dir);
    if (fs.existsSync(path)) {
      if (await answers(path)) {
        throw new BmError(`Another bm daemon is running: "${path}" answers`);
      }
      fs.rmSync(path, { force: true });
    }
    const listener = Deno.listen({ transport: "unix", path });
    fs.chmodSync(path, 0o600);
    return new ControlServer(path, listener, handler, { ...DEFAULT_CONTROL_LIMITS, ...limits });
  }

  private async accept(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        if (this.closed) {
          conn.close();
          break;
        }
        if (this.conns.size >= this.limits.maxConnections) {
          this.refused++;
          this.refuse(conn);
          continue;
        }
        this.conns.add(conn);
        this.serve(conn).finally(() => this.conns.delete(conn));
      }
    } catch (e) {
      if (!this.closed) throw e;
    }
  }

  /** Tells a connection over the cap why, without waiting on it, and closes it. */
  private refuse(conn: Deno.Conn): void {
    const res: Response = {
      ok: false,
      error: `Too many control connections: ${this.limits.maxConnections} open`,
      exitCode: 1,
    };
    writeAll(conn, JSON.stringify(res) + "\n").catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch { /* already closed */ }
    });
  }

  private async serve(conn: Deno.Conn): Promise<void> {
    const { maxLineBytes, idleTimeoutMs } = this.limits;
    try {
      for await (const line of readLines(conn, maxLineBytes, idleTimeoutMs)) {
        if (line.trim() === "") continue;
        const res = await this.dispatch(line);
        await writeAll(conn, JSON.stringify(res) + "\n");
      }
    } catch (e) {
      if (e instanceof LineTooLong) {
        const res: Response = { ok: false, error: e.message, exitCode: 2 };
        await writeAll(conn, JSON.stringify(res) + "\n").catch(() => {});
      }
      /* otherwise the client went away or sat idle */
    } finally {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  private async dispatch(line: string): Promise<Response> {
    let req: Request;
    try {
      req = JSON.parse(line);
      if (typeof req !== "object" || req === null || typeof req.method !== "string") {
        throw new Error("no method");
      }
    } catch {
      return { ok: false, error: 'Bad control request: expected {"method": ...}', exitCode: 2 };
    }
    const id = typeof req.id === "number" ? { id: req.id } : {};
    try {
      const result = await this.handler(req.method, req.params ?? {});
      return { ...id, ok: true, result: result ?? null };
    } catch (e) {
      const exitCode = e instanceof BmError ? e.exitCode : 1;
      return { ...id, ok: false, error: e instanceof Error ? e.message : String(e), exitCode };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener.close();
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await this.loop.catch(() => {});
    try {
      fs.rmSync(this.path, { force: true });
    } catch { /* gone */ }
  }
}

/** Why the daemon could not be asked (the CLI then falls back or says so). */
export class DaemonUnreachable extends BmError {
  constructor(readonly path: string, readonly reason: string) {
    super(`The bm daemon is not running: cannot connect to "${path}": ${reason}`, 1);
  }
}

/**
 * Sends one request and waits for its answer. Throws DaemonUnreachable when
 * nothing listens (or the caller may not connect), BmError with the daemon's
 * exit code when the daemon answers with an error.
 */
export async function callDaemon(
  method: string,
  params: Record<string, unknown> = {},
  options: { path?: string; timeoutMs?: number } = {},
): Promise<unknown> {
  const path = options.path ?? socketPath();
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    throw new DaemonUnreachable(path, connectReason(e));
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await writeAll(conn, JSON.stringify({ id: 1, method, params }) + "\n");
    const reply = (async () => {
      for await (const line of readLines(conn, MAX_RESPONSE_BYTES)) {
        if (line.trim() !== "") return JSON.parse(line) as Response;
      }
      throw new BmError(`The bm daemon closed "${path}" without answering "${method}"`);
    })();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BmError(`The bm daemon did not answer "${method}" in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const res = await Promise.race([reply, timeout]);
    if (!res.ok) throw new BmError(res.error, res.exitCode);
    return res.result;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

function connectReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied (run as root)";
  if (e instanceof Deno.errors.ConnectionRefused) return "connection refused";
  return e instanceof Error ? e.message : String(e);
}

async function answers(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    return false;
  }
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const data = new TextEncoder().encode(text);
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/**
 * Lines of a connection, each at most maxBytes (LineTooLong past that, with
 * no more than maxBytes of it held). idleMs: each line must be complete
 * within this long of the previous one (IdleTimeout otherwise).
 */
async function* readLines(
  conn: Deno.Conn,
  maxBytes: number,
  idleMs?: number,
): AsyncGenerator<string> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(65536);
  let parts: Uint8Array[] = [];
  let size = 0;
  let due = idleMs === undefined ? Infinity : Date.now() + idleMs;
  const line = (last: Uint8Array) => {
    parts.push(last);
    const all = new Uint8Array(size + last.length);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    parts = [];
    size = 0;
    return dec.decode(all);
  };
  while (true) {
    const n = await readBy(conn, buf, due);
    if (n === null) break;
    let chunk = buf.subarray(0, n);
    let i: number;
    while ((i = chunk.indexOf(10)) >= 0) {
      if (size + i > maxBytes) throw new LineTooLong(maxBytes);
      const text = line(chunk.slice(0, i));
      chunk = chunk.subarray(i + 1);
      yield text;
      if (idleMs !== undefined) due = Date.now() + idleMs;
    }
    if (chunk.length) {
      size += chunk.length;
      if (size > maxBytes) throw new LineTooLong(maxBytes);
      parts.push(chunk.slice());
    }
  }
  if (size) {
    const text = line(new Uint8Array(0));
    if (text.trim() !== "") yield text;
  }
}

/** conn.read, or IdleTimeout at `due` (ms since the epoch; Infinity = none). */
function readBy(conn: Deno.Conn, buf: Uint8Array, due: number): Promise<number | null> {
  const read = conn.read(buf);
  if (due === Infinity) return read;
  read.catch(() => {}); // the connection is closed after a timeout: that read then fails
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IdleTimeout()), Math.max(0, due - Date.now()));
  });
  return Promise.race([read, idle]).finally(() => clearTimeout(timer));
}
