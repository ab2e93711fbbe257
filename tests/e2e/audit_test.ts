/**
 * Audit mode (blockExecution disabled), end to end: the same scenarios as
 * block mode run to completion, and their threats are stored as `audited`.
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

const home = `/home/bm_e2e_audit_${Deno.pid}`;

Deno.test({
  name: "e2e audit mode: the same scenarios are stored as audited and nothing is blocked",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async (t) => {
    const agent = await startAgent({ mode: "audit", extraMounts: [home] });
    try {
      const cases = [
        ["persistence", () => persistence(agent, home)],
        ["download-and-run", () => downloadAndRun(agent)],
        ["fetch piped to a shell", () => fetchPipeShell(agent, 1)],
        ["reverse shell", () => reverseShell(agent, 1)],
        ["decoded payload", () => decodedPayload(agent, 1)],
      ] as const;
      for (const [name, scenario] of cases) {
        await t.step(`${name}: runs to completion, threat audited`, async () => {
          const o = await scenario();
          assert.equal(o.effect, true, `${name} was stopped in audit mode: ${o.detail}`);
          await agent.waitThreat(o.names, ["audited"]);
        });
      }
      const statuses = new Set((await agent.threats()).map((x) => x.status));
      assert.deepEqual([...statuses], ["audited"]);
      const h = await agent.health();
      assert.equal(h.block_execution, "disabled");
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  }),
});
