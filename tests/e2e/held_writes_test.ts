/**
 * Held writes, end to end (no event export, so the interest filter is on):
 * the pack's drop-then-run rule needs a file written under /tmp only if that
 * file is then executed, so the sensor library holds such writes. A
 * download-and-run must still be denied (the held write reaches the engine
 * just before the held exec), and a tree written and removed under /tmp must
 * never reach the agent. Real daemon, real processes, marks on the test's
 * tmpfs (under /tmp); root only; every wait has a hard timeout.
 */
import assert from "node:assert/strict";
import { canRunE2e, keepingLogs, run, startAgent } from "./_harness.ts";
import { downloadAndRun } from "./_scenarios.ts";

const num = (v: unknown) => v as number;

Deno.test({
  name: "e2e held writes: download-and-run is denied through the hold; a tree written and " +
    "removed in /tmp never reaches the agent",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const agent = await startAgent({ mode: "block", rawEvents: false });
    try {
      const h0 = await agent.health();
      assert.equal(h0.event_export_enabled, false);

      // 1. download-and-run: curl writes the payload (held), chmod, then the exec of that path
      // sends the write first; the rule fires on the held exec and denies it.
      const o = await downloadAndRun(agent);
      assert.equal(o.effect, false, `the payload ran: ${o.detail}\n${agent.log()}`);
      await agent.waitThreat(o.names, ["blocked", "quarantined"], 15_000);
      const h1 = await agent.health();
      assert.ok(num(h1.events_held) > num(h0.events_held), "curl's write was held");
      assert.ok(
        num(h1.events_held_released) > num(h0.events_held_released),
        "and sent before the exec",
      );

      // 2. a tree written and removed: 300 files by python3 (no rule takes its writes there but
      // the drop-then-run rule; sizes above RTP's listed 68 and 73), then rm -rf. Held, then
      // forgotten at their unlink.
      const tree = `${agent.scratch}/tree`;
      const w = await run("python3", [
        "-c",
        "import os,sys\nfor i in range(300):\n  d=os.path.join(sys.argv[1],str(i%10))\n" +
        "  os.makedirs(d,exist_ok=True)\n  open(os.path.join(d,'f%d.js'%i),'w').write('x'*(i+200))",
        tree,
      ], { timeoutMs: 30_000 });
      assert.equal(w.code, 0, w.stderr);
      const rm = await run("rm", ["-rf", tree], { timeoutMs: 30_000 });
      assert.equal(rm.code, 0, rm.stderr);
      // the sensor has read the unlinks once the counters moved: wait for them
      const deadline = Date.now() + 10_000;
      let h2 = await agent.health();
      while (
        Date.now() < deadline &&
        num(h2.events_held_forgotten) - num(h1.events_held_forgotten) < 300
      ) {
        await new Promise((r) => setTimeout(r, 100));
        h2 = await agent.health();
      }
      assert.ok(
        num(h2.events_held) - num(h1.events_held) >= 300,
        `300 writes held (${h1.events_held} -> ${h2.events_held})`,
      );
      // none sent: the writes never reached the agent
      assert.equal(num(h2.events_held_released), num(h1.events_held_released), "none sent");
      // forgotten at their unlink; a folder whose rmdir the sensor reads its unlinks after, and
      // whose path it no longer has cached, names them otherwise: those wait out their time
      const forgotten = num(h2.events_held_forgotten) - num(h1.events_held_forgotten);
      assert.ok(forgotten >= 240, `${forgotten} of 300 forgotten at their unlink`);
      assert.equal(h2.events_hold_full, 0);
    } finally {
      await agent.stop();
    }
  }),
});
