/**
 * The event union: what the sensor layer hands the engine, what traces hold
 * (one JSON object per line) and what rules name with dotted paths.
 *
 * Field names follow the Elastic Common Schema where one exists
 * (`event.action`, `process.pid`, `process.entity_id`, `process.executable`,
 * `process.args`, `process.working_directory`, `process.parent.*`, `user.id`,
 * `file.path`, `file.target_path`). bm's own facts live under `bm.*`.
 *
 * Time: `@timestamp` is milliseconds since the Unix epoch (a number) in memory;
 * traces write it as an ISO-8601 string and the trace codec converts.
 *
 * Exec semantics: `process` is the process after the exec (its new image).
 * On Linux an auth exec (`bm.auth_id` set) knows only the pid, the file being
 * executed and the caller's lineage; `process.args` and
 * `process.working_directory` are absent until the notify exec that follows.
 * On macOS the auth exec carries everything.
 */

/** Every kind of event the engine sees. */
export const EVENT_ACTIONS = [
  "exec",
  "fork",
  "exit",
  "open",
  "close_modified",
  "create",
  "rename",
  "unlink",
  "setxattr",
  "deletexattr",
  "launch_item_add",
  "rtp_verdict",
] as const;
export type EventAction = typeof EVENT_ACTIONS[number];

/**
 * How a standard stream of a process is connected (Linux: /proc/PID/fd).
 * "socket" is a network socket; "unix" an AF_UNIX one (a socketpair as Node
 * and Python's subprocess give children, or local IPC).
 */
export type StreamKind = "tty" | "socket" | "unix" | "pipe" | "file" | "null" | "unknown";

export interface ParentFields {
  pid: number;
  entity_id?: string;
  executable?: string;
  name?: string;
  args?: string[];
}

export interface CodeSignature {
  signing_id?: string;
  team_id?: string;
  cdhash?: string;
  /** Apple platform binary. */
  platform_binary?: boolean;
}

export interface ProcessFields {
  pid: number;
  /** Survives pid reuse: `<pid>-<start time in ms>` unless the source gives one. */
  entity_id?: string;
  /** Start time, ms since epoch. */
  start?: number;
  executable?: string;
  /** Basename of the executable. */
  name?: string;
  args?: string[];
  /**
   * The configured environment variables of the new image, "NAME=value"
   * (ECS `process.env_vars`; `sensor.envVars` says which), on a notify exec
   * (Linux) or the exec (macOS). Absent when none of them is set.
   */
  env_vars?: string[];
  /**
   * Linux: the `#!` script this image runs. `executable` is then its
   * interpreter and `args` hold the script's path as the kernel passed it.
   */
  script?: string;
  working_directory?: string;
  parent?: ParentFields;
  /** macOS: responsible process pid (audit token). */
  responsible_pid?: number;
  tty?: string;
  stdin?: StreamKind;
  stdout?: StreamKind;
  /** Exit code on `exit`. */
  exit_code?: number;
  code_signature?: CodeSignature;
}

export interface FileFields {
  path: string;
  /** Rename destination. */
  target_path?: string;
  hash?: { sha256?: string };
  /** Owner uid of the file at event time, when known. */
  uid?: number;
  mode?: number;
  size?: number;
  /** Name of the extended attribute for setxattr / deletexattr. */
  xattr?: string;
}

/** Facts bm adds that ECS has no name for. */
export interface BmFields {
  /** Set on events the sensor holds for an answer (auth). */
  auth_id?: number;
  /** Deadline for the answer, ms since epoch (auth only). */
  deadline?: number;
  /** Sensor sequence number; gaps mean drops. */
  seq?: number;
  /** Where the event came from: "linux", "macos", "replay", "engine". */
  source?: string;
  /** rtp_verdict: the blocklist entry or RTP threat name that matched. */
  rtp_threat?: string;
  /** launch_item_add (macOS BTM): the item's plist or executable. */
  launch_item?: string;
  /** Some string of the event was over its bound and cut (src/engine/bounds.ts). */
  truncated?: boolean;
  /**
   * The sensor held this event (an interest pattern with `hold`) and sends it
   * now, just before an exec of its file: its time and process are the
   * write's, which may lie before events already delivered.
   */
  late?: boolean;
  /** exit: the process wrote held events, some of which may still come (keep it until then). */
  held_writes?: boolean;
}

interface EventBase<A extends EventAction> {
  "@timestamp": number;
  event: { action: A };
  process: ProcessFields;
  user?: { id?: number; effective?: { id?: number } };
  bm?: BmFields;
}

export interface ExecEvent extends EventBase<"exec"> {
  file?: FileFields;
}
export type ForkEvent = EventBase<"fork">;
export type ExitEvent = EventBase<"exit">;
export interface FileEvent<A extends EventAction> extends EventBase<A> {
  file: FileFields;
}
export type OpenEvent = FileEvent<"open">;
export type CloseModifiedEvent = FileEvent<"close_modified">;
export type CreateEvent = FileEvent<"create">;
export type RenameEvent = FileEvent<"rename">;
export type UnlinkEvent = FileEvent<"unlink">;
export type SetXattrEvent = FileEvent<"setxattr">;
export type DeleteXattrEvent = FileEvent<"deletexattr">;
export type LaunchItemAddEvent = FileEvent<"launch_item_add">;
/** Real-time protection matched a file (today: the SHA-256 blocklist). */
export type RtpVerdictEvent = FileEvent<"rtp_verdict">;

export type BmEvent =
  | ExecEvent
  | ForkEvent
  | ExitEvent
  | OpenEvent
  | CloseModifiedEvent
  | CreateEvent
  | RenameEvent
  | UnlinkEvent
  | SetXattrEvent
  | DeleteXattrEvent
  | LaunchItemAddEvent
  | RtpVerdictEvent;

/** True when the sensor holds this event until it gets an answer. */
export function isAuth(e: BmEvent): boolean {
  return e.bm?.auth_id !== undefined;
}
