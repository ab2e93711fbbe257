/**
 * Where the native sensor library lives, and whether it is safe to load.
 *
 * Resolution order (first existing file wins):
 *   1. `BM_SENSOR_LIB` (an explicit path; must exist);
 *   2. `dylib/build/libbm_sensor.{so,dylib}` next to this source tree;
 *   3. Linux `/usr/lib/bm/libbm_sensor.so`, macOS
 *      `/Library/Application Support/bm/libbm_sensor.dylib`.
 *
 * A library is refused when a non-root user could have written it or could
 * swap it (trusted_file.ts): loading their code would hand them the agent
 * (invariant 7).
 */
import fs from "node:fs";
import { BmError, PermissionError } from "../src/errors.ts";
import { openTrustedFile, UntrustedFileError } from "../src/trusted_file.ts";

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

/**
 * Opens the library and checks it on the open descriptor (trusted_file.ts:
 * root-owned, not group/world-writable, in a root-owned directory others
 * cannot write unless sticky). Returns the descriptor; the caller dlopens
 * `descriptorPath(path, fd)` (the checked file itself, not whatever the path
 * names by then) and closes it.
 */
export function openLibrary(path: string): number {
  try {
    return openTrustedFile(path);
  } catch (err) {
    if (err instanceof UntrustedFileError) {
      throw new PermissionError(`Refusing native library "${path}": ${err.reason}`);
    }
    throw new BmError(`Cannot read native library "${path}": ${(err as Error).message}`);
  }
}

/** Closes a descriptor from `openLibrary`. */
export function closeLibraryFile(fd: number): void {
  fs.closeSync(fd);
}
