"""The mutation run's verdicts, kept between checkouts (run by `make mutate`).

A whole `make mutate` takes longer than a working session, and mutmut keeps its verdicts in
mutants/, which a fresh clone does not have. `save` writes each mutant's verdict (mutmut's exit
code) and each function's hash to tests/mutation-record.json; `restore`, on a checkout without
mutants/, writes them back as mutmut's .meta files before a run. mutmut then regenerates the
mutants and keeps a verdict only while its function's code is unchanged (the hash): a function
edited since is mutated and run again, as are mutants never decided. Tests only grow, so a kill
stays a kill; a survivor without a written reason (tests/mutation_report.py) and a check cut
short are saved undecided, so the next run tries them against the tests of its day.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mutation_report import OPEN, change, reason

MUTANTS = Path("mutants")
SURVIVED, INTERRUPTED = 0, 2  # mutmut's exit codes
RECORD = Path(__file__).with_name("mutation-record.json")


def save() -> None:
    record = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        record[str(meta.relative_to(MUTANTS).with_suffix(""))] = {
            "hash_by_function_name": data["hash_by_function_name"],
            "exit_code_by_key": {
                key: None if _to_try_again(key, code) else code
                for key, code in data["exit_code_by_key"].items()
            },
        }
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"saved the verdicts of {len(record)} files to {RECORD}")


def _to_try_again(key: str, code: int | None) -> bool:
    if code == INTERRUPTED:
        return True
    return code == SURVIVED and reason(key, change(key)) == OPEN


def restore() -> None:
    if any(MUTANTS.rglob("*.py.meta")) or not RECORD.exists():
        return
    record = json.loads(RECORD.read_text())
    for source, data in record.items():
        meta = MUTANTS / f"{source}.meta"
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(
            json.dumps(
                {
                    **data,
                    "type_check_error_by_key": {},
                    "durations_by_key": {},
                    "estimated_durations_by_key": {},
                }
            )
        )
    print(f"restored the verdicts of {len(record)} files from {RECORD}")


if __name__ == "__main__":
    {"save": save, "restore": restore}[sys.argv[1]]()
