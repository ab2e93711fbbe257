/**
 * Record decoder: binary records (layout in dylib/include/bm_sensor.h) to the
 * BmEvent union. Pure: takes bytes, never a pointer. Malformed input throws
 * InputError naming the byte offset and reason; unknown kinds and string tags
 * are skipped (newer libraries stay readable).
 */
import { InputError } from "../src/errors.ts";
import {
  type BmEvent,
  EVENT_ACTIONS,
  type EventAction,
  type FileFields,
  type ProcessFields,
  type StreamKind,
} from "../src/sensor/event.ts";
import { bytesToPath } from "../src/sensor/path_codec.ts";
import { bytesWithin, vouchingPart } from "../src/engine/bounds.ts";
import { FLAG, HEADER_SIZE, OFF, RECORD_VERSION, STR } from "./symbols.ts";

const STREAMS: readonly StreamKind[] = ["unknown", "tty", "socket", "pipe", "file", "null", "unix"];
const utf8 = new TextDecoder("utf-8", { fatal: false });
/** Kinds the sensors emit (EVENT_ACTIONS index + 1); rtp_verdict never comes from a sensor. */
const MAX_KIND = EVENT_ACTIONS.indexOf("launch_item_add") + 1;
/**
 * Parts every event of a kind or user shares instead of one new object per
 * event (GC was a fifth to a third of the JS thread in file bursts): nothing
 * writes to an event's `event` or `user` (frozen, so a write would throw).
 */
const EVENT_PART = EVENT_ACTIONS.map((action) => Object.freeze({ action }));
/** The same, for events whose strings are within the engine's bounds (src/engine/bounds.ts). */
const WITHIN_PART = EVENT_ACTIONS.map((action) => vouchingPart(Object.freeze({ action })));
let lastUid = -1, lastEuid = -1;
let lastUser: NonNullable<BmEvent["user"]> | undefined;

function userOf(uid: number, euid: number): NonNullable<BmEvent["user"]> {
  if (lastUser === undefined || uid !== lastUid || euid !== lastEuid) {
    lastUid = uid;
    lastEuid = euid;
    lastUser = Object.freeze(
      euid >= 0 ? { id: uid, effective: Object.freeze({ id: euid }) } : { id: uid },
    );
  }
  return lastUser;
}

/**
 * The text of recently decoded names, by their bytes: an exec's executable
 * comes again as its file, as the first argument and in its notify record,
 * and a shell's children share one working directory. A hit costs a byte
 * comparison instead of a subarray and a TextDecoder call, and gives the same
 * string object, whose hash V8 has already computed for the process table's
 * and the rules' map look-ups. Only names whose text is their plain UTF-8
 * (no backslash, no invalid byte: nearly all) are kept, so a hit is also what
 * `str` would give.
 */
const RECENT = 8;
const RECENT_MAX_LEN = 256;
const recentBytes = new Uint8Array(RECENT * RECENT_MAX_LEN);
const recentLen = new Int32Array(RECENT).fill(-1);
const recentText: string[] = new Array<string>(RECENT).fill("");
let recentNext = 0;

function recent(b: Uint8Array, at: number, len: number): string | undefined {
  if (len > RECENT_MAX_LEN) return undefined;
  for (let i = 0; i < RECENT; i++) {
    if (recentLen[i] !== len) continue;
    const base = i * RECENT_MAX_LEN;
    // from the end: names that differ tend to share a folder and differ at the end
    let j = len - 1;
    while (j >= 0 && recentBytes[base + j] === b[at + j]) j--;
    if (j < 0) return recentText[i];
  }
  return undefined;
}

function remember(b: Uint8Array, at: number, len: number, text: string): void {
  if (len > RECENT_MAX_LEN) return;
  const i = recentNext;
  recentNext = (i + 1) % RECENT;
  const base = i * RECENT_MAX_LEN;
  for (let j = 0; j < len; j++) recentBytes[base + j] = b[at + j]!;
  recentLen[i] = len;
  recentText[i] = text;
}

function str(b: Uint8Array, at: number, len: number): string {
  if (len === 0) return "";
  // measured: TextDecoder beats hand-built strings even for short ASCII paths
  return recent(b, at, len) ?? utf8.decode(b.subarray(at, at + len));
}

/** A file name: lossless (src/sensor/path_codec.ts), so the response can name the same file. */
function path(b: Uint8Array, at: number, len: number): string {
  if (len === 0) return "";
  const hit = recent(b, at, len);
  if (hit !== undefined) return hit;
  const text = bytesToPath(b.subarray(at, at + len));
  // the text form of a name with a backslash or an invalid byte is not its plain decoding,
  // and `str` drops a leading byte order mark that a name keeps
  if (!text.includes("\\") && !text.includes("\uFFFD") && text.charCodeAt(0) !== 0xfeff) {
    remember(b, at, len, text);
  }
  return text;
}

/**
 * Entity ids by pid (direct-mapped): the records of one process (fork, exec,
 * notify exec, exit) share one id string instead of building one each, so
 * the process table's look-ups by entity id hash it once.
 */
const IDS = 4096;
const idPid = new Int32Array(IDS).fill(-1);
const idStart = new Float64Array(IDS).fill(NaN);
const idText: string[] = new Array<string>(IDS).fill("");

function entityId(pid: number, start: number): string {
  const ms = Math.round(start);
  const i = pid & (IDS - 1);
  if (idPid[i] === pid && idStart[i] === ms) return idText[i]!;
  const id = `${pid}-${ms}`;
  idPid[i] = pid;
  idStart[i] = ms;
  idText[i] = id;
  return id;
}

/** One DataView over the buffer drained into again and again (a DataView costs a runtime call). */
let viewOf: Uint8Array | undefined;
let view: DataView | undefined;

function dataView(bytes: Uint8Array): DataView {
  if (bytes !== viewOf || view === undefined || view.byteLength !== bytes.byteLength) {
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    viewOf = bytes;
  }
  return view;
}

function basename(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? p : p.slice(i + 1);
}

export interface DecodeResult {
  events: BmEvent[];
  /** Records of kinds this decoder does not know (skipped). */
  skipped: number;
}

/**
 * Decodes `len` bytes of whole records from `bytes`. `source` goes into
 * `bm.source` ("linux", "macos").
 */
export function decodeRecords(bytes: Uint8Array, len: number, source: string): DecodeResult {
  if (len < 0 || len > bytes.length) {
    throw new InputError(`Bad sensor records: length ${len} outside buffer of ${bytes.length}`);
  }
  // over the whole buffer: every read below is checked against len first
  const dv = dataView(bytes);
  const events: BmEvent[] = [];
  let skipped = 0;
  let off = 0;
  while (off < len) {
    if (len - off < HEADER_SIZE) {
      throw new InputError(`Bad sensor record at byte ${off}: truncated header`);
    }
    const size = dv.getUint32(off + OFF.size, true);
    if (size < HEADER_SIZE || size % 8 !== 0 || size > len - off) {
      throw new InputError(`Bad sensor record at byte ${off}: size ${size}`);
    }
    const version = dv.getUint16(off + OFF.version, true);
    if (version !== RECORD_VERSION) {
      throw new InputError(`Bad sensor record at byte ${off}: version ${version}`);
    }
    const kind = bytes[off + OFF.kind]!;
    if (kind < 1 || kind > MAX_KIND) {
      skipped++;
      off += size;
      continue;
    }
    events.push(decodeOne(bytes, dv, off, size, kind, source));
    off += size;
  }
  return { events, skipped };
}

function decodeOne(
  b: Uint8Array,
  dv: DataView,
  off: number,
  size: number,
  kind: number,
  source: string,
): BmEvent {
  const action = EVENT_ACTIONS[kind - 1] as EventAction;
  const flags = b[off + OFF.flags]!;
  const pid = dv.getInt32(off + OFF.pid, true);
  const ppid = dv.getInt32(off + OFF.ppid, true);
  const uid = dv.getInt32(off + OFF.uid, true);
  const euid = dv.getInt32(off + OFF.euid, true);
  const start = dv.getFloat64(off + OFF.start, true);
  const nstr = dv.getUint16(off + OFF.nstr, true);

  const proc: ProcessFields = { pid };
  let filePath: string | undefined;
  let target: string | undefined;
  let xattr: string | undefined;
  let launchItem: string | undefined;
  let args: string[] | undefined;
  let env: string[] | undefined;
  let signingId: string | undefined;
  let teamId: string | undefined;
  let cdhash: string | undefined;
  let parentExe: string | undefined;
  let p = off + HEADER_SIZE;
  const end = off + size;
  // what the engine's bounds need to know (src/engine/bounds.ts bytesWithin)
  let maxBytes = 0, argBytes = 0;
  for (let i = 0; i < nstr; i++) {
    if (p + 4 > end) throw new InputError(`Bad sensor record at byte ${off}: string ${i} header`);
    const tag = b[p]!;
    const slen = dv.getUint16(p + 2, true);
    p += 4;
    if (p + slen > end) {
      throw new InputError(`Bad sensor record at byte ${off}: string ${i} length`);
    }
    if (slen > maxBytes) maxBytes = slen;
    switch (tag) {
      case STR.executable:
        proc.executable = path(b, p, slen);
        proc.name = basename(proc.executable);
        break;
      case STR.arg:
        (args ??= []).push(str(b, p, slen));
        argBytes += slen;
        break;
      case STR.cwd:
        proc.working_directory = path(b, p, slen);
        break;
      case STR.path:
        filePath = path(b, p, slen);
        break;
      case STR.targetPath:
        target = path(b, p, slen);
        break;
      case STR.signingId:
        signingId = str(b, p, slen);
        break;
      case STR.teamId:
        teamId = str(b, p, slen);
        break;
      case STR.cdhash:
        cdhash = str(b, p, slen);
        break;
      case STR.tty:
        proc.tty = path(b, p, slen);
        break;
      case STR.xattr:
        xattr = str(b, p, slen);
        break;
      case STR.launchItem:
        launchItem = path(b, p, slen);
        break;
      case STR.parentExecutable:
        parentExe = path(b, p, slen);
        break;
      case STR.env:
        (env ??= []).push(str(b, p, slen));
        break;
      case STR.script:
        proc.script = path(b, p, slen);
        break;
      default:
        break; // unknown tag: skip
    }
    p += slen;
  }
  if (args) proc.args = args;
  if (env) proc.env_vars = env;
  if (start > 0) {
    proc.start = start;
    proc.entity_id = entityId(pid, start);
  }
  if (ppid >= 0) {
    proc.parent = parentExe === undefined
      ? { pid: ppid }
      : { pid: ppid, executable: parentExe, name: basename(parentExe) };
  }
  const rpid = dv.getInt32(off + OFF.responsiblePid, true);
  if (rpid > 0) proc.responsible_pid = rpid;
  if (kind === 1) {
    const si = b[off + OFF.stdinKind]!, so = b[off + OFF.stdoutKind]!;
    if (si) proc.stdin = STREAMS[si] ?? "unknown";
    if (so) proc.stdout = STREAMS[so] ?? "unknown";
  }
  if (action === "exit") proc.exit_code = dv.getInt32(off + OFF.aux, true);
  if (
    signingId !== undefined || teamId !== undefined || cdhash !== undefined ||
    (flags & FLAG.platformBinary)
  ) {
    proc.code_signature = {};
    if (signingId !== undefined) proc.code_signature.signing_id = signingId;
    if (teamId !== undefined) proc.code_signature.team_id = teamId;
    if (cdhash !== undefined) proc.code_signature.cdhash = cdhash;
    proc.code_signature.platform_binary = (flags & FLAG.platformBinary) !== 0;
  }

  const bm: NonNullable<BmEvent["bm"]> = { seq: dv.getUint32(off + OFF.seq, true), source };
  if (flags & FLAG.auth) {
    bm.auth_id = dv.getUint32(off + OFF.authId, true);
    bm.deadline = dv.getFloat64(off + OFF.deadline, true);
  }
  if (launchItem !== undefined) bm.launch_item = launchItem;
  if (flags & FLAG.late) bm.late = true;
  if (flags & FLAG.heldWrites) bm.held_writes = true;

  const ev = {
    "@timestamp": dv.getFloat64(off + OFF.time, true),
    // the engine then skips walking every string of the event for its bounds
    event:
      (bytesWithin(maxBytes, args?.length ?? 0, argBytes) ? WITHIN_PART : EVENT_PART)[kind - 1]!,
    process: proc,
    bm,
  } as BmEvent;
  if (uid >= 0) ev.user = userOf(uid, euid);
  const fileNeeded = action !== "exec" && action !== "fork" && action !== "exit";
  if (filePath !== undefined || fileNeeded) {
    const file: FileFields = { path: filePath ?? launchItem ?? "" };
    if (target !== undefined) file.target_path = target;
    if (xattr !== undefined) file.xattr = xattr;
    const fuid = dv.getInt32(off + OFF.fileUid, true);
    if (fuid >= 0) file.uid = fuid;
    const mode = dv.getUint32(off + OFF.fileMode, true);
    if (mode) file.mode = mode;
    const fsize = dv.getFloat64(off + OFF.fileSize, true);
    if (fsize >= 0) file.size = fsize;
    (ev as { file?: FileFields }).file = file;
  }
  return ev;
}
