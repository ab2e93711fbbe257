import assert from "node:assert/strict";
import { FakeClock } from "../clock_test_utils.ts";
import { SqliteThreatStore } from "./threat_store.ts";
import { threatDbPath } from "./state_dir.ts";

const CHILD = new URL("./testdata/crash_child.ts", import.meta.url).pathname;
const ROUNDS = 8;

Deno.test({
  name: "invariant 6: every threat reported as committed survives SIGKILL at random points",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const path = threatDbPath(`${dir}/state`);
    const reported: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--quiet", "--allow-all", CHILD, path],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const reader = child.stdout.getReader();
        const dec = new TextDecoder();
        let buf = "";
        let killAt: number | undefined;
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          if (killAt === undefined && buf.includes("\n")) {
            // First commit seen: kill after a random 0-300 ms of recording.
            killAt = Date.now() + Math.random() * 300;
          }
          if (killAt !== undefined && Date.now() >= killAt) {
            child.kill("SIGKILL");
            break;
          }
        }
        // Drain what was written before the kill.
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
        }
        const status = await child.status;
        const err = new TextDecoder().decode(
          await new Response(child.stderr).arrayBuffer(),
        );
        assert.equal(status.signal, "SIGKILL", `round ${round} child ended otherwise: ${err}`);
        // Only complete lines were reported; a torn last line was not.
        const lines = buf.split("\n");
        lines.pop();
        assert.ok(lines.length > 0, `round ${round} reported nothing`);
        reported.push(...lines);

        // Odd rounds leave the crashed WAL for the next child to recover.
        if (round % 2 === 0 || round === ROUNDS - 1) check(path, reported, round);
      }
      assert.ok(reported.length >= ROUNDS);
      console.log(`${reported.length} threats reported as committed over ${ROUNDS} kills`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function check(path: string, reported: string[], round: number): void {
  // Read-only first: sees the crashed WAL as it is, without recovering it.
  const ro = new SqliteThreatStore({ path, clock: new FakeClock(0), readOnly: true });
  assert.equal(ro.integrityCheck(), "ok", `round ${round}`);
  const missing = reported.filter((id) => !ro.get(id));
  assert.deepEqual(missing, [], `round ${round}: committed threats lost`);
  ro.close();
}
