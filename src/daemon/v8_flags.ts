/**
 * The V8 flags bm runs with, wherever it is started: `bin/bm`, the release
 * builds (`deno task compile`, packaging/macos/build_release.sh) and a bm that
 * starts itself (self_command.ts). v8_flags_test.ts checks that each of them
 * says exactly this.
 *
 * Memory (issue 13 item 6, README "Limits"): the daemon's live heap is small
 * (about 20 MB of code and rules, 1 KB a process in the table), but a
 * stream of events turns over objects that outlive a young-generation cycle
 * (process records, batches), and with V8's defaults the old generation grew
 * to 100-800 MB of garbage before its first full collection. So:
 * - `--max-semi-space-size=4`: a 4 MB young generation (V8 sizes it up to
 *   16 MB from the machine's memory);
 * - `--initial-old-space-size=32`: the first full collection at 32 MB of old
 *   generation rather than V8's initial limit (far larger on a 24 GB machine);
 * - `--heap-growing-percent=25`: after each full collection the next comes at
 *   1.25 times the live size (V8 picks 1.1-4 by its speed heuristics).
 * Under an exec flood this holds the daemon's RSS flat (bench/flood_rss.ts).
 * `--enable-experimental-regexp-engine` runs rule patterns in linear time
 * (linear_regex.ts).
 */
import { LINEAR_ENGINE_FLAG } from "../engine/linear_regex.ts";

export const V8_FLAGS: readonly string[] = [
  "--max-semi-space-size=4",
  "--initial-old-space-size=32",
  "--heap-growing-percent=25",
  LINEAR_ENGINE_FLAG,
];

/** The `--v8-flags=...` argument of `deno run` and `deno compile`. */
export const V8_FLAGS_ARG = `--v8-flags=${V8_FLAGS.join(",")}`;
