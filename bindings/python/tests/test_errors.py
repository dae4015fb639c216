"""Bad input gives clear Python exceptions, never a crash or a silently dropped record; every error the
package raises is a SafespaceError, and also the built-in exception Python code would expect."""

import math
import multiprocessing
import threading

import numpy as np
import pytest

import safespace

# Shared by the threads and fork tests; no rule settles the last one, so the default engine's model
# reads it.
MIXED = ["kys", "I bought the pills, tonight's the night", "nice goal", "vaccines cause autism",
         "i think about dying every day"]


@pytest.mark.parametrize("bad", [None, 3, b"bytes", ["list"]])
def test_score_rejects_non_str(rules, bad):
    with pytest.raises(TypeError, match="text must be str"):
        rules.score(bad)


def test_batch_type_errors_name_the_index(rules):
    with pytest.raises(TypeError, match=r"texts\[2\] is int, expected str"):
        rules.score_batch(["a", "b", 3])
    with pytest.raises(TypeError, match="not a single str"):
        rules.score_batch("one string")
    with pytest.raises(TypeError, match="iterable of str"):
        rules.scores(42)


def test_missing_items_raise_by_default_and_are_never_dropped_silently(rules):
    texts = ["kys", None, float("nan"), "hello"]
    with pytest.raises(ValueError, match=r"texts\[1\] is missing"):
        rules.score_batch(texts)
    nulls = rules.score_batch(texts, on_error="null")
    assert [r is None for r in nulls] == [False, True, True, False]
    matrix = rules.scores(texts, on_error="null")
    assert [math.isnan(row[0]) for row in matrix] == [False, True, True, False]
    with pytest.warns(safespace.SkippedRecordsWarning, match="2 missing record"):
        assert len(rules.score_batch(texts, on_error="skip")) == 2
    with pytest.warns(safespace.SkippedRecordsWarning):
        assert rules.scores(texts, on_error="skip").shape == (2, 3)


def test_pandas_missing_values(rules):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": ["kys", None, "hello"]})
    with pytest.raises(ValueError, match=r"texts\[1\] is missing"):
        safespace.score_frame(frame, detector=rules)
    nulls = safespace.score_frame(frame, detector=rules, on_error="null")
    assert nulls["severity"].isna().tolist() == [False, True, False]
    with pytest.warns(safespace.SkippedRecordsWarning):
        assert list(safespace.score_frame(frame, detector=rules, on_error="skip").index) == [0, 2]


def test_an_empty_frame_keeps_every_column_and_its_type(rules):
    pd = pytest.importorskip("pandas")
    full = safespace.score_frame(pd.DataFrame({"text": ["kys"]}), detector=rules)
    for on_error in ("raise", "null", "skip"):
        empty = safespace.score_frame(pd.DataFrame({"text": []}), detector=rules, on_error=on_error)
        assert list(empty.columns) == list(full.columns) == [*safespace.CATEGORIES, "flagged", "severity", "action"]
        assert len(empty) == 0 and empty["self_harm"].dtype == np.float32
        assert all(empty[c].dtype == object for c in ("flagged", "severity", "action")), on_error


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"policy": "lenient"}, safespace.InvalidOptionError, "lenient"),
        ({"locale": "XX"}, safespace.InvalidOptionError, "XX"),
        ({"thresholds": {"harassment": 1.5}}, safespace.InvalidOptionError, "threshold"),
        ({"thresholds": {"spam": 0.5}}, safespace.InvalidOptionError, "spam"),
        ({"thresholds": {"harassment": "high"}}, safespace.OptionTypeError, "must be a number"),
        ({"policy": 3}, safespace.OptionTypeError, "policy must be str"),
        ({"rules_only": "yes"}, safespace.OptionTypeError, "rules_only must be bool"),
        ({"rules_files": ["/no/such/rules.toml"]}, safespace.InvalidOptionError, "rules.toml"),
        ({"disable_rules": ["no.such.rule"]}, safespace.InvalidOptionError, "no.such.rule"),
        ({"max_input_bytes": 0}, safespace.InvalidOptionError, "at least 1"),
        ({"max_input_bytes": -1}, safespace.InvalidOptionError, "at least 1"),
        ({"model_sessions": 0}, safespace.InvalidOptionError, "at least 1"),
        ({"model_sessions": -2}, safespace.InvalidOptionError, "at least 1"),
        ({"model_sessions": "2"}, safespace.OptionTypeError, "model_sessions must be int"),
        ({"model_arithmetic": 8}, safespace.OptionTypeError, "model_arithmetic must be str"),
    ],
)
def test_bad_options(options, error, message):
    with pytest.raises(error, match=message):
        safespace.Detector(rules_only=options.pop("rules_only", True), **options)


def test_the_exception_hierarchy():
    assert issubclass(safespace.InvalidOptionError, safespace.SafespaceError)
    assert issubclass(safespace.InvalidOptionError, ValueError)
    assert issubclass(safespace.OptionTypeError, safespace.InvalidOptionError)
    assert issubclass(safespace.OptionTypeError, TypeError)
    assert issubclass(safespace.InputError, safespace.SafespaceError) and issubclass(safespace.InputError, ValueError)
    assert issubclass(safespace.InputTypeError, safespace.InputError) and issubclass(safespace.InputTypeError, TypeError)
    assert issubclass(safespace.ModelError, safespace.SafespaceError)
    assert issubclass(safespace.SafespaceError, Exception)


# Every error the package itself raises, with the class it raises.
PACKAGE_ERRORS = [
    pytest.param(lambda r: safespace.Detector(policy="lenient"), safespace.InvalidOptionError, id="bad option"),
    pytest.param(lambda r: safespace.Detector(rules_only=1), safespace.OptionTypeError, id="option type"),
    pytest.param(
        lambda r: safespace.Detector(thresholds={"self_harm": None}), safespace.OptionTypeError, id="threshold type"
    ),
    pytest.param(
        lambda r: safespace.Detector(model_path="/no/such/model", require_model=True),
        safespace.ModelError,
        id="bad model dir",
    ),
    pytest.param(
        lambda r: safespace.Detector(rules_only=True, max_input_bytes=4).score("far too long"),
        safespace.InputError,
        id="too long",
    ),
    pytest.param(
        lambda r: safespace.Detector(rules_only=True, max_input_bytes=4).scores(["kys", "far too long"]),
        safespace.InputError,
        id="too long in a batch",
    ),
    pytest.param(lambda r: r.score(b"bytes"), safespace.InputTypeError, id="text type"),
    pytest.param(lambda r: r.score_batch(["ok", 3]), safespace.InputTypeError, id="item type"),
    pytest.param(lambda r: r.scores("one string"), safespace.InputTypeError, id="single str"),
    pytest.param(lambda r: r.scores(42), safespace.InputTypeError, id="not iterable"),
    pytest.param(lambda r: r.score_batch(["ok", None]), safespace.InputError, id="missing item"),
    pytest.param(lambda r: r.score_batch(["ok"], on_error="ignore"), safespace.InvalidOptionError, id="on_error"),
    pytest.param(lambda r: r.scores(["ok"], threads=0), safespace.InvalidOptionError, id="no threads"),
    pytest.param(lambda r: r.scores(["ok"], threads="2"), safespace.OptionTypeError, id="threads type"),
    pytest.param(lambda r: r.score("kys").is_flagged("spam"), safespace.InvalidOptionError, id="unknown category"),
    pytest.param(
        lambda r: safespace.evaluate(r, ["kys"], {"self_harm": ["maybe"]}), safespace.InputError, id="bad label"
    ),
    pytest.param(
        lambda r: safespace.evaluate(r, ["kys"], {"self_harm": [1, 0]}), safespace.InputError, id="label count"
    ),
    pytest.param(lambda r: safespace.evaluate(r, ["kys"], {"spam": [1]}), safespace.InputError, id="no category"),
    pytest.param(
        lambda r: safespace.evaluate(r, ["kys"], {"self_harm": [1]}, target_recall=2),
        safespace.InvalidOptionError,
        id="target recall",
    ),
]


@pytest.mark.parametrize("call, error", PACKAGE_ERRORS)
def test_one_except_catches_every_error_the_package_raises(rules, call, error):
    with pytest.raises(safespace.SafespaceError) as caught:
        call(rules)
    assert type(caught.value) is error, caught.value


def test_a_missing_model_falls_back_or_raises(tmp_path):
    fallback = safespace.Detector(model_path=tmp_path)
    assert not fallback.uses_model
    assert "model.onnx" in fallback.model_unavailable_reason
    assert fallback.score("kys").engine.mode == "fast"
    with pytest.raises(safespace.ModelError, match="model.onnx"):
        safespace.Detector(model_path=tmp_path, require_model=True)


def test_one_detector_from_many_threads(detector):
    texts = MIXED
    # Batches pad windows together, so a batch equals the same batch, a single score the same score.
    expected = [detector.score_batch(texts, threads=2), [detector.score(t) for t in texts]]
    results, errors = {}, []

    def work(worker: int) -> None:
        try:
            results[worker] = [detector.score_batch(texts, threads=2), [detector.score(t) for t in texts]]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(result == expected for result in results.values())


def test_texts_over_the_size_limit_are_a_clear_error():
    small = safespace.Detector(rules_only=True, max_input_bytes=16)
    assert small.score("kys").flagged
    with pytest.raises(ValueError, match="over the limit of 16 bytes"):
        small.score("this text is longer than sixteen bytes")
    with pytest.raises(ValueError, match=r"texts\[1\]: .*over the limit"):
        small.score_batch(["kys", "this text is longer than sixteen bytes"])
    # Batches are scored 1,024 texts at a time: an index past the first chunk is still its own.
    with pytest.raises(ValueError, match=r"texts\[1500\]: .*over the limit"):
        small.scores(["kys"] * 1500 + ["this text is longer than sixteen bytes"])
    with pytest.raises(ValueError, match="at least 1"):
        safespace.Detector(rules_only=True, max_input_bytes=0)


def _score_in_child(detector: safespace.Detector, texts: list, out) -> None:
    reports = detector.score_batch(texts, threads=2) + [detector.score(t) for t in texts]
    out.send([r.to_json() for r in reports])
    out.close()


@pytest.mark.parametrize("which", ["rules", "detector"])
def test_a_forked_child_scores_with_the_parents_detector(which, request):
    """Fork keeps the detector but none of its worker threads: the child must rebuild them, not hang."""
    detector = request.getfixturevalue(which)
    texts = MIXED
    batch = detector.score_batch(texts, threads=2)  # the parent's pool now exists
    expected = [r.to_json() for r in batch + [detector.score(t) for t in texts]]
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_score_in_child, args=(detector, texts, send))
    child.start()
    assert receive.poll(60), "the forked child produced no result within 60 s"
    reports = receive.recv()
    child.join(10)
    assert child.exitcode == 0
    assert reports == expected
