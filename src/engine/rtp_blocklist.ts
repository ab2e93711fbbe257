/**
 * The forwardRtpToBm SHA-256 blocklist (policies/rtp_blocklist.txt): one
 * lower-case hex SHA-256 per line, optionally followed by the file's size in
 * bytes, `#` comments. Read here (I/O stays out of the engine); the Engine
 * takes the Set as `rtpBlocklist`.
 *
 * Sizes are an exact prefilter (as in ClamAV's hash:size signatures): when
 * every entry has one, the RTP scanner hashes only files of a listed size, so
 * a list of a few samples does not cost a read and a hash of every file
 * written on the machine. One entry without a size turns the prefilter off.
 */
import { InputError } from "../errors.ts";
import { readTrustedFileSync, UntrustedFileError } from "../trusted_file.ts";

/** The hashes, and the sizes when every entry gave one. */
export class RtpBlocklist extends Set<string> {
  sizes: ReadonlySet<number> | undefined;
}

/** The sizes every file on `blocklist` has, when it says (an RtpBlocklist whose entries all do). */
export function blocklistSizes(blocklist: ReadonlySet<string>): ReadonlySet<number> | undefined {
  return blocklist instanceof RtpBlocklist ? blocklist.sizes : undefined;
}

/** Parses blocklist text; throws InputError naming file and line on a bad entry. */
export function parseRtpBlocklist(text: string, file = "<blocklist>"): RtpBlocklist {
  const out = new RtpBlocklist();
  const sizes = new Set<number>();
  let unsized = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [hash = "", size, ...rest] = line.split(/\s+/);
    const h = hash.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(h)) {
      throw new InputError(`Bad blocklist "${file}" line ${i + 1}: not a SHA-256: "${line}"`);
    }
    if (rest.length > 0) {
      throw new InputError(
        `Bad blocklist "${file}" line ${i + 1}: expected a SHA-256 and an optional size: "${line}"`,
      );
    }
    if (size === undefined) {
      unsized++;
    } else if (/^\d{1,15}$/.test(size)) {
      sizes.add(Number(size));
    } else {
      throw new InputError(`Bad blocklist "${file}" line ${i + 1}: not a size in bytes: "${size}"`);
    }
    out.add(h);
  });
  out.sizes = unsized === 0 && out.size > 0 ? sizes : undefined;
  return out;
}

/**
 * Reads a blocklist file, checked and read through one descriptor
 * (trusted_file.ts); refuses one another user could change unless told not to check.
 */
export function loadRtpBlocklist(
  path: string,
  opts: { requireRootOwned?: boolean } = {},
): Promise<RtpBlocklist> {
  let text: string;
  try {
    text = new TextDecoder().decode(
      readTrustedFileSync(path, { check: opts.requireRootOwned ?? true }),
    );
  } catch (e) {
    if (e instanceof UntrustedFileError) return Promise.reject(new InputError(e.message));
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    return Promise.reject(new InputError(`Cannot read "${path}": ${why}`));
  }
  try {
    return Promise.resolve(parseRtpBlocklist(text, path));
  } catch (e) {
    return Promise.reject(e);
  }
}
