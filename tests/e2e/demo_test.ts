/**
 * `bm demo` as the README runs it: live as root on Linux (its own private
 * mount namespace and scratch tmpfs), the script killed, the threat listed,
 * and nothing left behind on the host.
 */
import assert from "node:assert/strict";
import { selfCommand } from "../../src/daemon/self_command.ts";
import { entriesBmNeedsUnderTmp } from "../../src/cli/demo.ts";
import { canRunE2e, run } from "./_harness.ts";

const self = selfCommand();

/**
 * The host's mounts the demo could leave behind or take away were its
 * namespace not private: its scratch tmpfs ("bm-demo") on /tmp, the entries
 * of /tmp it binds back into it, and the aside binds (`bm-demo-*`). Only these
 * are compared: other processes on the machine mount and unmount elsewhere
 * (other tests' scratch tmpfs) while the demo runs.
 */
async function demoMounts(): Promise<string[]> {
  const kept = new Set(entriesBmNeedsUnderTmp().map((top) => `/tmp/${top}`));
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  return text.split("\n").filter((line) => {
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ...
    const fields = line.split(" ");
    const point = (fields[4] ?? "").replace(
      /\\([0-7]{3})/g,
      (_, o) => String.fromCharCode(parseInt(o, 8)),
    );
    const dash = fields.indexOf("-");
    const source = dash >= 0 ? fields[dash + 2] : undefined;
    return point === "/tmp" || kept.has(point) || source === "bm-demo" ||
      /\/bm-demo-[^/]*$/.test(point);
  });
}

Deno.test({
  name: "e2e bm demo: live demonstration kills the script, lists the threat, leaves nothing",
  ignore: !canRunE2e,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const before = await demoMounts();
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
    // nothing left behind: none of its mounts changed, no marker files on the host's /tmp
    assert.deepEqual(await demoMounts(), before);
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
