/** Every Linux scenario, in the order make_rule_tests.ts writes them. */
import type { Scenario } from "../scenario.ts";
import { COMMAND_AND_CONTROL } from "./linux_command_and_control.ts";
import { CREDENTIAL_ACCESS } from "./linux_credential_access.ts";
import { DEFENSE_EVASION } from "./linux_defense_evasion.ts";
import { DISCOVERY } from "./linux_discovery.ts";
import { EXECUTION } from "./linux_execution.ts";
import { IMPACT } from "./linux_impact.ts";
import { PERSISTENCE } from "./linux_persistence.ts";
import { PRIVILEGE_ESCALATION } from "./linux_privilege_escalation.ts";
import { PROCESS_INJECTION } from "./linux_process_injection.ts";

export const LINUX_SCENARIOS: Scenario[] = [
  ...EXECUTION,
  ...PERSISTENCE,
  ...PRIVILEGE_ESCALATION,
  ...DEFENSE_EVASION,
  ...CREDENTIAL_ACCESS,
  ...DISCOVERY,
  ...COMMAND_AND_CONTROL,
  ...IMPACT,
  ...PROCESS_INJECTION,
];
