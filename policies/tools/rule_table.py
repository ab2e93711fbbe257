#!/usr/bin/env python3
"""Prints the Markdown table of every rule in the pack (for policies/README.md).

    python3 policies/tools/rule_table.py
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    rows = []
    for f in sorted(ROOT.glob("*/*.toml")):
        for r in tomllib.loads(f.read_text())["rule"]:
            rows.append((r["id"], r["name"], ",".join(r["platforms"]), r["severity"], str(r["score"]),
                         " ".join(r.get("techniques", [])), r["description"].replace("|", "\\|"),
                         f.relative_to(ROOT).as_posix()))
    print("| id | name | platforms | severity | score | techniques | what it catches | file |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(f"`{c}`" if i == 0 else c for i, c in enumerate(row)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
