import assert from "node:assert/strict";
import * as fs from "node:fs";
import { FakeClock } from "../clock_test_utils.ts";
import { BmError } from "../errors.ts";
import { SqliteThreatStore } from "../store/threat_store.ts";
import { threatDbPath, vaultDir } from "../store/state_dir.ts";
import { sampleVerdict } from "../store/verdict_test_utils.ts";
import { hashFile, quarantineFile, restoreFile, type VaultOptions } from "./quarantine.ts";
import { AT_FDCWD, closeFd, lstatAt, O, openBytes, renameAt } from "../../ffi/libc_fs.ts";
import { pathToBytes } from "../sensor/path_codec.ts";
import { existsByBytes, readByBytes } from "../../ffi/libc_fs_test_utils.ts";

const CONTENT = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7919) & 0xff);

async function withVault(fn: (o: VaultOptions, dir: string) => Promise<void> | void) {
  const dir = await Deno.makeTempDir();
  const clock = new FakeClock(1_800_000_000_000);
  const store = new SqliteThreatStore({ path: threatDbPath(`${dir}/state`), clock });
  try {
    await fn({ dir: vaultDir(`${dir}/state`), store, clock }, dir);
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function plant(path: string, mode = 0o4755): void {
  fs.writeFileSync(path, CONTENT);
  fs.chownSync(path, 65534, 65534);
  fs.chmodSync(path, mode); // after chown, which clears set-id bits
}

function roundTrip(o: VaultOptions, path: string) {
  const before = fs.lstatSync(path);
  const sha = hashFile(path);
  const threat = o.store.record(sampleVerdict());
  const q = quarantineFile(path, threat, o);
  assert.equal(fs.existsSync(path), false, "original still there");
  assert.deepEqual(
    { uid: q.uid, gid: q.gid, mode: q.mode, size: q.size, sha256: q.sha256, path: q.original_path },
    { uid: 65534, gid: 65534, mode: 0o4755, size: CONTENT.length, sha256: sha, path },
  );
  const v = fs.lstatSync(`${o.dir}/${q.id}`);
  assert.equal(v.mode & 0o7111, 0, "vault copy keeps execute or set-id bits");
  assert.equal(fs.statSync(o.dir).mode & 0o777, 0o700);
  assert.deepEqual(o.store.listQuarantine().map((e) => e.id), [q.id]);

  const dest = restoreFile(q.id, {}, o);
  assert.equal(dest, path);
  const after = fs.lstatSync(path);
  assert.deepEqual(new Uint8Array(fs.readFileSync(path)), CONTENT);
  assert.equal(after.uid, 65534);
  assert.equal(after.gid, 65534);
  assert.equal(after.mode & 0o7777, before.mode & 0o7777);
  assert.equal(fs.existsSync(`${o.dir}/${q.id}`), false, "vault file left behind");
  assert.equal(o.store.get(threat)!.status, "restored");
  assert.equal(o.store.get(threat)!.actions.at(-1)!.type, "restore");
  assert.deepEqual(o.store.listQuarantine(), []);
  assert.throws(() => restoreFile(q.id, {}, o), /already restored/);
}

Deno.test("quarantine and restore round trip on one file system: bytes, owner, mode", () =>
  withVault((o, dir) => {
    const path = `${dir}/payload`;
    plant(path);
    roundTrip(o, path);
  }));

Deno.test({
  name: "quarantine and restore across file systems (copy + fsync + unlink)",
  // Its own tmpfs, so the payload is on another file system than the vault wherever this runs.
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  fn: () =>
    withVault((o, dir) => {
      const other = Deno.makeTempDirSync({ prefix: "bm-q-mnt-" });
      const mount = (args: string[]) => {
        const r = new Deno.Command(args[0]!, { args: args.slice(1) }).outputSync();
        assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      };
      mount(["mount", "-t", "tmpfs", "-o", "size=4m", "bm-q", other]);
      try {
        assert.notEqual(fs.statSync(other).dev, fs.statSync(dir).dev, "another file system");
        const path = `${other}/payload`;
        plant(path);
        roundTrip(o, path);
      } finally {
        mount(["umount", other]);
        fs.rmSync(other, { recursive: true, force: true });
      }
    }),
});

/** Creates the file the text-form `path` names with its exact bytes (names Deno cannot pass). */
function plantBytes(path: string, mode = 0o4755): void {
  const fd = openBytes(pathToBytes(path), O.WRONLY | O.CREAT | O.EXCL, 0o600);
  try {
    const proc = `/proc/self/fd/${fd}`;
    fs.writeFileSync(proc, CONTENT);
    fs.chownSync(proc, 65534, 65534);
    fs.chmodSync(proc, mode);
  } finally {
    closeFd(fd);
  }
}

/** Quarantines and restores the file the text-form `path` names; checks the exact bytes come back. */
function byteRoundTrip(o: VaultOptions, path: string) {
  plantBytes(path);
  const threat = o.store.record(sampleVerdict());
  const q = quarantineFile(path, threat, o);
  assert.equal(existsByBytes(path), false, "original name still there");
  assert.equal(q.original_path, path);
  assert.equal(o.store.getQuarantine(q.id)!.original_path, path, "the store keeps the text form");
  assert.deepEqual({ uid: q.uid, mode: q.mode, size: q.size }, {
    uid: 65534,
    mode: 0o4755,
    size: CONTENT.length,
  });
  assert.equal(restoreFile(q.id, {}, o), path);
  const st = lstatAt(AT_FDCWD, pathToBytes(path));
  assert.deepEqual({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }, {
    uid: 65534,
    gid: 65534,
    mode: 0o4755,
  });
  assert.deepEqual(readByBytes(path), CONTENT);
  assert.equal(o.store.get(threat)!.status, "restored");
}

Deno.test({
  name: "names that are not UTF-8 are quarantined and restored with their exact bytes",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  fn: () =>
    withVault((o, dir) => {
      // The bytes "bad\" 0xff 0xfe: a backslash and two bytes that are not UTF-8.
      byteRoundTrip(o, `${dir}/bad\\\\\\xff\\xfe`);
      // A valid UTF-8 name with a backslash: the text form doubles it, the file has one.
      byteRoundTrip(o, `${dir}/back\\\\slash`);
      assert.ok(fs.existsSync(`${dir}/back\\slash`), "restored under the one-backslash name");
      // A directory on the way that is not UTF-8 either (made plain, renamed to the bytes).
      const sub = `${dir}/d\\xfe`;
      fs.mkdirSync(`${dir}/x`);
      renameAt(AT_FDCWD, pathToBytes(`${dir}/x`), AT_FDCWD, pathToBytes(sub));
      byteRoundTrip(o, `${sub}/p\\xc3\\x28`);
      // A symlinked directory on the way is refused for byte names too.
      fs.mkdirSync(`${dir}/plain`);
      fs.symlinkSync(`${dir}/plain`, `${dir}/dlink`);
      plantBytes(`${dir}/plain/f\\xff`, 0o755);
      const threat = o.store.record(sampleVerdict());
      assert.throws(
        () => quarantineFile(`${dir}/dlink/f\\xff`, threat, o),
        /goes through a symlink/,
      );
      assert.ok(existsByBytes(`${dir}/plain/f\\xff`));
      assert.throws(() => quarantineFile(`${dir}/nowhere\\xff/f`, threat, o), /no such file/);
    }),
});

Deno.test({
  name: "a name that is not UTF-8 across file systems (copy + fsync + unlink, both ways)",
  ignore: Deno.build.os !== "linux" || Deno.uid() !== 0,
  fn: () =>
    withVault((o) => {
      const other = Deno.makeTempDirSync({ prefix: "bm-q-mnt-" });
      const run = (args: string[]) => {
        const r = new Deno.Command(args[0]!, { args: args.slice(1) }).outputSync();
        assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      };
      run(["timeout", "20", "mount", "-t", "tmpfs", "-o", "size=8m", "bm-q", other]);
      try {
        byteRoundTrip(o, `${other}/bad\\xff\\xfe`);
      } finally {
        run(["umount", other]);
        fs.rmSync(other, { recursive: true, force: true });
      }
    }),
});

Deno.test("restore refuses to clobber an existing file unless forced, and can go elsewhere", () =>
  withVault((o, dir) => {
    const path = `${dir}/payload`;
    plant(path, 0o755);
    const threat = o.store.record(sampleVerdict());
    const q = quarantineFile(path, threat, o);
    fs.writeFileSync(path, "newer file");
    assert.throws(() => restoreFile(q.id, {}, o), /a file exists there/);
    assert.equal(fs.readFileSync(path, "utf8"), "newer file");
    assert.ok(fs.existsSync(`${o.dir}/${q.id}`), "vault file lost on refusal");
    // An existing directory as destination receives the original name.
    fs.mkdirSync(`${dir}/elsewhere`);
    assert.equal(
      restoreFile(q.id, { destination: `${dir}/elsewhere` }, o),
      `${dir}/elsewhere/payload`,
    );
    assert.deepEqual(new Uint8Array(fs.readFileSync(`${dir}/elsewhere/payload`)), CONTENT);

    const q2 = quarantineFile(`${dir}/elsewhere/payload`, threat, o);
    assert.equal(restoreFile(q2.id, { force: true }, o), `${dir}/elsewhere/payload`);
    const q3 = quarantineFile(`${dir}/elsewhere/payload`, threat, o);
    assert.equal(restoreFile(q3.id, { destination: path, force: true }, o), path);
    assert.deepEqual(new Uint8Array(fs.readFileSync(path)), CONTENT);
  }));

Deno.test("symlinks are refused: the file, a directory on the way, the vault entry", () =>
  withVault((o, dir) => {
    const threat = o.store.record(sampleVerdict());
    const target = `${dir}/real`;
    plant(target, 0o755);
    fs.symlinkSync(target, `${dir}/link`);
    assert.throws(() => quarantineFile(`${dir}/link`, threat, o), /is a symlink/);
    assert.ok(fs.lstatSync(`${dir}/link`).isSymbolicLink());
    fs.mkdirSync(`${dir}/d`);
    fs.symlinkSync(`${dir}/d`, `${dir}/dlink`);
    fs.copyFileSync(target, `${dir}/d/f`);
    assert.throws(() => quarantineFile(`${dir}/dlink/f`, threat, o), /goes through a symlink/);
    assert.ok(fs.existsSync(`${dir}/d/f`));
    assert.throws(() => quarantineFile(`${dir}/d`, threat, o), /not a regular file/);
    assert.throws(() => quarantineFile("relative/x", threat, o), /not an absolute path/);

    const q = quarantineFile(target, threat, o);
    assert.throws(() => restoreFile(q.id, { destination: `${dir}/dlink/x` }, o), /symlink/);
    // A vault entry replaced by a symlink is never followed.
    const vpath = `${o.dir}/${q.id}`;
    fs.renameSync(vpath, `${vpath}.real`);
    fs.symlinkSync(`${vpath}.real`, vpath);
    assert.throws(() => restoreFile(q.id, {}, o), /not a regular file/);
    assert.equal(fs.existsSync(target), false);
  }));

Deno.test("restore of a missing vault file is a clear error; a changed one is refused", () =>
  withVault((o, dir) => {
    const threat = o.store.record(sampleVerdict());
    plant(`${dir}/a`, 0o755);
    plant(`${dir}/b`, 0o755);
    const qa = quarantineFile(`${dir}/a`, threat, o);
    const qb = quarantineFile(`${dir}/b`, threat, o);
    fs.unlinkSync(`${o.dir}/${qa.id}`);
    assert.throws(
      () => restoreFile(qa.id, {}, o),
      (e: BmError) => e.exitCode === 1 && /vault file ".*" is missing/.test(e.message),
    );
    fs.appendFileSync(`${o.dir}/${qb.id}`, "x");
    assert.throws(() => restoreFile(qb.id, {}, o), /SHA-256 differs/);
    assert.equal(fs.existsSync(`${dir}/a`), false);
    assert.throws(() => restoreFile("nope", {}, o), (e: BmError) => e.exitCode === 2);
  }));
