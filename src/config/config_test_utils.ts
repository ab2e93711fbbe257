/** Test helpers for the config folder: temp dirs with root-owned 0644 files. */
import type { ConfigPaths } from "./paths.ts";

export const FIXTURES = new URL("../../tests/fixtures/config/", import.meta.url).pathname;

export interface TempConfig {
  dir: string;
  paths: ConfigPaths;
  /** Copies a fixture to `name` in the temp dir (mode 0644), returns its path. */
  fixture(fixture: string, name?: string): Promise<string>;
  /** Writes text to `name` in the temp dir (mode 0644), returns its path. */
  write(name: string, text: string): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A temp dir with managed/local/state paths inside it; `await using` removes it. */
export async function tempConfig(managedName = "managed.plist"): Promise<TempConfig> {
  const dir = await Deno.makeTempDir({ prefix: "bm_config_test_" });
  await Deno.chmod(dir, 0o755);
  const paths: ConfigPaths = {
    managed: `${dir}/${managedName}`,
    local: `${dir}/bm.toml`,
    stateDir: `${dir}/state`,
  };
  const settle = async (path: string) => {
    await Deno.chmod(path, 0o644);
    return path;
  };
  return {
    dir,
    paths,
    async fixture(fixture, name = fixture) {
      const dest = `${dir}/${name}`;
      await Deno.copyFile(`${FIXTURES}${fixture}`, dest);
      return await settle(dest);
    },
    async write(name, text) {
      const dest = `${dir}/${name}`;
      await Deno.writeTextFile(dest, text);
      return await settle(dest);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
