"""Checks that every crate in Cargo.lock is under a license the project can ship with (the license half of
`cargo deny`, offline): each package's SPDX expression must be satisfiable with ALLOWED licenses.
Advisories are not checked here: their database lives on GitHub, which this machine cannot reach.

    python3 .ci/licenses.py        # run by `make lint`; exits 1 naming each package that fails
"""

import json
import re
import subprocess
import sys

# Permissive licenses (and the weak, file-level MPL-2.0), compatible with shipping under MIT OR Apache-2.0.
ALLOWED = {
    "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Zlib", "Unicode-3.0", "Unicode-DFS-2016",
    "BSL-1.0", "CC0-1.0", "0BSD", "Unlicense", "MPL-2.0",
}


def satisfiable(expression: str) -> bool:
    """Whether an SPDX expression ("A OR (B AND C)", "A/B", "A WITH exception") allows shipping."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expression.replace("/", " OR "))
    position = 0

    def disjunction() -> bool:
        nonlocal position
        value = conjunction()
        while position < len(tokens) and tokens[position] == "OR":
            position += 1
            value = conjunction() or value
        return value

    def conjunction() -> bool:
        nonlocal position
        value = term()
        while position < len(tokens) and tokens[position] == "AND":
            position += 1
            value = term() and value
        return value

    def term() -> bool:
        nonlocal position
        token = tokens[position]
        position += 1
        if token == "(":
            value = disjunction()
            position += 1  # ")"
        else:
            value = token in ALLOWED
        if position < len(tokens) and tokens[position] == "WITH":
            position += 2  # an exception only widens what the license allows
        return value

    return disjunction()


def main() -> int:
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"], capture_output=True, text=True, check=True,
    ).stdout)
    workspace = set(metadata["workspace_members"])
    failures = []
    for package in metadata["packages"]:
        if package["id"] in workspace:
            continue
        license = package.get("license")
        if not license or not satisfiable(license):
            failures.append(f"{package['name']} {package['version']}: {license or 'no SPDX license'}")
    checked = len(metadata["packages"]) - len(workspace)
    if failures:
        print(f"{len(failures)} of {checked} crates have a license outside the allowed set:", *failures, sep="\n  ")
        return 1
    print(f"licenses: all {checked} crates in Cargo.lock allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
