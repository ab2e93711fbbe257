/**
 * Where bm finds its configuration and keeps its state, per platform.
 * BM_MANAGED_CONFIG, BM_LOCAL_CONFIG and BM_STATE_DIR override the three paths
 * (tests and packaging use them).
 */

/** bm's reverse-DNS preference domain: the MDM payload type and managed plist name. */
export const MANAGED_DOMAIN = "org.bm-project.bm";

/** Defender's domain; its profiles are accepted by `bm config validate` for migration. */
export const DEFENDER_DOMAIN = "com.microsoft.wdav";

export interface ConfigPaths {
  /** Managed (MDM / administrator) settings: plist, .mobileconfig payload or JSON. */
  managed: string;
  /** Local overrides written by `bm config set`: TOML. */
  local: string;
  /** Threat store, quarantine and other state. */
  stateDir: string;
}

export type Platform = "darwin" | "linux";

/** The built-in paths of a platform, without environment overrides. */
export function platformPaths(platform: Platform): ConfigPaths {
  if (platform === "darwin") {
    return {
      managed: `/Library/Managed Preferences/${MANAGED_DOMAIN}.plist`,
      local: "/Library/Application Support/bm/bm.toml",
      stateDir: "/Library/Application Support/bm/state",
    };
  }
  return {
    managed: "/etc/bm/managed.json",
    local: "/etc/bm/bm.toml",
    stateDir: "/var/lib/bm",
  };
}

/** The paths in force: platform paths with BM_* environment overrides applied. */
export function configPaths(
  env: { get(name: string): string | undefined } = Deno.env,
  platform: Platform = Deno.build.os === "darwin" ? "darwin" : "linux",
): ConfigPaths {
  const base = platformPaths(platform);
  const pick = (name: string, fallback: string) => {
    const v = env.get(name);
    if (v === undefined || v === "") return fallback;
    return v.startsWith("/") ? v : `${Deno.cwd()}/${v}`;
  };
  return {
    managed: pick("BM_MANAGED_CONFIG", base.managed),
    local: pick("BM_LOCAL_CONFIG", base.local),
    stateDir: pick("BM_STATE_DIR", base.stateDir),
  };
}
