/**
 * `bm demo` as the README runs it: live as root on Linux (its own private
 * mount namespace and scratch tmpfs), the script killed, the threat listed,
 * and nothing left behind on the host.
 */
import assert from "node:assert/strict";
import { selfCommand } from "../../src/daemon/self_command.ts";
import { canRunE2e, run } from "./_harness.ts";

const self = selfCommand();

async function mounts(): Promise<string> {
  return await Deno.readTextFile("/proc/self/mountinfo");
}

Deno.test({
  name: "e2e bm demo: live demonstration kills the script, lists the threat, leaves nothing",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const before = await mounts();
    const markers = ["/tmp/bm_change_file_test_1.txt", "/tmp/bm_change_file_test_2.txt"];
    const existed = markers.map((m) => {
      try {
        Deno.statSync(m);
        return true;
      } catch {
        return false;
      }
    });
    const r = await run(
      self.cmd,
      [
        ...self.args,
        "demo",
      ],
      { timeoutMs: 90_000 },
    );
    assert.equal(r.timedOut, false, "bm demo took longer than 90 s");
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /bm killed the script \(SIGKILL\)/);
    assert.match(r.stdout, /Behavior:Linux\/BmChangeFileTest\s+behavior\s+\S+\s+killed/);
    assert.match(r.stdout, /bm demo: done/);
    // nothing left behind: no new mount, no marker files on the host's /tmp
    assert.equal(await mounts(), before);
    markers.forEach((m, i) => {
      if (existed[i]) return;
      assert.throws(() => Deno.statSync(m), Deno.errors.NotFound, `${m} left behind`);
    });
  },
});

Deno.test("bm demo --replay: the recorded demonstration gives the same threat", async () => {
  const r = await run(
    self.cmd,
    [
      ...self.args,
      "demo",
      "--replay",
    ],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /replaying the recorded demonstration/);
  assert.match(r.stdout, /Behavior:Linux\/BmChangeFileTest/);
  assert.match(r.stdout, /1 threats from 8 events/);
});
