/**
 * Structured logs: one JSON object per line on stderr and, when
 * `logging.file` is set, appended to that file too. Every line has `@timestamp`
 * (ISO-8601), `log.level` and `message` (ECS names), plus the fields given.
 */
import * as fs from "node:fs";
import type { Clock } from "../clock.ts";

export type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LogSink {
  write(line: string): void;
}

export const stderrSink: LogSink = {
  write(line) {
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
    } catch { /* stderr closed: nothing sensible to do */ }
  },
};

/** Appends lines to a file created 0600; reopened by `reopen()` (log rotation, reload). */
export class FileSink implements LogSink {
  private fd: number | undefined;
  constructor(readonly path: string) {
    this.fd = fs.openSync(path, "a", 0o600);
  }
  write(line: string): void {
    if (this.fd === undefined) return;
    try {
      fs.writeSync(this.fd, line + "\n");
    } catch { /* a full disk must not stop protection; stderr still has the line */ }
  }
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

export class Logger {
  private level: Level;
  private sinks: LogSink[];
  constructor(level: Level, sinks: LogSink[], private readonly clock: Clock) {
    this.level = level;
    this.sinks = sinks;
  }
  setLevel(level: Level): void {
    this.level = level;
  }
  setSinks(sinks: LogSink[]): void {
    this.sinks = sinks;
  }
  enabled(level: Level): boolean {
    return RANK[level] >= RANK[this.level];
  }
  log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return;
    const line = JSON.stringify({
      "@timestamp": new Date(this.clock.now()).toISOString(),
      "log.level": level,
      message,
      ...fields,
    });
    for (const s of this.sinks) s.write(line);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log("debug", message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log("info", message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log("warn", message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log("error", message, fields);
  }
}

/** Collects lines in memory (tests). */
export class MemorySink implements LogSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l));
  }
}
