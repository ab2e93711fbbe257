import assert from "node:assert/strict";
import { rulesVersion } from "./rules_version.ts";

const enc = new TextEncoder();

Deno.test("rules version: a digest of the bytes compiled, labelled by VERSION; order-free", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_rules_version_" });
  try {
    const a = { file: `${dir}/a.toml`, bytes: enc.encode("a") };
    const b = { file: `${dir}/linux/b.toml`, bytes: enc.encode("b") };
    const v1 = await rulesVersion(dir, [a, b]);
    assert.match(v1, /^[0-9a-f]{12}$/);
    assert.equal(await rulesVersion(`${dir}/`, [b, a]), v1, "same bytes, same version");
    const edited = await rulesVersion(dir, [a, { ...b, bytes: enc.encode("b2") }]);
    assert.notEqual(edited, v1, "edited bytes change it");
    // Another folder with the same files at the same relative paths: the same version.
    assert.equal(
      await rulesVersion("/elsewhere", [
        { file: "/elsewhere/a.toml", bytes: a.bytes },
        { file: "/elsewhere/linux/b.toml", bytes: b.bytes },
      ]),
      v1,
    );
    // Another pack's files do not count.
    const other = { file: "/other/c.toml", bytes: enc.encode("c") };
    assert.equal(await rulesVersion(dir, [a, b, other]), v1);
    await Deno.writeTextFile(`${dir}/VERSION`, "2026.12\n");
    assert.equal(await rulesVersion(dir, [a, b]), `2026.12+${v1}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
