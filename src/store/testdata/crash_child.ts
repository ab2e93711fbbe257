/**
 * Test helper for crash_test.ts: records threats in a loop into the store
 * named by argv[0] and prints each id once record() has returned (committed).
 * The parent kills it with SIGKILL at a random moment.
 */
import { systemClock } from "../../clock.ts";
import { SqliteThreatStore } from "../threat_store.ts";
import { sampleVerdict } from "../verdict_test_utils.ts";

const store = new SqliteThreatStore({ path: Deno.args[0]!, clock: systemClock });
const enc = new TextEncoder();
for (let i = 0;; i++) {
  const id = store.record(sampleVerdict({ time: Date.now(), score: i }));
  Deno.stdout.writeSync(enc.encode(`${id}\n`));
  store.addAction(id, { type: "kill", target: "pid 4242", result: "ok", time: Date.now() });
  store.setStatus(id, "killed");
}
