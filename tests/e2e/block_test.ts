/**
 * Block mode, end to end: real malicious-looking process trees under a
 * running `bm daemon` (real sensor, marks confined to test tmpfs mounts).
 * Each scenario's effect must not happen, and its threat must be stored with
 * the action taken. Root only; every wait has a hard timeout.
 */
import assert from "node:assert/strict";
import { canRunE2e, keepingLogs, startAgent } from "./_harness.ts";
import {
  decodedPayload,
  downloadAndRun,
  fetchPipeShell,
  persistence,
  reverseShell,
} from "./_scenarios.ts";

const home = `/home/bm_e2e_${Deno.pid}`;

Deno.test({
  name: "e2e block mode: download-and-run, curl|sh, reverse shell, decoded payload, persistence",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async (t) => {
    const agent = await startAgent({ mode: "block", extraMounts: [home] });
    try {
      await t.step("persistence writes: reported and stored", async () => {
        const o = await persistence(agent, home);
        assert.equal(o.effect, true, o.detail);
        await agent.waitThreat(o.names, ["active"]); // report-only rules
      });
      await t.step("download-and-run: exec of the downloaded file is denied", async () => {
        const o = await downloadAndRun(agent);
        assert.equal(o.effect, false, `payload ran: ${o.detail}`);
        await agent.waitThreat(o.names, ["blocked", "quarantined"]);
      });
      await t.step("fetch piped to a shell: the shell is killed", async () => {
        const o = await fetchPipeShell(agent, 8);
        assert.equal(o.effect, false, `fetched script finished: ${o.detail}`);
        await agent.waitThreat(o.names, ["killed", "blocked"]);
      });
      await t.step("reverse shell to a loopback listener: killed", async () => {
        const o = await reverseShell(agent, 1);
        assert.equal(o.effect, false, `reverse shell ran the operator's command: ${o.detail}`);
        await agent.waitThreat(o.names, ["killed"]);
      });
      await t.step("decoded payload piped to a shell: killed", async () => {
        const o = await decodedPayload(agent, 8);
        assert.equal(o.effect, false, `decoded payload finished: ${o.detail}`);
        await agent.waitThreat(o.names, ["killed", "blocked"]);
      });
      const h = await agent.health();
      assert.equal(h.auth_answered_by_watchdog, 0, "the engine answered every held exec");
      assert.ok((h.events as number) > 0);
    } finally {
      const code = await agent.stop();
      assert.equal(code, 0, "graceful stop exits 0");
    }
  }),
});
