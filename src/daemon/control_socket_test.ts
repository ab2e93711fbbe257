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
