/**
 * The configuration API other layers import. Only the daemon maps Settings to
 * the option objects of the layers; the CLI uses the same loader.
 */
export { type BehaviorMonitoringState, behaviorMonitoringState } from "./behavior.ts";
export { type ConfigFile, readConfigFile, type ReadOptions } from "./config_file.ts";
export { defaultSettings, renderDefaultsTable, SETTING_DOCS } from "./defaults.ts";
export {
  type EffectiveConfig,
  loadEffectiveConfig,
  loadEffectiveConfigOrThrow,
  type LoadOptions,
} from "./load.ts";
export { directoryProblem, ownershipProblem } from "../trusted_file.ts";
export {
  type ConfigPaths,
  configPaths,
  DEFENDER_DOMAIN,
  MANAGED_DOMAIN,
  platformPaths,
} from "./paths.ts";
export { type ConfigProblem, formatProblem } from "./problem.ts";
export {
  type Exclusion,
  SETTING_KEYS,
  type Settings,
  SettingsSchema,
  type Source,
} from "./schema.ts";
export { parseSettingValue, setLocalSettings } from "./set_local.ts";
