/** What every `bm` subcommand file exports. */
export interface Command {
  /** Top-level verb, e.g. "config". */
  name: string;
  /** One line for `bm --help`. */
  summary: string;
  /** Full help text for `bm NAME --help`. */
  usage: string;
  /** Runs with the arguments after the verb; resolves to the exit code. Throws BmError for failures. */
  run(args: string[]): Promise<number>;
}

/** Writes one JSON document to stdout (the `--output json` contract). */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
