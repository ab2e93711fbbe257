import assert from "node:assert/strict";
import { BmError } from "../errors.ts";
import { callDaemon, ControlServer, DaemonUnreachable, socketPath } from "./control_socket.ts";

Deno.test("control socket: JSON-lines round trip, errors carry the exit code, 0600 in 0700", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_sock_" });
  const path = `${dir}/run/bm.sock`;
  const server = await ControlServer.listen(path, (method, params) => {
    if (method === "echo") return Promise.resolve({ got: params });
    if (method === "bad") return Promise.reject(new BmError('Unknown threat "x"', 2));
    return Promise.reject(new Error("boom"));
  });
  try {
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/run`)).mode! & 0o777, 0o700);
    assert.deepEqual(await callDaemon("echo", { a: 1 }, { path }), { got: { a: 1 } });
    await assert.rejects(
      callDaemon("bad", {}, { path }),
      (e) => e instanceof BmError && e.exitCode === 2 && e.message === `Unknown threat "x"`,
    );
    await assert.rejects(
      callDaemon("other", {}, { path }),
      (e) => e instanceof BmError && e.exitCode === 1 && e.message === "boom",
    );
    // a second daemon on the same socket is refused
    await assert.rejects(
      ControlServer.listen(path, () => Promise.resolve(null)),
      /Another bm daemon is running/,
    );
  } finally {
    await server.close();
  }
  // socket removed on close; a client now gets a clear "not running"
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  await assert.rejects(
    callDaemon("health", {}, { path }),
    (e) => e instanceof DaemonUnreachable && /not running/.test(e.message),
  );
  // a stale socket file left by a killed daemon is replaced
  const l = Deno.listen({ transport: "unix", path });
  l.close();
  const again = await ControlServer.listen(path, () => Promise.resolve("ok"));
  assert.equal(await callDaemon("x", {}, { path }), "ok");
  await again.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("control socket path follows BM_STATE_DIR", () => {
  const env = (v: Record<string, string>) => ({ get: (k: string) => v[k] });
  assert.equal(socketPath(env({ BM_STATE_DIR: "/tmp/x" }), "linux"), "/tmp/x/bm.sock");
  assert.equal(socketPath(env({}), "linux"), "/run/bm/bm.sock");
  assert.equal(socketPath(env({}), "darwin"), "/var/run/bm/bm.sock");
});

/** Reads a raw connection until EOF (hard limit), returning what it sent. */
async function readAll(conn: Deno.Conn, limitMs = 5000): Promise<{ text: string; eof: boolean }> {
  const buf = new Uint8Array(65536);
  let text = "";
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf).catch(() => null),
      new Promise<"late">((r) => (timer = setTimeout(() => r("late"), until - Date.now()))),
    ]);
    clearTimeout(timer);
    if (n === "late") return { text, eof: false };
    if (n === null) return { text, eof: true };
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return { text, eof: false };
}

async function withServer(
  limits: Parameters<typeof ControlServer.listen>[2],
  fn: (path: string, server: ControlServer) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bm_sock_" });
  const path = `${dir}/run/bm.sock`;
  const server = await ControlServer.listen(path, () => Promise.resolve("ok"), limits);
  try {
    await fn(path, server);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("control socket: a request line over the limit gets one error line, then the connection closes", async () => {
  await withServer({ maxLineBytes: 64 * 1024 }, async (path) => {
    const conn = await Deno.connect({ transport: "unix", path });
    // 1 MiB with no newline: refused at 64 KiB, not buffered whole
    const big = new Uint8Array(1 << 20).fill(0x61);
    const sent = (async () => {
      let off = 0;
      try {
        while (off < big.length) off += await conn.write(big.subarray(off));
      } catch { /* closed by the server */ }
    })();
    const got = await readAll(conn);
    await sent;
    conn.close();
    assert.equal(got.eof, true, "connection not closed");
    const res = JSON.parse(got.text.trim());
    assert.deepEqual(res, {
      ok: false,
      error: "Control request line longer than 65536 bytes",
      exitCode: 2,
    });
    // a line just under the limit still works, and so does the next client
    assert.equal(await callDaemon("x", { pad: "a".repeat(60_000) }, { path }), "ok");
  });
});

Deno.test("control socket: a connection with no complete request within the idle timeout is closed", async () => {
  await withServer({ idleTimeoutMs: 200 }, async (path) => {
    const idle = await Deno.connect({ transport: "unix", path });
    const t0 = Date.now();
    const got = await readAll(idle, 5000);
    idle.close();
    assert.equal(got.eof, true, "idle connection left open");
    assert.ok(Date.now() - t0 >= 150, `closed after ${Date.now() - t0} ms`);
    // a partial line does not keep it open either
    const slow = await Deno.connect({ transport: "unix", path });
    await slow.write(new TextEncoder().encode('{"method":'));
    const got2 = await readAll(slow, 5000);
    slow.close();
    assert.equal(got2.eof, true);
    // a prompt client is served
    assert.equal(await callDaemon("x", {}, { path }), "ok");
  });
});

Deno.test("control socket: beyond the connection cap a new connection is told so and closed", async () => {
  await withServer({ maxConnections: 3 }, async (path, server) => {
    const held: Deno.Conn[] = [];
    for (let i = 0; i < 3; i++) held.push(await Deno.connect({ transport: "unix", path }));
    // the server has accepted them
    const until = Date.now() + 5000;
    let extra: Deno.Conn | undefined;
    let got = { text: "", eof: false };
    while (Date.now() < until) {
      extra = await Deno.connect({ transport: "unix", path });
      got = await readAll(extra, 1000);
      extra.close();
      if (got.text) break;
    }
    assert.equal(got.eof, true);
    assert.deepEqual(JSON.parse(got.text.trim()), {
      ok: false,
      error: "Too many control connections: 3 open",
      exitCode: 1,
    });
    assert.ok(server.refused >= 1);
    await assert.rejects(callDaemon("x", {}, { path }), /Too many control connections/);
    held.pop()!.close();
    // a freed place is used again
    const again = Date.now() + 5000;
    let answer: unknown;
    while (Date.now() < again) {
      try {
        answer = await callDaemon("x", {}, { path });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(answer, "ok");
    for (const c of held) c.close();
  });
});
