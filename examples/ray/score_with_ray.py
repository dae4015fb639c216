"""Score a CSV or Parquet file of posts with Ray Data, one detector per worker.

    pip install ./bindings/python "ray[data]"
    python examples/ray/score_with_ray.py examples/ray/posts.csv --column text --out scored.parquet

Each worker builds one `safespace.Detector` (an actor), and `map_batches` hands it a pandas batch that
`Detector.scores` and `score_batch` score in parallel without the GIL. The output keeps every input
row, adds one float column per category plus `flagged`, `severity` and `action`, and is written as
Parquet.
"""

from __future__ import annotations

import argparse

import pandas as pd
import ray

import safespace


class Scorer:
    """A Ray actor holding one detector; Ray calls it once per batch."""

    def __init__(self, column: str, rules_only: bool) -> None:
        self.column = column
        self.detector = safespace.Detector(rules_only=rules_only)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        scored = safespace.score_frame(batch, self.column, self.detector, on_error="null")
        return pd.concat([batch, scored], axis=1)


def score_file(source: str, column: str, out: str, workers: int = 2, rules_only: bool = False) -> None:
    """Reads `source` (.csv or .parquet), scores `column` and writes Parquet files to `out`."""
    read = ray.data.read_parquet if source.endswith(".parquet") else ray.data.read_csv
    dataset = read(source).map_batches(
        Scorer,
        fn_constructor_args=(column, rules_only),
        batch_format="pandas",
        batch_size=256,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    dataset.write_parquet(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a .csv or .parquet file with a text column")
    parser.add_argument("--column", default="text")
    parser.add_argument("--out", required=True, help="output folder for Parquet files")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rules-only", action="store_true")
    args = parser.parse_args()
    # One CPU per scoring actor plus one for reading and writing, or the read waits for a free CPU forever.
    ray.init(num_cpus=args.workers + 1, include_dashboard=False, log_to_driver=False)
    score_file(args.source, args.column, args.out, args.workers, args.rules_only)
    print(pd.read_parquet(args.out)[["flagged", "severity", "action"]].value_counts().to_string())


if __name__ == "__main__":
    main()
