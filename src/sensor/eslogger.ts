/**
 * Reads the JSON lines that macOS's `eslogger` (macOS 13+) prints and turns
 * them into bm events, so a Mac administrator can see what bm's rules say
 * about their machine without installing the agent:
 *
 *   sudo eslogger exec fork exit create rename unlink close | bm replay --format eslogger -
 *
 * Each line is one EndpointSecurity message as eslogger serialises it: a
 * `schema_version` (1 is the only one known), the message `version`, `time`
 * (ISO 8601), the acting `process` (an es_process_t: `audit_token`, `ppid`,
 * `executable.path`, `signing_id`, `team_id`, `cdhash`, `is_platform_binary`,
 * `start_time`, `tty`, `responsible_audit_token`) and `event`, an object with
 * one key naming the event type (`exec`, `fork`, `exit`, `create`, ...).
 *
 * The mapping is the one the native macOS sensor applies to live messages
 * (dylib/macos/es_map.c): an exec describes the process after the exec; a fork
 * the child, its parent the message's process; `close` counts only when the
 * file was modified. Apple says eslogger's output is not an API and may change
 * between releases, so every field is checked and a line that does not fit is
 * reported with its number, never guessed at.
 */
import { z } from "zod";
import type { BmEvent, EventAction, FileFields, ProcessFields } from "./event.ts";
import { basename } from "node:path";
import { bytesToPath, osStringToPath } from "./path_codec.ts";

/** The eslogger schema versions this reader understands. */
export const ESLOGGER_SCHEMA_VERSIONS = [1] as const;

/** eslogger's strings are UTF-8; to the text form of path_codec.ts (backslashes doubled). */
const pathString = z.string().transform(osStringToPath);

const fileSchema = z.object({
  path: pathString,
  stat: z.object({
    st_uid: z.number().int().optional(),
    st_mode: z.number().int().nonnegative().optional(),
    st_size: z.number().nonnegative().optional(),
  }).optional().nullable(),
});
type EsFile = z.infer<typeof fileSchema>;

const tokenSchema = z.object({
  pid: z.number().int(),
  ruid: z.number().int().optional(),
  euid: z.number().int().optional(),
});

const processSchema = z.object({
  audit_token: tokenSchema,
  ppid: z.number().int().optional(),
  parent_audit_token: tokenSchema.optional().nullable(),
  responsible_audit_token: tokenSchema.optional().nullable(),
  executable: fileSchema,
  signing_id: z.string().optional().nullable(),
  team_id: z.string().optional().nullable(),
  cdhash: z.string().optional().nullable(),
  is_platform_binary: z.boolean().optional(),
  start_time: z.string().optional().nullable(),
  tty: fileSchema.optional().nullable(),
});
type EsProcess = z.infer<typeof processSchema>;

const destinationSchema = z.object({
  existing_file: fileSchema.optional().nullable(),
  new_path: z.object({
    dir: fileSchema,
    filename: pathString,
    mode: z.number().int().optional(),
  }).optional().nullable(),
});

const eventSchemas = {
  exec: z.object({
    target: processSchema,
    args: z.array(z.string()).optional(),
    env: z.array(z.string()).optional(),
    cwd: fileSchema.optional().nullable(),
  }),
  fork: z.object({ child: processSchema }),
  exit: z.object({ stat: z.number().int() }),
  create: z.object({ destination_type: z.number().int(), destination: destinationSchema }),
  rename: z.object({
    source: fileSchema,
    destination_type: z.number().int(),
    destination: destinationSchema,
  }),
  unlink: z.object({ target: fileSchema }),
  close: z.object({ modified: z.boolean(), target: fileSchema }),
  write: z.object({ target: fileSchema }),
  open: z.object({ file: fileSchema }),
  setextattr: z.object({ target: fileSchema, extattr: z.string() }),
  deleteextattr: z.object({ target: fileSchema, extattr: z.string() }),
  btm_launch_item_add: z.object({
    item: z.object({ item_url: z.string().optional().nullable() }),
    executable_path: pathString.optional().nullable(),
  }),
} as const;
type KnownType = keyof typeof eventSchemas;

const messageSchema = z.object({
  schema_version: z.number().int(),
  time: z.string(),
  process: processSchema,
  event: z.record(z.string(), z.unknown()),
  seq_num: z.number().int().nonnegative().optional(),
});

/** What one eslogger line gives. */
export type EsloggerLine =
  | { kind: "events"; events: BmEvent[] }
  /** A known message bm has no event for (`write`, `close` of an unmodified file). */
  | { kind: "unused"; type: string }
  /** An event type this reader does not know: counted and skipped. */
  | { kind: "unknown"; type: string }
  | { kind: "bad"; reason: string }
  /** A schema version this reader does not know: the whole input is refused. */
  | { kind: "version"; version: number };

function firstIssue(e: z.ZodError): string {
  const issue = e.issues[0];
  const where = issue && issue.path.length ? issue.path.join(".") : "message";
  return `${where}: ${issue?.message ?? "invalid"}`;
}

function ms(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return undefined;
  // Date.parse keeps milliseconds only; eslogger prints nanoseconds.
  const frac = /\.(\d+)Z?$/.exec(iso)?.[1];
  return frac && frac.length > 3 ? t + Number(`0.${frac.slice(3)}`) : t;
}

function processFields(p: EsProcess): ProcessFields {
  const pid = p.audit_token.pid;
  const exe = p.executable.path;
  const out: ProcessFields = { pid, executable: exe, name: basename(exe) };
  const start = ms(p.start_time);
  if (start !== undefined) {
    out.start = start;
    out.entity_id = `${pid}-${Math.round(start)}`;
  }
  // Message version >= 4 gives the parent's audit token; ppid is the original parent before.
  const ppid = p.parent_audit_token?.pid ?? p.ppid;
  if (ppid !== undefined && ppid >= 0) out.parent = { pid: ppid };
  const rpid = p.responsible_audit_token?.pid;
  if (rpid !== undefined && rpid > 0) out.responsible_pid = rpid;
  if (p.tty?.path) out.tty = p.tty.path;
  if (p.signing_id || p.team_id || p.cdhash || p.is_platform_binary !== undefined) {
    out.code_signature = { platform_binary: p.is_platform_binary === true };
    if (p.signing_id) out.code_signature.signing_id = p.signing_id;
    if (p.team_id) out.code_signature.team_id = p.team_id;
    if (p.cdhash && /^[0-9a-fA-F]{40}$/.test(p.cdhash) && !/^0+$/.test(p.cdhash)) {
      out.code_signature.cdhash = p.cdhash.toLowerCase();
    }
  }
  return out;
}

function fileFields(f: EsFile): FileFields {
  const out: FileFields = { path: f.path };
  if (f.stat?.st_uid !== undefined) out.uid = f.stat.st_uid;
  if (f.stat?.st_mode) out.mode = f.stat.st_mode;
  if (f.stat?.st_size !== undefined) out.size = f.stat.st_size;
  return out;
}

function destinationPath(d: z.infer<typeof destinationSchema>): string | undefined {
  if (d.new_path) {
    const dir = d.new_path.dir.path;
    return dir.endsWith("/") ? dir + d.new_path.filename : `${dir}/${d.new_path.filename}`;
  }
  return d.existing_file?.path;
}

/**
 * `file:///Library/LaunchAgents/x.plist` → the path (percent escapes are
 * bytes, so ones that are not UTF-8 keep them); anything else as given.
 */
function urlPath(u: string): string {
  if (!u.startsWith("file://")) return osStringToPath(u);
  let pathname: string;
  try {
    pathname = new URL(u).pathname;
  } catch {
    return osStringToPath(u);
  }
  const bytes: number[] = [];
  const utf8 = new TextEncoder();
  for (let i = 0; i < pathname.length; i++) {
    const hex = pathname[i] === "%" ? pathname.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      const cp = pathname.codePointAt(i)!;
      if (cp > 0xffff) i++;
      bytes.push(...utf8.encode(String.fromCodePoint(cp)));
    }
  }
  return bytesToPath(Uint8Array.from(bytes));
}

export function decodeEsloggerLine(line: string): EsloggerLine {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return { kind: "bad", reason: `not JSON: ${(err as Error).message}` };
  }
  if (
    raw !== null && typeof raw === "object" && "schema_version" in raw &&
    typeof raw.schema_version === "number" &&
    !(ESLOGGER_SCHEMA_VERSIONS as readonly number[]).includes(raw.schema_version)
  ) {
    return { kind: "version", version: raw.schema_version };
  }
  const m = messageSchema.safeParse(raw);
  if (!m.success) return { kind: "bad", reason: firstIssue(m.error) };
  const msg = m.data;
  const types = Object.keys(msg.event);
  if (types.length !== 1) {
    return { kind: "bad", reason: `event: expected one event type, found ${types.length}` };
  }
  const type = types[0]!;
  if (!Object.hasOwn(eventSchemas, type)) return { kind: "unknown", type };
  const known = type as KnownType;
  const body = eventSchemas[known].safeParse(msg.event[type]);
  if (!body.success) {
    return { kind: "bad", reason: `event.${type}.${firstIssue(body.error)}` };
  }
  // Whole milliseconds, as a bm trace writes @timestamp, so a converted recording replays the same.
  const time = Date.parse(msg.time);
  if (Number.isNaN(time)) return { kind: "bad", reason: `time: not a date "${msg.time}"` };

  const actor = processFields(msg.process);
  const token = msg.process.audit_token;
  const base = (action: EventAction, process: ProcessFields, uidFrom = token) => {
    const e = {
      "@timestamp": time,
      event: { action },
      process,
      bm: msg.seq_num !== undefined ? { source: "macos", seq: msg.seq_num } : { source: "macos" },
    } as BmEvent;
    if (uidFrom.ruid !== undefined) {
      e.user = uidFrom.euid !== undefined
        ? { id: uidFrom.ruid, effective: { id: uidFrom.euid } }
        : { id: uidFrom.ruid };
    }
    return e;
  };
  const withFile = (action: EventAction, file: FileFields): EsloggerLine => {
    const e = base(action, actor) as BmEvent & { file?: FileFields };
    e.file = file;
    return { kind: "events", events: [e] };
  };

  const b = body.data;
  switch (known) {
    case "exec": {
      const x = b as z.infer<typeof eventSchemas.exec>;
      // The record describes the process after the exec: its new image.
      const proc = processFields(x.target);
      if (x.args) proc.args = x.args;
      if (x.cwd?.path) proc.working_directory = x.cwd.path;
      if (!proc.parent && actor.parent) proc.parent = actor.parent;
      const e = base("exec", proc, x.target.audit_token) as BmEvent & { file?: FileFields };
      e.file = fileFields(x.target.executable);
      return { kind: "events", events: [e] };
    }
    case "fork": {
      const child = processFields((b as z.infer<typeof eventSchemas.fork>).child);
      child.parent = { pid: actor.pid, executable: actor.executable!, name: actor.name! };
      if (actor.entity_id) child.parent.entity_id = actor.entity_id;
      return {
        kind: "events",
        events: [base("fork", child, (b as z.infer<typeof eventSchemas.fork>).child.audit_token)],
      };
    }
    case "exit": {
      const stat = (b as z.infer<typeof eventSchemas.exit>).stat;
      // The wait(2) encoding, as the native sensor reads it (bm_macos_exit_code).
      const sig = stat & 0x7f;
      const code = sig === 0 ? (stat >> 8) & 0xff : sig !== 0x7f ? 128 + sig : -1;
      return { kind: "events", events: [base("exit", { ...actor, exit_code: code })] };
    }
    case "create": {
      const c = b as z.infer<typeof eventSchemas.create>;
      const path = destinationPath(c.destination);
      if (path === undefined) return { kind: "bad", reason: "event.create.destination: no path" };
      const f = c.destination.existing_file
        ? fileFields(c.destination.existing_file)
        : { path } as FileFields;
      f.path = path;
      if (c.destination.new_path?.mode) f.mode = c.destination.new_path.mode;
      return withFile("create", f);
    }
    case "rename": {
      const r = b as z.infer<typeof eventSchemas.rename>;
      const target = destinationPath(r.destination);
      if (target === undefined) return { kind: "bad", reason: "event.rename.destination: no path" };
      return withFile("rename", { ...fileFields(r.source), target_path: target });
    }
    case "unlink":
      return withFile("unlink", fileFields((b as z.infer<typeof eventSchemas.unlink>).target));
    case "close": {
      const c = b as z.infer<typeof eventSchemas.close>;
      if (!c.modified) return { kind: "unused", type };
      return withFile("close_modified", fileFields(c.target));
    }
    case "write":
      // A write is followed by a close with modified = true, which carries it.
      return { kind: "unused", type };
    case "open":
      return withFile("open", fileFields((b as z.infer<typeof eventSchemas.open>).file));
    case "setextattr":
    case "deleteextattr": {
      const x = b as z.infer<typeof eventSchemas.setextattr>;
      return withFile(known === "setextattr" ? "setxattr" : "deletexattr", {
        ...fileFields(x.target),
        xattr: x.extattr,
      });
    }
    case "btm_launch_item_add": {
      const x = b as z.infer<typeof eventSchemas.btm_launch_item_add>;
      const item = x.item.item_url ? urlPath(x.item.item_url) : undefined;
      const path = x.executable_path ?? item;
      if (path === undefined) {
        return { kind: "bad", reason: "event.btm_launch_item_add: no item_url or executable_path" };
      }
      const r = withFile("launch_item_add", { path });
      if (item !== undefined && r.kind === "events") r.events[0]!.bm!.launch_item = item;
      return r;
    }
  }
}

/** A whole eslogger recording, read. */
export interface EsloggerRead {
  events: BmEvent[];
  /** Lines that are not eslogger messages: 1-based line and reason. */
  problems: { line: number; reason: string }[];
  /** Event types this reader does not know, with how many lines each. */
  unknown: Record<string, number>;
  /** Known types bm has no event for (`write`, unmodified `close`), with counts. */
  unused: Record<string, number>;
  /** Set when a line names a schema version this reader does not know. */
  badVersion?: { line: number; version: number };
}

/** Reads a recording; stops at the first unknown schema version (reported, not thrown). */
export function readEslogger(text: string): EsloggerRead {
  const out: EsloggerRead = { events: [], problems: [], unknown: {}, unused: {} };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const r = decodeEsloggerLine(line);
    switch (r.kind) {
      case "events":
        out.events.push(...r.events);
        break;
      case "unused":
        out.unused[r.type] = (out.unused[r.type] ?? 0) + 1;
        break;
      case "unknown":
        out.unknown[r.type] = (out.unknown[r.type] ?? 0) + 1;
        break;
      case "bad":
        out.problems.push({ line: i + 1, reason: r.reason });
        break;
      case "version":
        out.badVersion = { line: i + 1, version: r.version };
        return out;
    }
  }
  return out;
}
