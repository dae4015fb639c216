"""The scale-out example (examples/ray/score_with_ray.py) on its small CSV."""

import importlib.util
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pd = pytest.importorskip("pandas")

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/ray"


def test_ray_data_scores_every_row_of_the_csv(tmp_path):
    spec = importlib.util.spec_from_file_location("score_with_ray", EXAMPLE / "score_with_ray.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    try:
        example.score_file(str(EXAMPLE / "posts.csv"), "text", str(tmp_path / "out"), workers=2)
    finally:
        ray.shutdown()
    scored = pd.read_parquet(tmp_path / "out").sort_values("id").set_index("id")
    source = pd.read_csv(EXAMPLE / "posts.csv").set_index("id")
    assert list(scored.index) == list(source.index), "every input row comes back"
    assert scored.loc[2, "severity"] == "critical" and "self_harm" in scored.loc[2, "flagged"]
    assert scored.loc[3, "action"] == "block"
    assert scored.loc[6, "flagged"] == ""  # "this homework is killing me lol"
    assert scored["self_harm"].dtype.kind == "f"
