/**
 * An imported Sigma pack used by a live agent through `engine.extraRulesDirs`:
 * loaded beside the default pack, acting on a real process (imported with
 * `--actions kill`), validated on reload (a broken file in the extra pack is
 * refused and the last good set stays) and hot-reloaded when it changes.
 */
import assert from "node:assert/strict";
import { canRunE2e, keepingLogs, run, sleep, startAgent, type TestAgent } from "./_harness.ts";
import { selfCommand } from "../../src/daemon/self_command.ts";
import { loadRules } from "../../src/engine/rule_loader.ts";

const repo = new URL("../../", import.meta.url).pathname;

async function waitHealth(
  agent: TestAgent,
  until: (h: Record<string, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let h: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    h = await agent.health();
    if (until(h)) return h;
    await sleep(100);
  }
  throw new Error(`Health never matched: ${JSON.stringify(h)}\n${agent.log()}`);
}

Deno.test({
  name: "e2e Sigma pack in engine.extraRulesDirs: kills a matching process, reload validates it",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const pack = await Deno.makeTempDir({ prefix: "bm_e2e_sigma_" });
    const bin = await Deno.makeTempDir({ prefix: "bm_e2e_sigma_bin_" });
    const self = selfCommand();
    const imp = await run(self.cmd, [
      ...self.args,
      "rules",
      "import-sigma",
      `${repo}tests/sigma/fixtures`,
      "--out",
      pack,
      "--actions",
      "kill",
    ]);
    assert.equal(imp.code, 0, imp.stderr);
    const baseRules = (await loadRules(`${repo}policies`, { requireRootOwned: false })).rules.rules
      .filter((r) => r.platforms.includes("linux")).length;
    const agent = await startAgent({
      mode: "block",
      toml: `[engine]\nextraRulesDirs = ["${pack}"]\n`,
    });
    try {
      const h0 = await agent.health();
      const rules = h0.rules_count as number;
      assert.ok(rules >= baseRules + 10, `${rules} rules, ${baseRules} without the pack`);

      // Fixture Conditions (critical, score 100): an image ending in /bmncat whose
      // command line holds " -e " and "/bin/sh" and not " -l". A copy of
      // timeout named bmncat waits for its child; the imported kill action ends it.
      // It is copied outside the marked tmpfs: there the default pack would
      // block the exec of a file this lineage just wrote.
      const ncat = `${bin}/bmncat`;
      await Deno.copyFile("/usr/bin/timeout", ncat);
      await Deno.chmod(ncat, 0o755);
      const child = new Deno.Command(ncat, {
        args: ["20", "sh", "-c", "exec sleep 8", "-e", "/bin/sh"],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const st = await child.status;
      clearTimeout(timer);
      assert.equal(st.signal, "SIGKILL", JSON.stringify(st));
      await agent.waitThreat(["Behavior:Linux/Sigma_FixtureConditions.A"], ["killed"]);

      // A broken file in the extra pack: the watcher's reload is refused, the rules stay.
      const before = h0.last_reload;
      await Deno.writeTextFile(`${pack}/zz_broken.toml`, "[[rule]]\nid = 3\n", { mode: 0o644 });
      const h1 = await waitHealth(agent, (h) => h.last_reload !== before);
      assert.match(String(h1.last_reload_result), /^failed: .*zz_broken\.toml/);
      assert.equal(h1.rules_count, rules);
      await Deno.remove(`${pack}/zz_broken.toml`);
      await waitHealth(agent, (h) => h.last_reload_result === "ok");

      // A pack file removed: hot-reloaded, one rule fewer.
      await Deno.remove(`${pack}/linux_file_delete.toml`);
      const h2 = await waitHealth(agent, (h) => h.rules_count === rules - 1);
      assert.equal(h2.last_reload_result, "ok");
    } finally {
      assert.equal(await agent.stop(), 0);
      await Deno.remove(pack, { recursive: true });
      await Deno.remove(bin, { recursive: true });
    }
  }),
});
