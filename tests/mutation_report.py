"""After `mutmut run`: the score per module and each surviving mutant's change, for
docs/testing.md. Run by `make mutate`; prints Markdown."""

from __future__ import annotations

import collections
import re
import subprocess
import sys

MUTMUT = [sys.executable, "-m", "mutmut"]
# A mutant mypy refuses cannot pass `make test`, which runs mypy: it is killed as surely as by a
# failing test.
KILLED = ("killed", "timeout", "caught by type check")
NAME = re.compile(r"^\s*(?P<name>\S+): (?P<status>[a-z ]+)$")


def statuses() -> dict[str, str]:
    listed = subprocess.run(  # noqa: S603 - our own interpreter and mutmut
        [*MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    return {m["name"]: m["status"] for line in listed.splitlines() if (m := NAME.match(line))}


def change(name: str) -> str:
    shown = subprocess.run(  # noqa: S603 - our own interpreter and mutmut
        [*MUTMUT, "show", name], capture_output=True, text=True, check=False
    ).stdout
    lines = [
        line[1:].strip() for line in shown.splitlines() if line[:1] in "-+" and line[1:2] == " "
    ]
    return " → ".join(lines) or "(see mutmut show)"


def main() -> None:
    found = statuses()
    by_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in found.items():
        by_module[name.split(".x")[0]][status] += 1
    total = collections.Counter(found.values())
    killed = sum(total[status] for status in KILLED)
    scored = sum(total.values()) - total["skipped"] - total["not checked"]
    print(f"Score: {killed} of {scored} mutants killed ({100 * killed / max(scored, 1):.1f} %)\n")
    print("| module | killed | survived | other |\n|---|---:|---:|---:|")
    for module, counts in sorted(by_module.items()):
        dead = sum(counts[status] for status in KILLED)
        other = sum(counts.values()) - dead - counts["survived"]
        print(f"| `{module}` | {dead} | {counts['survived']} | {other} |")
    print("\nSurvivors:\n")
    for name, status in sorted(found.items()):
        if status == "survived":
            print(f"- `{name}`: {change(name)}")


if __name__ == "__main__":
    main()
