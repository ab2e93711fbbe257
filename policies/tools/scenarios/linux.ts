/** Every Linux scenario, in the order make_rule_tests.ts writes them. */
import type { Scenario } from "../scenario.ts";
import { EXECUTION } from "./linux_execution.ts";

export const LINUX_SCENARIOS: Scenario[] = [...EXECUTION];
