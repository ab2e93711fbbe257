import assert from "node:assert/strict";
import { closeLibraryFile, libraryCandidates, openLibrary, resolveLibraryPath } from "./library.ts";
import { BmError, PermissionError } from "../src/errors.ts";

const root = Deno.uid() === 0;

Deno.test("library: candidates honour BM_SENSOR_LIB, then the source tree, then the system", () => {
  assert.deepEqual(libraryCandidates("/opt/x.so", "linux"), ["/opt/x.so"]);
  const linux = libraryCandidates(undefined, "linux");
  assert.ok(linux[0]!.endsWith("/dylib/build/libbm_sensor.so"));
  assert.equal(linux[1], "/usr/lib/bm/libbm_sensor.so");
  const mac = libraryCandidates(undefined, "darwin");
  assert.ok(mac[0]!.endsWith("/dylib/build/libbm_sensor.dylib"));
  assert.equal(mac[1], "/Library/Application Support/bm/libbm_sensor.dylib");
  assert.throws(
    () => resolveLibraryPath("/nonexistent/lib.so"),
    (e: unknown) =>
      e instanceof BmError &&
      /Cannot find native sensor library "\/nonexistent\/lib.so"/.test(e.message),
  );
});

Deno.test({
  name: "library: refused unless root-owned and not group/world-writable (sticky directory fine)",
  ignore: !root,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.chmod(dir, 0o755);
      const lib = `${dir}/lib.so`;
      await Deno.writeFile(lib, new Uint8Array([1]));
      await Deno.chmod(lib, 0o755);
      closeLibraryFile(openLibrary(lib)); // root, 0755: accepted
      await Deno.chmod(lib, 0o775);
      assert.throws(
        () => openLibrary(lib),
        (e: unknown) =>
          e instanceof PermissionError &&
          /writable by its group \(mode 0775\)/.test(e.message),
      );
      await Deno.chmod(lib, 0o755);
      await Deno.chown(lib, 65534, 65534);
      assert.throws(
        () => openLibrary(lib),
        (e: unknown) =>
          e instanceof PermissionError && /owned by uid 65534, not root/.test(e.message),
      );
      await Deno.chown(lib, 0, 0);
      await Deno.chmod(dir, 0o777);
      assert.throws(
        () => openLibrary(lib),
        (e: unknown) =>
          e instanceof PermissionError &&
          /its directory is writable by other users/.test(e.message),
      );
      // A sticky directory (like /tmp) is fine: others cannot swap a root-owned file there.
      await Deno.chmod(dir, 0o1777);
      closeLibraryFile(openLibrary(lib));
      await Deno.chmod(dir, 0o777);
      assert.throws(
        () => openLibrary(lib),
        (e: unknown) => e instanceof PermissionError && /writable by other users/.test(e.message),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
