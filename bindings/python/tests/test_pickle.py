"""Reports and detectors cross process boundaries: pickle, multiprocessing (and so joblib, Spark, Ray)."""

import multiprocessing
import pickle

import safespace

# The last one no rule settles: under the default engine the model reads it.
TEXTS = ["😢 I want to die", "kys", "nice goal", "vaccines cause autism", "I bought the pills, tonight's the night",
         "i think about dying every day"]


def test_reports_and_their_parts_survive_a_pickle_round_trip(rules):
    for report in rules.score_batch(TEXTS):
        copy = pickle.loads(pickle.dumps(report))
        assert copy == report and type(copy) is safespace.Report
        assert copy.to_dict(byte_offsets=True) == report.to_dict(byte_offsets=True)
        assert [(e.start, e.end, e.byte_start) for e in copy.evidence] == [
            (e.start, e.end, e.byte_start) for e in report.evidence
        ]
        for part in [*report.evidence, *report.resources, report.engine]:
            assert repr(pickle.loads(pickle.dumps(part))) == repr(part)
    evidence = pickle.loads(pickle.dumps(rules.score(TEXTS[0]).evidence[0]))
    assert TEXTS[0][evidence.start : evidence.end] == evidence.text == "want to die"


def test_a_detector_pickles_its_options_and_rebuilds(detector):
    custom = safespace.Detector(policy="strict", locale="UK", thresholds={"harassment": 0.5}, rules_only=True)
    copy = pickle.loads(pickle.dumps(custom))
    assert (copy.policy, copy.locale, copy.thresholds) == (custom.policy, custom.locale, custom.thresholds)
    assert copy.score_batch(TEXTS) == custom.score_batch(TEXTS)
    with_model = pickle.loads(pickle.dumps(detector))
    assert with_model.uses_model
    assert with_model.score_batch(TEXTS) == detector.score_batch(TEXTS)


def _score(job):
    detector, text = job
    return detector.score(text)


def test_a_pool_of_fresh_processes_takes_a_detector_and_returns_reports():
    detector = safespace.Detector(policy="general", locale="CA", thresholds={"self_harm": 0.6}, rules_only=True)
    # spawn: the workers are new interpreters, so nothing is inherited; everything travels by pickle.
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        reports = pool.map(_score, [(detector, text) for text in TEXTS])
    assert reports == detector.score_batch(TEXTS)
    assert all(type(r) is safespace.Report for r in reports)
    assert reports[0].resources[0].region == "CA"
