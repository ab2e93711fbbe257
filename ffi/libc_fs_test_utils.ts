/**
 * Test helpers over ffi/libc_fs.ts: does a file exist, and its content, by the
 * exact bytes of its name (the text form of path_codec.ts), which Deno's own
 * file APIs cannot name when the bytes are not UTF-8.
 */
import * as fs from "node:fs";
import { AT_FDCWD, closeFd, lstatAt, O, openBytes } from "./libc_fs.ts";
import { pathToBytes } from "../src/sensor/path_codec.ts";

export function existsByBytes(path: string): boolean {
  try {
    lstatAt(AT_FDCWD, pathToBytes(path));
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return false;
    throw e;
  }
}

export function readByBytes(path: string): Uint8Array {
  const fd = openBytes(pathToBytes(path), O.RDONLY);
  try {
    return new Uint8Array(fs.readFileSync(`/proc/self/fd/${fd}`));
  } finally {
    closeFd(fd);
  }
}
