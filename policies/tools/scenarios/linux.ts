/** Every Linux scenario, in the order make_rule_tests.ts writes them. */
import type { Scenario } from "../scenario.ts";
import { CREDENTIAL_ACCESS } from "./linux_credential_access.ts";
import { DEFENSE_EVASION } from "./linux_defense_evasion.ts";
import { EXECUTION } from "./linux_execution.ts";
import { PERSISTENCE } from "./linux_persistence.ts";
import { PRIVILEGE_ESCALATION } from "./linux_privilege_escalation.ts";

export const LINUX_SCENARIOS: Scenario[] = [
  ...EXECUTION,
  ...PERSISTENCE,
  ...PRIVILEGE_ESCALATION,
  ...DEFENSE_EVASION,
  ...CREDENTIAL_ACCESS,
];
