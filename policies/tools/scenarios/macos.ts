/** Every macOS scenario, in the order make_rule_tests.ts writes them. */
import type { Scenario } from "../scenario.ts";
import { MACOS_COLLECTION } from "./macos_collection.ts";
import { MACOS_COMMAND_AND_CONTROL } from "./macos_command_and_control.ts";
import { MACOS_CREDENTIAL_ACCESS } from "./macos_credential_access.ts";
import { MACOS_DEFENSE_EVASION } from "./macos_defense_evasion.ts";
import { MACOS_DISCOVERY } from "./macos_discovery.ts";
import { MACOS_EXECUTION } from "./macos_execution.ts";
import { MACOS_IMPACT } from "./macos_impact.ts";
import { MACOS_PERSISTENCE } from "./macos_persistence.ts";
import { MACOS_PRIVILEGE_ESCALATION } from "./macos_privilege_escalation.ts";

export const MACOS_SCENARIOS: Scenario[] = [
  ...MACOS_PERSISTENCE,
  ...MACOS_DEFENSE_EVASION,
  ...MACOS_EXECUTION,
  ...MACOS_CREDENTIAL_ACCESS,
  ...MACOS_DISCOVERY,
  ...MACOS_COLLECTION,
  ...MACOS_PRIVILEGE_ESCALATION,
  ...MACOS_IMPACT,
  ...MACOS_COMMAND_AND_CONTROL,
];
