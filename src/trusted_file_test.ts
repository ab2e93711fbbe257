import assert from "node:assert/strict";
import { readTrustedFileSync, UntrustedFileError } from "./trusted_file.ts";

const root = Deno.uid() === 0;

function refusedWith(re: RegExp) {
  return (e: unknown) => e instanceof UntrustedFileError && re.test(e.message);
}

Deno.test({
  name: "trusted file: owner, mode and directory are checked; a sticky directory is fine",
  ignore: !root,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "bm_trusted_" });
    try {
      await Deno.chmod(dir, 0o755);
      const f = `${dir}/f.toml`;
      await Deno.writeTextFile(f, "x = 1\n", { mode: 0o644 });
      assert.equal(new TextDecoder().decode(readTrustedFileSync(f)), "x = 1\n");
      await Deno.chmod(f, 0o664);
      assert.throws(
        () => readTrustedFileSync(f),
        refusedWith(/writable by its group \(mode 0664\)/),
      );
      assert.equal(readTrustedFileSync(f, { check: false }).length, 6, "check: false reads anyway");
      await Deno.chmod(f, 0o644);
      await Deno.chown(f, 65534, 65534);
      assert.throws(() => readTrustedFileSync(f), refusedWith(/owned by uid 65534, not root/));
      await Deno.chown(f, 0, 0);
      await Deno.chmod(dir, 0o777);
      assert.throws(() => readTrustedFileSync(f), refusedWith(/its directory is writable/));
      await Deno.chmod(dir, 0o1777);
      assert.equal(readTrustedFileSync(f).length, 6, "sticky: others cannot swap a root file");
      await Deno.chmod(dir, 0o755);
      // A link from a safe folder to a file in an unsafe one: the real folder counts.
      const unsafe = `${dir}/unsafe`;
      await Deno.mkdir(unsafe, { mode: 0o777 });
      await Deno.chmod(unsafe, 0o777);
      await Deno.writeTextFile(`${unsafe}/g.toml`, "y = 2\n", { mode: 0o644 });
      await Deno.symlink(`${unsafe}/g.toml`, `${dir}/g.toml`);
      assert.throws(() => readTrustedFileSync(`${dir}/g.toml`), refusedWith(/its directory/));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("trusted file: a missing file is NotFound; a folder or FIFO is not a regular file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bm_trusted_" });
  try {
    assert.throws(() => readTrustedFileSync(`${dir}/none`), Deno.errors.NotFound);
    assert.throws(() => readTrustedFileSync(dir, { check: false }), /not a regular file/);
    const fifo = `${dir}/fifo`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.equal(mk.code, 0);
    // Opening must not wait for a writer.
    assert.throws(() => readTrustedFileSync(fifo, { check: false }), /not a regular file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
