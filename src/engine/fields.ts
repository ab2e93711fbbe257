/**
 * Field accessors, compiled once from the dotted paths rules use. Process
 * fields read the process table's view of the process (updated from the
 * event before rules run), so a file event that carries only a pid still
 * matches on `process.executable` and `process.parent.name`.
 */
import type { BmEvent } from "../sensor/event.ts";
import type { Proc } from "./process_table.ts";
import { basename, commandLine } from "./process_table.ts";

/** What a compiled predicate sees. */
export interface MatchCtx {
  ev: BmEvent;
  proc: Proc;
  /** Values captured by earlier steps of the partial match, by step index. */
  refs: (unknown[] | undefined)[] | undefined;
}

export type Accessor = (c: MatchCtx) => unknown;
/** Reads a process record directly (ancestor conditions). */
export type ProcAccessor = (p: Proc) => unknown;

export type FieldType = "string" | "number" | "boolean" | "strings";

/** Process fields the table keeps; readable on the process, its parent and ancestors. */
const PROC_FIELDS: Record<string, FieldType> = {
  pid: "number",
  entity_id: "string",
  start: "number",
  executable: "string",
  name: "string",
  args: "strings",
  command_line: "string",
  working_directory: "string",
  env_vars: "strings",
  script: "string",
  tty: "string",
  stdin: "string",
  stdout: "string",
  uid: "number",
};

/** Per-event process fields (read from the event, then the table). */
const EVENT_PROC_FIELDS: Record<string, FieldType> = {
  exit_code: "number",
  responsible_pid: "number",
  "code_signature.signing_id": "string",
  "code_signature.team_id": "string",
  "code_signature.cdhash": "string",
  "code_signature.platform_binary": "boolean",
};

const OTHER_FIELDS: Record<string, FieldType> = {
  "@timestamp": "number",
  "event.action": "string",
  "user.id": "number",
  "user.effective.id": "number",
  "file.path": "string",
  "file.target_path": "string",
  "file.hash.sha256": "string",
  "file.uid": "number",
  "file.mode": "number",
  "file.size": "number",
  "file.xattr": "string",
  "file.name": "string",
  "file.extension": "string",
  "file.directory": "string",
  "file.target_name": "string",
  "bm.auth_id": "number",
  "bm.source": "string",
  "bm.rtp_threat": "string",
  "bm.launch_item": "string",
  "bm.truncated": "boolean",
};

/** Every path a rule may name, with its type. */
export function knownFields(): Map<string, FieldType> {
  const m = new Map<string, FieldType>();
  for (const [k, t] of Object.entries(PROC_FIELDS)) {
    if (k === "uid") continue;
    m.set(`process.${k}`, t);
    m.set(`process.parent.${k}`, t);
  }
  for (const [k, t] of Object.entries(EVENT_PROC_FIELDS)) m.set(`process.${k}`, t);
  for (const [k, t] of Object.entries(OTHER_FIELDS)) m.set(k, t);
  return m;
}

const KNOWN = knownFields();

export function fieldType(path: string): FieldType | undefined {
  return KNOWN.get(path);
}

function generic(segs: string[]): (o: unknown) => unknown {
  if (segs.length === 1) {
    const [a] = segs as [string];
    return (o) => (o as Record<string, unknown> | undefined)?.[a];
  }
  if (segs.length === 2) {
    const [a, b] = segs as [string, string];
    return (o) =>
      ((o as Record<string, Record<string, unknown> | undefined> | undefined)?.[a])?.[b];
  }
  return (o) => {
    let cur = o;
    for (const s of segs) {
      if (cur === undefined || cur === null) return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
    return cur;
  };
}

function extension(p: string): string | undefined {
  const b = basename(p);
  const i = b.lastIndexOf(".");
  return i <= 0 ? undefined : b.slice(i + 1).toLowerCase();
}

function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : "") : p.slice(0, i);
}

function procField(k: string): ProcAccessor {
  switch (k) {
    case "pid":
      return (p) => p.pid;
    case "entity_id":
      return (p) => p.entity_id;
    case "start":
      return (p) => p.start;
    case "executable":
      return (p) => p.executable || undefined;
    case "name":
      return (p) => p.name || undefined;
    case "args":
      return (p) => p.args;
    case "command_line":
      return (p) => commandLine(p);
    case "working_directory":
      return (p) => p.working_directory;
    case "env_vars":
      return (p) => p.env_vars;
    case "script":
      return (p) => p.script;
    case "tty":
      return (p) => p.tty;
    case "stdin":
      return (p) => p.stdin;
    case "stdout":
      return (p) => p.stdout;
    case "uid":
      return (p) => p.uid;
  }
  throw new Error(`unknown process field "${k}"`);
}

/** Compiles an accessor over an event; undefined when the path is unknown. */
export function compileAccessor(path: string): Accessor | undefined {
  if (!KNOWN.has(path)) return undefined;
  if (path.startsWith("process.parent.")) {
    const f = procField(path.slice("process.parent.".length));
    return (c) => {
      const pp = c.proc.parent;
      return pp === undefined ? undefined : f(pp);
    };
  }
  if (path.startsWith("process.")) {
    const k = path.slice("process.".length);
    if (k in PROC_FIELDS) {
      const f = procField(k);
      return (c) => f(c.proc);
    }
    const g = generic(k.split("."));
    if (k.startsWith("code_signature.")) {
      const sub = generic(k.split(".").slice(1));
      return (c) => g(c.ev.process) ?? sub(c.proc.code_signature);
    }
    return (c) => g(c.ev.process);
  }
  switch (path) {
    case "user.id":
      return (c) => c.ev.user?.id ?? c.proc.uid;
    case "file.name":
      return (c) => {
        const p = (c.ev as { file?: { path?: string } }).file?.path;
        return p === undefined ? undefined : basename(p);
      };
    case "file.target_name":
      return (c) => {
        const p = (c.ev as { file?: { target_path?: string } }).file?.target_path;
        return p === undefined ? undefined : basename(p);
      };
    case "file.extension":
      return (c) => {
        const p = (c.ev as { file?: { path?: string } }).file?.path;
        return p === undefined ? undefined : extension(p);
      };
    case "file.directory":
      return (c) => {
        const p = (c.ev as { file?: { path?: string } }).file?.path;
        return p === undefined ? undefined : dirname(p);
      };
  }
  const g = generic(path.split("."));
  return (c) => g(c.ev);
}

/** Compiles an accessor over a process record (for `child_of` / `descendant_of`). */
export function compileProcAccessor(path: string): ProcAccessor | undefined {
  if (path === "user.id") return (p) => p.uid;
  if (path.startsWith("process.parent.")) {
    const k = path.slice("process.parent.".length);
    if (!(k in PROC_FIELDS) || k === "uid") return undefined;
    const f = procField(k);
    return (p) => (p.parent === undefined ? undefined : f(p.parent));
  }
  if (path.startsWith("process.")) {
    const k = path.slice("process.".length);
    if (!(k in PROC_FIELDS) || k === "uid") {
      if (k.startsWith("code_signature.")) {
        const sub = generic(k.split(".").slice(1));
        return (p) => sub(p.code_signature);
      }
      return undefined;
    }
    return procField(k);
  }
  return undefined;
}
