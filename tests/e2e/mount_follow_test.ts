/**
 * Every local filesystem, followed (issue 12), end to end: a real `bm daemon`
 * in the default "filesystems" mode, run through the test build of the
 * library so that its mountinfo scan and mount following see only tmpfs
 * mounts under the agent's own directory (never a real filesystem of this
 * machine). A tmpfs mounted while the daemon runs is marked, the same
 * download-and-run behavior there gives the same threat as on the scratch
 * mount, and unmounting it leaves the daemon healthy.
 */
import assert from "node:assert/strict";
import {
  canRunE2e,
  keepingLogs,
  mountTmpfs,
  sleep,
  startAgent,
  type TestAgent,
  umount,
} from "./_harness.ts";
import { downloadAndRun } from "./_scenarios.ts";
import { buildTestLibrary } from "../sensor/_harness.ts";

type Fs = { mount_point: string; type: string; reason?: string };

async function marked(agent: TestAgent): Promise<Fs[]> {
  return ((await agent.health()).marked_filesystems ?? []) as Fs[];
}

Deno.test({
  name:
    "e2e every-filesystem mode: a tmpfs mounted later is marked, judged like the rest, and may go",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    buildTestLibrary();
    const agent = await startAgent({ mode: "block", followMounts: true });
    const late = `${agent.dir}/late`;
    let mounted = false;
    try {
      // marked at start: the scratch tmpfs, and nothing outside the agent's directory
      const atStart = await marked(agent);
      assert.deepEqual(atStart, [{ mount_point: agent.scratch, type: "tmpfs" }]);
      assert.deepEqual((await agent.health()).unmarked_filesystems, []);

      await mountTmpfs(late);
      mounted = true;
      const t0 = performance.now();
      while (!(await marked(agent)).some((f) => f.mount_point === late)) {
        if (performance.now() - t0 > 10_000) assert.fail(`${late} not marked within 10 s`);
        await sleep(20);
      }
      console.log(
        `tmpfs mounted while the daemon runs: in marked_filesystems after ${
          (performance.now() - t0).toFixed(0)
        } ms (health polled every 20 ms)`,
      );

      // the same behavior on the late mount: the same threat, the exec denied
      const there = Object.create(agent, { scratch: { value: late } }) as TestAgent;
      const o = await downloadAndRun(there);
      assert.equal(o.effect, false, `payload ran: ${o.detail}`);
      const t = await agent.waitThreat(o.names, ["blocked", "quarantined"]);
      const detail = await agent.call("threat_get", { id: t.id }) as {
        events: { file?: { path?: string } }[];
      };
      assert.ok(
        detail.events.some((e) => e.file?.path?.startsWith(`${late}/`)),
        "the threat's evidence is on the late mount",
      );

      await umount(late);
      mounted = false;
      const t1 = performance.now();
      while ((await marked(agent)).some((f) => f.mount_point === late)) {
        if (performance.now() - t1 > 10_000) assert.fail(`${late} still listed 10 s after umount`);
        await sleep(20);
      }
      const h = await agent.health();
      assert.equal(h.healthy, true, JSON.stringify(h.health_issues));
      assert.equal(h.behavior_monitoring, "enabled");
      assert.deepEqual(h.marked_filesystems, [{ mount_point: agent.scratch, type: "tmpfs" }]);
    } finally {
      if (mounted) await umount(late);
      const code = await agent.stop();
      assert.equal(code, 0);
    }
  }),
});
