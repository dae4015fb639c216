"""The model loads once per process: every further Detector, and score_frame without one, reuses it."""

import time

import pytest

import safespace


def _seconds(call) -> float:
    """The fastest of three runs of `call`."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def test_a_second_detector_costs_milliseconds():
    first = safespace.Detector(require_model=True)
    start = time.perf_counter()
    second = safespace.Detector()
    elapsed = time.perf_counter() - start
    assert second.uses_model and first.uses_model
    assert elapsed < 0.05, f"the second Detector() took {elapsed * 1000:.0f} ms: the model was loaded again"
    assert second.score("kys") == first.score("kys")


def test_score_frame_without_a_detector_does_not_reload_the_model(detector):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": ["kys", "nice goal"]})
    assert safespace.score_frame(frame).equals(safespace.score_frame(frame, detector=detector))
    given = _seconds(lambda: safespace.score_frame(frame, detector=detector))
    default = _seconds(lambda: safespace.score_frame(frame))
    assert default < given + 0.05, f"{default * 1000:.0f} ms without a detector, {given * 1000:.0f} ms with one"
