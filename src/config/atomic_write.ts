/**
 * Replaces a file so that a crash leaves either the old or the new content:
 * temp file in the same directory, fsync, rename over the target, fsync the
 * directory so the rename itself is durable.
 */

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

export async function atomicWriteFile(path: string, data: Uint8Array, mode = 0o644): Promise<void> {
  const dir = dirOf(path);
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  const base = path.slice(path.lastIndexOf("/") + 1);
  const tmp = `${dir}/.${base}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const file = await Deno.open(tmp, { write: true, createNew: true, mode });
  try {
    let written = 0;
    while (written < data.length) written += await file.write(data.subarray(written));
    // The umask may have narrowed the mode given to open.
    await Deno.chmod(tmp, mode);
    await file.sync();
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  file.close();
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}
