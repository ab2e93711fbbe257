/**
 * Where the native sensor library lives, and whether it is safe to load.
 *
 * Resolution order (first existing file wins):
 *   1. `BM_SENSOR_LIB` (an explicit path; must exist);
 *   2. `dylib/build/libbm_sensor.{so,dylib}` next to this source tree;
 *   3. Linux `/usr/lib/bm/libbm_sensor.so`, macOS
 *      `/Library/Application Support/bm/libbm_sensor.dylib`.
 *
 * A library is refused unless it and its directory are owned by root and not
 * writable by group or others: loading code a non-root user could have written
 * would hand them the agent (invariant 7).
 */
import { BmError, PermissionError } from "../src/errors.ts";

export function libraryFileName(os: string = Deno.build.os): string {
  return os === "darwin" ? "libbm_sensor.dylib" : "libbm_sensor.so";
}

export function libraryCandidates(
  env: string | undefined = Deno.env.get("BM_SENSOR_LIB"),
  os: string = Deno.build.os,
): string[] {
  if (env) return [env];
  const name = libraryFileName(os);
  const out: string[] = [];
  const here = new URL(`../dylib/build/${name}`, import.meta.url);
  if (here.protocol === "file:") out.push(decodeURIComponent(here.pathname));
  out.push(os === "darwin" ? `/Library/Application Support/bm/${name}` : `/usr/lib/bm/${name}`);
  return out;
}

/** The first candidate that exists; throws naming every place looked. */
export function resolveLibraryPath(
  env: string | undefined = Deno.env.get("BM_SENSOR_LIB"),
  os: string = Deno.build.os,
): string {
  const candidates = libraryCandidates(env, os);
  for (const c of candidates) {
    try {
      if (Deno.statSync(c).isFile) return Deno.realPathSync(c);
    } catch {
      // try the next one
    }
  }
  if (env) throw new BmError(`Cannot find native sensor library "${env}" (BM_SENSOR_LIB)`);
  throw new BmError(
    `Cannot find native sensor library: looked in ${
      candidates.map((c) => `"${c}"`).join(", ")
    }: run "make -C dylib"`,
  );
}

/** Throws PermissionError unless path and its directory are root-owned and not group/world-writable. */
export function checkLibraryOwnership(path: string): void {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  for (const [what, p] of [["library", path], ["library directory", dir]] as const) {
    let st: Deno.FileInfo;
    try {
      st = Deno.statSync(p);
    } catch (err) {
      throw new BmError(`Cannot read native ${what} "${p}": ${(err as Error).message}`);
    }
    if (st.uid !== 0) {
      throw new PermissionError(
        `Refusing native ${what} "${p}": owned by uid ${st.uid}, not root`,
      );
    }
    const mode = st.mode ?? 0;
    // a sticky directory (like /tmp) still lets others add files, so refuse it too
    if (mode & 0o022) {
      throw new PermissionError(
        `Refusing native ${what} "${p}": writable by group or others (mode ${
          (mode & 0o7777).toString(8)
        })`,
      );
    }
  }
}
