"""safespace against the peers that install here, on the same texts in one run.

Runs, on the functional suite (datasets/functional/suite.jsonl) and the public dev splits (the 10 % hash
"val" split of ../shared/data, as models/training/data.py builds it): safespace rules-only and
model+rules (the release CLI), alt-profanity-check and better-profanity (PyPI), rustrict (crates.io,
benches/compare/rustrict-peer). Prints, and writes into benches/README.md between the compare markers,
precision / recall / F1 / false-positive rate per category and texts/s per tool.

The peers are profanity filters: they answer "is this offensive", which we score as harassment; they
have no notion of self-harm or misinformation. Detoxify and Perspective are not here: Detoxify's weights
download from a hub at run time, and Perspective is a web API; neither is reachable from this machine.

Usage (from the repository root; `make compare` installs the peers and builds what is needed):
    target/pyenv/bin/python benches/compare/compare.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = ("self_harm", "harassment", "misinformation")
BEGIN, END = "<!-- compare:begin -->", "<!-- compare:end -->"


def load_data_module():
    spec = importlib.util.spec_from_file_location("data", ROOT / "models/training/data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def datasets(data: Path) -> dict[str, pd.DataFrame]:
    """name -> frame with `text` and a 0/1/NaN column per category."""
    suite = pd.read_json(ROOT / "datasets/functional/suite.jsonl", lines=True)
    table = load_data_module().load(data, ROOT / "datasets", seed=7)
    dev = table[(table["split"] == "val") & (table["source"] != "team")].reset_index(drop=True)
    return {"functional suite": suite[["text", *CATEGORIES]], "public dev splits": dev[["text", "source", *CATEGORIES]]}


def run_cli(texts: list[str], rules_only: bool) -> tuple[list[set[str]], float]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.writelines(json.dumps({"text": t}) + "\n" for t in texts)
    flags = ["--rules-only"] if rules_only else []
    start = time.perf_counter()
    out = subprocess.run(
        [str(ROOT / "target/release/safespace"), "score", "--input", f.name, "--compact", *flags],
        capture_output=True, text=True, check=True,
    ).stdout
    elapsed = time.perf_counter() - start
    return [set(json.loads(line)["report"]["flagged"]) for line in out.splitlines()], elapsed


def run_rustrict(texts: list[str]) -> tuple[list[set[str]], float]:
    binary = ROOT / "target/rustrict-peer/release/rustrict-peer"
    payload = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    start = time.perf_counter()
    out = subprocess.run([str(binary)], input=payload, capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - start
    return [{"harassment"} if line == "1" else set() for line in out.splitlines()], elapsed


def run_alt_profanity_check(texts: list[str]) -> tuple[list[set[str]], float]:
    from profanity_check import predict

    start = time.perf_counter()
    flags = predict(texts)
    elapsed = time.perf_counter() - start
    return [{"harassment"} if f else set() for f in flags], elapsed


def run_better_profanity(texts: list[str]) -> tuple[list[set[str]], float]:
    from better_profanity import profanity

    profanity.load_censor_words()
    start = time.perf_counter()
    flags = [profanity.contains_profanity(t) for t in texts]
    elapsed = time.perf_counter() - start
    return [{"harassment"} if f else set() for f in flags], elapsed


TOOLS = {
    "safespace rules": (lambda texts: run_cli(texts, rules_only=True), CATEGORIES),
    "safespace model+rules": (lambda texts: run_cli(texts, rules_only=False), CATEGORIES),
    "rustrict 0.7.39": (run_rustrict, ("harassment",)),
    "alt-profanity-check 1.9.1": (run_alt_profanity_check, ("harassment",)),
    "better-profanity 0.7.0": (run_better_profanity, ("harassment",)),
}


def metrics(flagged: list[set[str]], frame: pd.DataFrame, category: str) -> dict | None:
    labelled = frame[category].notna().to_numpy()
    if not labelled.any():
        return None
    y = frame[category].to_numpy()[labelled] == 1
    pred = np.array([category in f for f in flagged])[labelled]
    tp, fp = int((pred & y).sum()), int((pred & ~y).sum())
    fn, tn = int((~pred & y).sum()), int((~pred & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": int(labelled.sum()), "positives": int(y.sum()), "precision": precision, "recall": recall,
            "f1": f1, "fpr": fp / (fp + tn) if fp + tn else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="folder of the public labeled sets (../shared/data)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave benches/README.md alone")
    args = parser.parse_args()

    frames = datasets(args.data)
    lines = [
        f"{datetime.date.today()}, {platform.machine()} {platform.processor() or ''}, 2 cores; "
        f"`target/pyenv/bin/python benches/compare/compare.py --data ../shared/data`.".replace(" ,", ","),
        "",
        "| data | category | n (pos) | tool | precision | recall | F1 | FPR |",
        "|---|---|---|---|---|---|---|---|",
    ]
    speed: dict[str, list[float]] = {}
    for name, frame in frames.items():
        texts = frame["text"].tolist()
        for tool, (run, covers) in TOOLS.items():
            flagged, elapsed = run(texts)
            assert len(flagged) == len(texts), f"{tool} dropped records"
            speed.setdefault(tool, []).append(len(texts) / elapsed)
            for category in covers:
                m = metrics(flagged, frame, category)
                if m is None:
                    continue
                lines.append(
                    f"| {name} | {category} | {m['n']} ({m['positives']}) | {tool} | {m['precision']:.3f} | "
                    f"{m['recall']:.3f} | {m['f1']:.3f} | {m['fpr']:.3f} |"
                )
            print(f"{name}: {tool} done in {elapsed:.1f} s", file=sys.stderr, flush=True)
    lines += ["", "| tool | texts/s (suite, dev splits; one process, 2 cores, start-up included) |", "|---|---|"]
    lines += [f"| {tool} | {', '.join(f'{s:,.0f}' for s in rates)} |" for tool, rates in speed.items()]
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        readme = ROOT / "benches/README.md"
        text = readme.read_text()
        begin, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        readme.write_text(text[:begin] + "\n" + table + "\n" + text[end:])


if __name__ == "__main__":
    main()
