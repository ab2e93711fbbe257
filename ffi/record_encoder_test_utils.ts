/**
 * TS encoder for the record layout: builds records for decoder tests, fuzzing
 * and `bm_sensor_inject` benchmarks. The C encoder (dylib/common/record.c) is
 * the one sensors use.
 */
import { HEADER_SIZE, OFF, RECORD_VERSION } from "./symbols.ts";

export interface RecordSpec {
  kind: number;
  flags?: number;
  seq?: number;
  authId?: number;
  time?: number;
  deadline?: number;
  start?: number;
  pid: number;
  ppid?: number;
  uid?: number;
  euid?: number;
  aux?: number;
  responsiblePid?: number;
  fileUid?: number;
  fileMode?: number;
  fileSize?: number;
  stdinKind?: number;
  stdoutKind?: number;
  /** A string is UTF-8 encoded; bytes go in as they are (names that are not UTF-8). */
  strings?: [tag: number, value: string | Uint8Array][];
}

const enc = new TextEncoder();

export function encodeRecord(r: RecordSpec): Uint8Array<ArrayBuffer> {
  const strs = (r.strings ?? []).map(([t, v]) =>
    [t, typeof v === "string" ? enc.encode(v) : v] as const
  );
  let size = HEADER_SIZE + strs.reduce((n, [, v]) => n + 4 + v.length, 0);
  size = (size + 7) & ~7;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(OFF.size, size, true);
  dv.setUint16(OFF.version, RECORD_VERSION, true);
  b[OFF.kind] = r.kind;
  b[OFF.flags] = r.flags ?? 0;
  dv.setUint32(OFF.seq, r.seq ?? 0, true);
  dv.setUint32(OFF.authId, r.authId ?? 0, true);
  dv.setFloat64(OFF.time, r.time ?? 0, true);
  dv.setFloat64(OFF.deadline, r.deadline ?? 0, true);
  dv.setFloat64(OFF.start, r.start ?? 0, true);
  dv.setInt32(OFF.pid, r.pid, true);
  dv.setInt32(OFF.ppid, r.ppid ?? -1, true);
  dv.setInt32(OFF.uid, r.uid ?? -1, true);
  dv.setInt32(OFF.euid, r.euid ?? -1, true);
  dv.setInt32(OFF.aux, r.aux ?? 0, true);
  dv.setInt32(OFF.responsiblePid, r.responsiblePid ?? 0, true);
  dv.setInt32(OFF.fileUid, r.fileUid ?? -1, true);
  dv.setUint32(OFF.fileMode, r.fileMode ?? 0, true);
  dv.setFloat64(OFF.fileSize, r.fileSize ?? -1, true);
  b[OFF.stdinKind] = r.stdinKind ?? 0;
  b[OFF.stdoutKind] = r.stdoutKind ?? 0;
  dv.setUint16(OFF.nstr, strs.length, true);
  let p = HEADER_SIZE;
  for (const [tag, v] of strs) {
    b[p] = tag;
    dv.setUint16(p + 2, v.length, true);
    b.set(v, p + 4);
    p += 4 + v.length;
  }
  return b;
}
