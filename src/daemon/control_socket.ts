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

const MAX_LINE = 1 << 20;

/** Makes `dir` exist, root-owned (when root), mode 0700; refuses a symlink or foreign owner. */
export function ensureSocketDir(dir: string): void {
  ensurePrivateDir(dir, "for the control socket");
}

export class ControlServer {
  private conns = new Set<Deno.Conn>();
  private closed = false;
  private loop: Promise<void>;

  private constructor(
    readonly path: string,
    private readonly listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>,
    private readonly handler: Handler,
  ) {
    this.loop = this.accept();
  }

  /** Binds the socket; throws BmError when another daemon already answers on it. */
  static async listen(path: string, handler: Handler): Promise<ControlServer> {
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
    return new ControlServer(path, listener, handler);
  }

  private async accept(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        if (this.closed) {
          conn.close();
          break;
        }
        this.conns.add(conn);
        this.serve(conn).finally(() => this.conns.delete(conn));
      }
    } catch (e) {
      if (!this.closed) throw e;
    }
  }

  private async serve(conn: Deno.Conn): Promise<void> {
    try {
      for await (const line of readLines(conn)) {
        if (line.trim() === "") continue;
        const res = await this.dispatch(line);
        await writeAll(conn, JSON.stringify(res) + "\n");
      }
    } catch {
      /* client went away */
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
      for await (const line of readLines(conn)) {
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

async function* readLines(conn: Deno.Conn): AsyncGenerator<string> {
  const dec = new TextDecoder();
  const buf = new Uint8Array(65536);
  let pending = "";
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    pending += dec.decode(buf.subarray(0, n), { stream: true });
    let i: number;
    while ((i = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, i);
      pending = pending.slice(i + 1);
    }
    if (pending.length > MAX_LINE) throw new Error("line too long");
  }
  if (pending.trim() !== "") yield pending;
}
