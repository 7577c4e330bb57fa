"""Pin every dependency pyproject.toml declares to its lower bound, as a pip constraints file.

CI installs the checkout with it (`pip install -c lowest.txt -e ".[test]"`) and runs the demo
and the tests there, so a lower bound that stops being true fails CI instead of a user.
Only our own dependencies are pinned (the runtime ones and the extras asked for, `test` by
default); what they pull in resolves as it would for a user.

    python tools/lowest_constraints.py > lowest.txt
    python tools/lowest_constraints.py --extra test --extra bench -o lowest.txt

Standard library only: it runs before anything is installed. A dependency without a `>=`
lower bound is an error, naming it.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# "name[extra] >=1.2, <3 ; marker": the name, then its version clauses up to any marker.
REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?P<specs>[^;]*)(;(?P<marker>.*))?$")


def lower_bound(requirement: str) -> str:
    """'pandas>=2.2' -> 'pandas==2.2' (markers kept); a requirement without `>=` raises ValueError."""
    match = REQUIREMENT.match(requirement)
    if not match:
        raise ValueError(f"cannot read the requirement {requirement!r}")
    floors = [clause.strip()[2:].strip() for clause in match["specs"].split(",") if clause.strip().startswith(">=")]
    if len(floors) != 1:
        raise ValueError(f"{requirement!r} needs exactly one '>=' lower bound to pin")
    marker = f" ; {match['marker'].strip()}" if match["marker"] else ""
    return f"{match['name']}=={floors[0]}{marker}"


def constraints(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    declared = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise ValueError(f"{pyproject.name} declares no extra {extra!r} (it has {sorted(optional)})")
        declared += optional[extra]
    return [lower_bound(requirement) for requirement in declared]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--extra", action="append", help="an optional-dependencies group to pin too (default: test)")
    parser.add_argument("-o", "--out", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    try:
        lines = constraints(args.pyproject, args.extra or ["test"])
    except (ValueError, KeyError, OSError, tomllib.TOMLDecodeError) as problem:
        print(f"lowest_constraints: {problem}", file=sys.stderr)
        return 2
    text = f"# The lower bounds of {args.pyproject.name}, pinned (tools/lowest_constraints.py).\n" + "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
