/**
 * Errors that carry their exit code. Only `main.ts` and the daemon turn them
 * into a process exit; everything else throws.
 *
 * Message style: capitalised, no final period, quote the value, detail after
 * a colon, e.g. `Cannot read "/etc/bm/managed.json": permission denied`.
 */
export class BmError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command line: exit 2. */
export class UsageError extends BmError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Bad input file or value (config, plist, rule, trace, record): exit 2. */
export class InputError extends BmError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Caller is not allowed to change state (not root): exit 2. */
export class PermissionError extends BmError {
  constructor(message: string) {
    super(message, 2);
  }
}
