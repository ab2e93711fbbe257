/**
 * A benign workload under a running agent in block mode produces no threat
 * and nothing is blocked: a small C project built with make and gcc and its
 * program run, git operations, an archive created and extracted, all inside
 * the marked scratch tmpfs (a /tmp path, where the download rules look).
 */
import assert from "node:assert/strict";
import { canRunE2e, keepingLogs, run, startAgent } from "./_harness.ts";

Deno.test({
  name: "e2e benign workload: make/gcc build and run, git, tar: no threat",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: keepingLogs(async () => {
    const agent = await startAgent({ mode: "block" });
    try {
      const p = `${agent.scratch}/proj`;
      await Deno.mkdir(p);
      await Deno.writeTextFile(
        `${p}/hello.c`,
        '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n',
      );
      await Deno.writeTextFile(`${p}/util.c`, "int twice(int x) { return 2 * x; }\n");
      await Deno.writeTextFile(
        `${p}/Makefile`,
        "hello: hello.o util.o\n\tgcc -o hello hello.o util.o\n%.o: %.c\n\tgcc -O2 -c $<\n",
      );
      const ok = async (cmd: string, args: string[], cwd = p) => {
        const r = await run(cmd, args, {
          cwd,
          timeoutMs: 60_000,
          env: {
            GIT_AUTHOR_NAME: "t",
            GIT_AUTHOR_EMAIL: "t@e",
            GIT_COMMITTER_NAME: "t",
            GIT_COMMITTER_EMAIL: "t@e",
            HOME: agent.dir,
          },
        });
        assert.equal(r.code, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      };
      await ok("make", ["-s"]);
      assert.equal((await ok(`${p}/hello`, [])).trim(), "hello");
      await ok("git", ["init", "-q"]);
      await ok("git", ["add", "."]);
      await ok("git", ["commit", "-q", "-m", "initial"]);
      await ok("git", ["log", "--oneline"]);
      await ok("tar", ["czf", `${agent.scratch}/proj.tgz`, "-C", agent.scratch, "proj"]);
      await Deno.mkdir(`${agent.scratch}/out`);
      await ok("tar", ["xzf", `${agent.scratch}/proj.tgz`, "-C", `${agent.scratch}/out`]);
      // the extracted files are intact (running a binary just extracted into
      // /tmp is exactly the drop-and-execute pattern, so it is not part of
      // the benign workload)
      await ok("cmp", [`${p}/hello.c`, `${agent.scratch}/out/proj/hello.c`]);
      await ok("cmp", [`${p}/hello`, `${agent.scratch}/out/proj/hello`]);
      // let the daemon drain what is left
      await new Promise((r) => setTimeout(r, 1000));
      const threats = await agent.threats();
      const shown = [];
      for (const t of threats) {
        const d = await agent.call("threat_get", { id: t.id }) as {
          lineage: { executable: string; args: string[] }[];
        };
        shown.push(`${t.name}: ${d.lineage.map((l) => l.args.join(" ")).join(" > ")}`);
      }
      assert.deepEqual(shown, [], "benign workload raised threats");
      const h = await agent.health();
      assert.ok((h.events as number) > 50, `too few events seen: ${h.events}`);
      assert.equal(h.auth_answered_by_watchdog, 0);
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  }),
});
