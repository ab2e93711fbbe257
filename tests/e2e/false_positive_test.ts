/**
 * Everyday work that the pack once killed, run as real processes under a
 * block-mode daemon (marks only on the tmpfs mounts the harness creates):
 * - a Node program spawning `sh -c` with piped stdio (npm's lifecycle
 *   scripts): Node gives children AF_UNIX socketpairs, which once made
 *   "a shell on a socket" (ReverseShellSocket.A) kill the shell;
 * - `python3 -m venv` in a home folder: pip's write-then-rename of its own
 *   files once made RenameStorm.A kill it;
 * - an administrator's helper written into /tmp with a heredoc from an
 *   interactive shell on a terminal, made executable and run: once blocked
 *   (exit 126) and quarantined as DropExecTemp.A.
 * Each must run to its end, and the daemon must raise no threat. The daemon
 * runs without event export, as deployed: the interest filter is on, so the
 * helper's write is held in the sensor and sent just before its exec.
 */
import assert from "node:assert/strict";
import { canRunE2e, keepingLogs, run, startAgent, type TestAgent } from "./_harness.ts";

const home = `/home/bm_e2e_fp_${Deno.pid}`;

async function threatsShown(agent: TestAgent): Promise<string[]> {
  const shown: string[] = [];
  for (const t of await agent.threats()) {
    const d = await agent.call("threat_get", { id: t.id }) as {
      lineage: { executable: string; args: string[] }[];
    };
    shown.push(`${t.name} (${t.status}): ${d.lineage.map((l) => l.args.join(" ")).join(" > ")}`);
  }
  return shown;
}

Deno.test({
  name: "e2e false positives: node's sh -c, python venv, an admin's /tmp helper run, no threat",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async (t) => {
    // no event export, as a fleet runs it: the interest filter and its held writes are on
    const agent = await startAgent({ mode: "block", extraMounts: [home], rawEvents: false });
    try {
      await t.step(
        "node spawns sh -c with piped stdio (socketpairs): the shell finishes",
        async () => {
          const js = `${agent.scratch}/lifecycle.js`;
          await Deno.writeTextFile(
            js,
            [
              'const { spawnSync } = require("child_process");',
              'const r = spawnSync("sh", ["-c", "sleep 1; echo lifecycle-ok"], { stdio: "pipe" });',
              "process.stdout.write(r.stdout || '');",
              "process.exit(r.status === null ? 99 : r.status);",
            ].join("\n"),
          );
          const r = await run("node", [js], { timeoutMs: 30_000 });
          assert.equal(r.code, 0, `node: ${r.stdout}${r.stderr}`);
          assert.equal(r.stdout.trim(), "lifecycle-ok");
        },
      );
      await t.step("python3 -m venv in a home folder: pip installs itself", async () => {
        const r = await run("python3", ["-m", "venv", `${home}/proj/venv`], { timeoutMs: 180_000 });
        assert.equal(r.code, 0, `venv: ${r.stdout}${r.stderr}`);
        const pip = await run(`${home}/proj/venv/bin/pip`, ["--version"], { timeoutMs: 60_000 });
        assert.equal(pip.code, 0, pip.stderr);
      });
      await t.step(
        "an admin's heredoc helper in /tmp, made executable and run from a terminal",
        async () => {
          const released0 = (await agent.health()).events_held_released as number;
          const helper = `${agent.scratch}/diskcheck.sh`;
          const marker = `${agent.scratch}/helper_ran`;
          const session = `${agent.dir}/session.txt`;
          await Deno.writeTextFile(
            session,
            [
              `cat > ${helper} <<'SH'`,
              "#!/bin/sh",
              `df -h / > ${marker}`,
              "SH",
              `chmod +x ${helper}`,
              helper,
              "exit",
              "",
            ].join("\n"),
          );
          // an interactive bash on a pseudo-terminal (script(1)), typing the session
          const r = await run(
            "sh",
            ["-c", 'script -qec "bash --norc -i" /dev/null < "$1"', "sh", session],
            { timeoutMs: 30_000 },
          );
          assert.equal(r.code, 0, `session: ${r.stdout}${r.stderr}`);
          assert.ok(
            await Deno.stat(marker).then(() => true, () => false),
            `the helper did not run: ${r.stdout}${r.stderr}`,
          );
          // cat's write was held in the sensor and sent before the helper's exec, and judged
          // as written from the terminal (the rule's administrator exclusion)
          await agent.waitForHealth(
            "events_held_released",
            (v: unknown) => (v as number) > released0,
            5_000,
          );
        },
      );
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(await threatsShown(agent), [], "everyday work raised threats");
      const h = await agent.health();
      assert.ok((h.events as number) > 100, `too few events seen: ${h.events}`);
      assert.equal(h.auth_answered_by_watchdog, 0);
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  }),
});
