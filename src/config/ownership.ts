/**
 * Files bm loads (config, rules, the native library) must not be writable by
 * anyone but root: owner root, not group- or world-writable.
 */

/** Why the file is unsafe to load, or undefined when it is safe. */
export function ownershipProblem(
  info: Pick<Deno.FileInfo, "uid" | "mode">,
  rootUid = 0,
): string | undefined {
  if (info.uid !== null && info.uid !== rootUid) {
    return `owned by uid ${info.uid}, not root: only root may be able to change it`;
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    const who = (info.mode & 0o002) !== 0 ? "every user" : "its group";
    const mode = (info.mode & 0o7777).toString(8).padStart(4, "0");
    return `writable by ${who} (mode ${mode}): only root may be able to change it`;
  }
  return undefined;
}

/**
 * Why the directory holding a loaded file is unsafe (others could replace the
 * file), or undefined. A sticky world-writable directory such as /tmp is safe:
 * only the file's owner may rename or delete it there.
 */
export function directoryProblem(
  info: Pick<Deno.FileInfo, "uid" | "mode">,
  rootUid = 0,
): string | undefined {
  if (info.uid !== null && info.uid !== rootUid) {
    return `its directory is owned by uid ${info.uid}, not root`;
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0 && (info.mode & 0o1000) === 0) {
    const mode = (info.mode & 0o7777).toString(8).padStart(4, "0");
    return `its directory is writable by other users (mode ${mode})`;
  }
  return undefined;
}
