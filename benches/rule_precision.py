"""Per-rule precision of the built-in rules on the public labeled sets.

    cargo build --release -p safespace-cli
    .venv/bin/python benches/rule_precision.py --data ../shared/data --cache /root/.cache/safespace-training

Loads the public sets with models/training/data.py, through train.py's cached table (data.py's label
mapping decides what is a positive and what a negative; the team's own sets are left out), scores every
text with the release CLI's fast engine (only the rules' evidence is read) and counts, per rule and category, the texts whose report
cites the rule: how many are positives and how many negatives of that category (texts whose label for
that category is unknown are not counted). Prints a markdown table; `--by-source RULE` breaks one
rule's hits down by source, and `--negatives RULE` prints the negatives it fires on, for reading in the
terminal only (the texts stay out of every file).

Topic rules carry no label, only content warnings: they never appear as evidence and are listed
without counts.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models" / "training"))

import data as datasets_module  # noqa: E402
from data import CATEGORIES  # noqa: E402


RULE_FILES = sorted((ROOT / "crates" / "safespace" / "rules").glob("*.toml"))
# Below this many labeled hits a precision says little.
MIN_HITS = 20
# The precision a rule must reach on public data to stay as it is (issue 18).
TARGET = 0.8


def rule_specs() -> dict[str, dict]:
    """Every built-in rule by id, in file order."""
    return {rule["id"]: rule for path in RULE_FILES for rule in tomllib.loads(path.read_text()).get("rule", [])}


def categories_of(rule: dict) -> list[str]:
    """The categories of a rule's labels (none for topic rules)."""
    return list(dict.fromkeys(label.split("/")[0] for label in rule.get("labels", [])))


def fired_rules(binary: Path, texts: list[str], weights: dict[str, float]) -> list[set[tuple[str, str, bool]]]:
    """(rule id, category, at full weight) cited as rule evidence in each text's fast-engine report; "at full
    weight" when no context modifier lowered the evidence below the rule's own weight (a negated or
    past-tense match is cited, but weighs little)."""
    with tempfile.TemporaryDirectory() as folder:
        records = Path(folder) / "texts.jsonl"
        with records.open("w") as out:
            for text in texts:
                out.write(json.dumps({"text": text}) + "\n")
        run = subprocess.run(
            [str(binary), "score", "--engine", "fast", "--on-error", "skip", "--input", str(records)],
            capture_output=True, text=True, check=True,
        )
    fired = []
    for line in run.stdout.splitlines():
        report = json.loads(line).get("report") or {"evidence": []}
        # The fast engine's report also cites the lexical tier's n-grams (rule "lexical"): not a rule.
        # Any other id must be a built-in rule (a KeyError means the binary and the rule files differ).
        fired.append({(e["rule"], e["category"], e["weight"] >= weights[e["rule"]] - 1e-4)
                      for e in report["evidence"] if e["rule"] != "lexical"})
    if len(fired) != len(texts):
        raise SystemExit(f"the CLI returned {len(fired)} reports for {len(texts)} texts")
    return fired


def count(table, fired) -> dict[tuple[str, str], Counter]:
    """Per (rule, category): positives and negatives fired on (`pos`, `neg`), fired on at full weight
    (`pos_full`, `neg_full`) and per source (`pos:SOURCE`, `neg:SOURCE`)."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    labels = {c: table[c].to_numpy() for c in CATEGORIES}
    sources = table["source"].to_numpy()
    for row, found in enumerate(fired):
        full = {(rule, category) for rule, category, at_full in found if at_full}
        for rule, category in {(rule, category) for rule, category, _ in found}:
            label = labels[category][row]
            if label != label:  # NaN: this source does not annotate the category
                continue
            kind = "pos" if label == 1 else "neg"
            c = counts[(rule, category)]
            c[kind] += 1
            c[f"{kind}:{sources[row]}"] += 1
            if (rule, category) in full:
                c[f"{kind}_full"] += 1
    return counts


def ratio(pos: int, neg: int) -> str:
    return f"{pos / (pos + neg):.2f}" if pos + neg else "–"


def markdown(rules: dict[str, dict], counts, command: str, texts: int) -> str:
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {texts:,} public labeled texts with",
        f"`{command}`.",
        "",
        "| rule | category | positives | negatives | precision | at full weight: pos / neg, precision | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for rule, spec in rules.items():
        categories = categories_of(spec)
        if not categories:
            lines.append(f"| `{rule}` | (content warning only) | | | | | not evidence, not measured |")
        for category in categories:
            c = counts.get((rule, category), Counter())
            pos, neg = c["pos"], c["neg"]
            full = f"{c['pos_full']} / {c['neg_full']}, {ratio(c['pos_full'], c['neg_full'])}"
            note = ""
            if pos + neg < MIN_HITS:
                note = f"fewer than {MIN_HITS} labeled hits: precision not meaningful"
            elif pos / (pos + neg) < TARGET:
                note = f"below {TARGET}"
            lines.append(f"| `{rule}` | {category} | {pos} | {neg} | {ratio(pos, neg)} | {full} | {note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder of the public labeled sets (../shared/data)")
    parser.add_argument("--datasets", type=Path, default=ROOT / "datasets", help="the project's datasets/ folder")
    parser.add_argument("--cache", type=Path, default=ROOT / "models" / "training" / ".cache")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--offensive", choices=datasets_module.OFFENSIVE_READINGS, default="excluded",
                        help="reading of Davidson's and HateXplain's 'offensive' class (train.py's default)")
    parser.add_argument("--binary", type=Path, default=ROOT / "target" / "release" / "safespace")
    parser.add_argument("--by-source", metavar="RULE", help="break one rule's hits down by source")
    parser.add_argument("--negatives", metavar="RULE", help="print the negatives one rule fires on (terminal only)")
    args = parser.parse_args()

    table = datasets_module.cached_table(args.data, args.datasets, args.seed, args.cache)
    table = datasets_module.read_offensive(table, args.offensive)
    table = table[table["source"] != "team"].reset_index(drop=True)
    texts = table["text"].tolist()
    rules = rule_specs()
    fired = fired_rules(args.binary, texts, {rule: spec.get("weight", 0.5) for rule, spec in rules.items()})
    counts = count(table, fired)

    if args.negatives:
        for row, found in enumerate(fired):
            categories = {category for rule, category, _ in found if rule == args.negatives}
            if any(table.at[row, category] == 0 for category in categories):
                print(f"[{table.at[row, 'source']}] {texts[row]}")
        return
    if args.by_source:
        for (rule, category), c in sorted(counts.items()):
            if rule == args.by_source:
                print(f"{rule} ({category})")
                for key, n in sorted(c.items()):
                    if ":" in key:
                        print(f"  {key:40} {n}")
        return
    command = ".venv/bin/python benches/rule_precision.py --data ../shared/data --cache /root/.cache/safespace-training"
    if args.offensive != "excluded":
        command += f" --offensive {args.offensive}"
    print(markdown(rules, counts, command, len(texts)))


if __name__ == "__main__":
    main()
