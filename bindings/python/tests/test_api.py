"""The public API: options, reports, batches, numpy and pandas."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

import safespace

CRISIS = "I bought the pills, tonight's the night"


def test_the_installed_wheel_is_under_test():
    installed = Path(safespace.__file__).resolve()
    assert "site-packages" in installed.parts, installed
    assert (installed.parent / "py.typed").exists()
    assert (installed.parent / "_native.pyi").exists()


def test_default_detector_runs_the_bundled_model_without_any_environment_variable(detector):
    assert detector.uses_model, detector.model_unavailable_reason
    unsettled = detector.score("i think about dying every day")
    assert unsettled.engine.mode == "model+rules", "the rules do not settle it: the cascade asks the model"
    assert set(unsettled.engine.model_scores) == set(safespace.CATEGORIES)
    report = detector.score(CRISIS)
    assert report.engine.tiers == ["rules", "lexical"], "the rules flag it already: the model could not change that"
    assert report.flagged == ["self_harm"]
    assert report.severity == "critical"
    assert report.action == "show_crisis_resources"
    assert [r.how for r in report.resources] == [
        "Call or text 988",
        "Text HOME to 741741",
        "Call 1-800-662-4357 (free, 24/7)",
    ]


def test_report_attributes_mirror_the_json(rules):
    report = rules.score(CRISIS)
    as_dict = report.to_dict()
    assert as_dict == json.loads(report.to_json())
    assert json.loads(report.to_json(indent=2)) == as_dict
    assert as_dict["scores"] == pytest.approx(report.scores)
    assert as_dict["flagged"] == report.flagged
    assert as_dict["severity"] == report.severity
    assert [e["rule"] for e in as_dict["evidence"]] == [e.rule for e in report.evidence]
    assert as_dict["engine"]["mode"] == report.engine.mode == "fast"
    assert as_dict["engine"]["tiers"] == report.engine.tiers == ["rules", "lexical"]
    assert report.engine.lexical.startswith("safespace-lexical@")
    assert set(report.engine.lexical_scores) == set(report.engine.rules_scores) == set(safespace.CATEGORIES)
    assert report.engine.fusion == as_dict["engine"]["fusion"]
    assert set(report.engine.fusion["combined"]) == set(safespace.CATEGORIES)
    assert report.is_flagged("self_harm") and not report.is_flagged("harassment")
    with pytest.raises(ValueError, match="unknown category"):
        report.is_flagged("spam")


def test_reprs_are_readable(rules):
    report = rules.score(CRISIS)
    assert repr(rules) == "Detector(policy='peer_support', locale='US', engine='fast')"
    assert repr(report).startswith("Report(flagged=[\"self_harm\"], severity='critical'")
    assert "tonight" in repr(report.evidence[-1])
    assert "988" in repr(report.resources[0])


def test_evidence_offsets_index_the_python_string_even_after_emoji(rules):
    text = "😢🫠 ok so… I want to die"
    evidence = rules.score(text).evidence[0]
    assert text[evidence.start : evidence.end] == evidence.text == "want to die"
    assert text.encode()[evidence.byte_start : evidence.byte_end].decode() == evidence.text
    utf16 = text.encode("utf-16-le")
    assert utf16[2 * evidence.utf16_start : 2 * evidence.utf16_end].decode("utf-16-le") == evidence.text


def test_to_dict_and_to_json_speak_the_same_offsets_as_the_attributes(rules):
    text = "😢 I want to die"
    report = rules.score(text)
    evidence = report.evidence[0]
    as_dict = report.to_dict()["evidence"][0]
    assert (as_dict["start"], as_dict["end"]) == (evidence.start, evidence.end) == (4, 15)
    assert text[as_dict["start"] : as_dict["end"]] == as_dict["text"]
    assert "byte_start" not in as_dict
    assert json.loads(report.to_json())["evidence"][0] == as_dict
    with_bytes = report.to_dict(byte_offsets=True)["evidence"][0]
    assert (with_bytes["byte_start"], with_bytes["byte_end"]) == (evidence.byte_start, evidence.byte_end) == (7, 18)
    assert (with_bytes["start"], with_bytes["end"]) == (4, 15)
    assert json.loads(report.to_json(byte_offsets=True)) == report.to_dict(byte_offsets=True)


def _floats(value):
    """Every float inside nested dicts and lists."""
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


def test_floats_are_the_shortest_decimals_of_the_float32_scores(rules, detector):
    strict = safespace.Detector(rules_only=True, thresholds={"harassment": 0.85})
    assert strict.thresholds["harassment"] == 0.85 and repr(strict.thresholds["harassment"]) == "0.85"
    for d in (rules, detector):
        report = d.score("😢 I want to die, you idiot")
        floats = [
            *report.scores.values(),
            *report.labels.values(),
            *(e.weight for e in report.evidence),
            *(report.engine.model_scores or {}).values(),
            *d.thresholds.values(),
            *_floats(report.to_dict()),
        ]
        assert len(floats) > 10
        for value in floats:
            assert value == float(str(np.float32(value))), f"{value!r} is not the float32's shortest decimal"
    assert rules.score("I want to die").scores["self_harm"] == 0.85


def test_the_stubs_type_categories_severities_and_actions_as_literals(rules):
    from typing import get_args

    assert get_args(safespace.Category) == safespace.CATEGORIES == ("self_harm", "harassment", "misinformation")
    assert get_args(safespace.Severity) == ("none", "low", "medium", "high", "critical")
    assert set(get_args(safespace.Action)) == {
        "allow",
        "suggest_content_warning",
        "show_crisis_resources",
        "hold_for_review",
        "block",
    }
    texts = [CRISIS, "kys", "you are an idiot", "vaccines cause autism", "two years ago I tried to end it", "hi"]
    for policy in ("peer_support", "general", "strict"):
        for report in safespace.Detector(policy=policy, rules_only=True).score_batch(texts):
            assert report.severity in get_args(safespace.Severity)
            assert report.action in get_args(safespace.Action)
            assert set(report.flagged) | set(report.scores) <= set(safespace.CATEGORIES)
            assert all(e.category in safespace.CATEGORIES and e.severity in get_args(safespace.Severity) for e in report.evidence)
    stubs = ast.parse((Path(safespace.__file__).parent / "_native.pyi").read_text())
    returns = {
        (cls.name, item.name): ast.unparse(item.returns)
        for cls in stubs.body
        if isinstance(cls, ast.ClassDef)
        for item in cls.body
        if isinstance(item, ast.FunctionDef) and item.returns is not None
    }
    assert returns[("Report", "severity")] == returns[("Evidence", "severity")] == "Severity"
    assert returns[("Report", "action")] == "Action"
    assert returns[("Report", "flagged")] == "list[Category]"
    assert returns[("Report", "scores")] == "dict[Category, float]"
    assert returns[("Evidence", "category")] == "Category"


def test_options(rules):
    strict = safespace.Detector(policy="strict", locale="uk", rules_only=True, thresholds={"harassment": 0.9})
    assert strict.policy == "strict" and strict.locale == "UK"
    assert strict.thresholds["harassment"] == pytest.approx(0.9)
    assert strict.score(CRISIS).resources[0].region == "UK"
    assert "negation.before" in rules.rule_ids()
    quiet = safespace.Detector(rules_only=True, disable_rules=["self_harm.intent.time_bound"])
    assert "self_harm.intent.time_bound" not in quiet.rule_ids()


def test_extra_rules_file(tmp_path):
    rules_file = tmp_path / "community.toml"
    rules_file.write_text(
        "[[rule]]\nid = 'ours.doxx'\nlabels = ['harassment/threat']\nweight = 0.9\nseverity = 'high'\n"
        "patterns = ['\\bpost (?:your|her|his) address\\b']\n"
    )
    detector = safespace.Detector(rules_only=True, rules_files=[rules_file])
    assert detector.score("I will post your address").flagged == ["harassment"]


def test_score_batch_keeps_order_and_matches_single_scores(rules, detector):
    texts = [CRISIS, "have a good one", "kys", "", "vaccines cause autism"] * 7
    batch = rules.score_batch(texts)
    assert batch == [rules.score(t) for t in texts]
    assert rules.score_batch(iter(texts), threads=1) == rules.score_batch(tuple(texts), threads=2)
    # The model runs windows of similar length in padded batches: scores agree up to float rounding.
    batch = detector.score_batch(texts)
    assert len(batch) == len(texts)
    for text, report in zip(texts, batch):
        single = detector.score(text)
        assert report.scores == pytest.approx(single.scores, abs=1e-4), text
        batched, single = report.to_dict(), single.to_dict()
        for floats in (batched, single):  # what the model's rounding reaches; the rest must be equal
            del floats["scores"]
            floats["engine"].get("fusion", {}).pop("combined", None)
            floats["engine"].pop("model_scores", None)
        assert batched == single, text


def test_scores_is_a_float32_matrix_in_category_order(rules):
    texts = ["kys", "have a good one", "vaccines cause autism"]
    matrix = rules.scores(texts)
    assert matrix.dtype == np.float32 and matrix.shape == (3, 3)
    assert rules.categories == safespace.CATEGORIES == ("self_harm", "harassment", "misinformation")
    for row, text in zip(matrix, texts):
        expected = rules.score(text).scores
        assert row.tolist() == pytest.approx([expected[c] for c in rules.categories])
    assert rules.scores([]).shape == (0, 3)
    # More texts than one chunk (1,024): every row still in input order.
    many = [f"{texts[i % 3]} #{i}" for i in range(2500)]
    expected = np.array([[rules.score(t).scores[c] for c in rules.categories] for t in many], dtype=np.float32)
    assert np.array_equal(rules.scores(many), expected)


def test_numpy_and_pandas_inputs(rules):
    pd = pytest.importorskip("pandas")
    texts = np.array(["kys", "nice goal"], dtype=object)
    assert rules.scores(texts).shape == (2, 3)
    assert rules.scores(np.array(["kys", "nice goal"])).shape == (2, 3)  # numpy str_ is a str
    frame = pd.DataFrame({"post": ["kys", "nice goal", "vaccines cause autism"]}, index=[10, 20, 30])
    assert rules.scores(frame["post"]).shape == (3, 3)
    out = safespace.score_frame(frame, "post", rules)
    assert list(out.index) == [10, 20, 30]
    assert out["flagged"].tolist() == ["self_harm,harassment", "", "misinformation"]
    assert out["self_harm"].dtype == np.float32
    for text, row in zip(frame["post"], out.itertuples()):
        report = rules.score(text)
        assert [row.self_harm, row.harassment, row.misinformation] == [np.float32(report.scores[c]) for c in rules.categories]
        assert (row.flagged, row.severity, row.action) == (",".join(report.flagged), report.severity, report.action)
    with pytest.raises(safespace.InvalidOptionError, match="no column 'text'"):
        safespace.score_frame(frame, detector=rules)


def test_empty_and_huge_inputs(rules, detector):
    assert rules.score("").flagged == []
    huge = ("ordinary words about the weather and the bus. " * 250_000) + "I want to kill myself"
    assert len(huge) > 10_000_000
    assert "self_harm" in rules.score(huge).flagged
    assert detector.score("").engine.tiers == ["rules", "lexical"], "the cascade answers an empty text without the model"
    nul_and_bidi = "I want to\x00 die \u202e reversed \u202c 👩‍👩‍👧"
    assert rules.score(nul_and_bidi).flagged == ["self_harm"]


def test_the_readme_python_example_runs_as_written(capsys):
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme[readme.index("## Python") :]
    code = section[section.index("```python") + len("```python") : section.index("```\n", section.index("```python"))]
    assert len(code.strip().splitlines()) == 5
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "['self_harm'] critical ['Call or text 988'" in out


def test_evaluate_matches_the_cli_metrics_and_gives_a_frame(rules):
    pd = pytest.importorskip("pandas")
    texts = ["kys", "I want to die", "nice goal", "vaccines cause autism", "hello"]
    labels = pd.DataFrame({"self_harm": [1, 1, 0, 0, None], "harassment": [1, 0, 0, 0, 0]})
    result = safespace.evaluate(rules, texts, labels, target_recall=1.0)
    self_harm = result.categories["self_harm"]
    assert (self_harm.n, self_harm.positives, self_harm.tp, self_harm.fp) == (4, 2, 2, 0)
    assert self_harm.roc_auc == 1.0 and self_harm.target_threshold is not None
    assert result.categories["harassment"].recall == 1.0
    frame = result.to_frame()
    assert list(frame.index) == ["self_harm", "harassment"] and "roc_auc" in frame.columns
    single = safespace.evaluate(rules, ["kys"], {"self_harm": [1]})
    assert single.categories["self_harm"].roc_auc is None
    assert "no negative" in single.categories["self_harm"].note
    with pytest.raises(safespace.InputError, match="name no category"):
        safespace.evaluate(rules, ["kys"], {"spam": [1]})


def test_evaluate_gives_typed_fields(rules):
    result = safespace.evaluate(rules, ["kys", "I want to die", "nice goal"], {"self_harm": [1, 1, 0]})
    assert isinstance(result, safespace.Evaluation)
    self_harm = result.categories["self_harm"]
    assert isinstance(self_harm, safespace.CategoryEvaluation)
    types = {name: type(getattr(self_harm, name)) for name in ("n", "positives", "tp", "fp", "fn", "tn")}
    assert types == dict.fromkeys(types, int)
    for name in ("roc_auc", "pr_auc", "threshold", "precision", "recall", "f1", "target_threshold", "ece"):
        assert type(getattr(self_harm, name)) is float, name
    assert self_harm.threshold == rules.thresholds["self_harm"] and repr(self_harm.threshold) == "0.45"
    assert self_harm.target_threshold == 0.85


# The CLI's `safespace eval` reads the same labels through `safespace::eval::parse_label` (its JSON
# numbers and booleans by their JSON text): these are that function's cases, as Python values.
LABELS = [
    ("yes", True),
    ("no", False),
    (" YES ", True),
    ("true", True),
    ("False", False),
    ("1", True),
    ("0", False),
    ("1.0", True),
    ("0.0", False),
    (1, True),
    (0, False),
    (1.0, True),
    (0.0, False),
    (True, True),
    (False, False),
    (np.int64(1), True),
    (np.float32(0.0), False),
    (np.bool_(True), True),
    (None, None),
    (float("nan"), None),
    ("", None),
    ("NaN", None),
]


@pytest.mark.parametrize("value, expected", LABELS, ids=[repr(v) for v, _ in LABELS])
def test_labels_read_as_the_cli_reads_them(rules, value, expected):
    # "kys" scores high for self_harm: a true label makes it a true positive, a false one a false
    # positive; an unlabeled text is left out.
    result = safespace.evaluate(rules, ["kys"], {"self_harm": [value]}).categories["self_harm"]
    counts = {True: (1, 1, 0), False: (1, 0, 1), None: (0, 0, 0)}[expected]
    assert (result.n, result.tp, result.fp) == counts


@pytest.mark.parametrize("value", ["maybe", 2, 0.5, "y", [1]])
def test_labels_the_cli_refuses_are_refused(rules, value):
    with pytest.raises(safespace.InputError, match=r'labels\["self_harm"\]\[1\]: label .* is not 0/1, true/false or yes/no'):
        safespace.evaluate(rules, ["kys", "hello"], {"self_harm": [1, value]})


def test_the_engine_is_chosen_by_name_and_rules_only_is_its_old_name():
    fast = safespace.Detector(engine="fast")
    assert not fast.uses_model and fast.score("kys").engine.mode == "fast"
    assert repr(safespace.Detector(rules_only=True, engine="fast")) == repr(fast)
    with pytest.raises(safespace.InvalidOptionError, match="contradicts engine='full'"):
        safespace.Detector(rules_only=True, engine="full")
    with pytest.raises(safespace.InvalidOptionError, match="unknown engine `turbo`"):
        safespace.Detector(engine="turbo")
    with pytest.raises(safespace.OptionTypeError, match="engine must be str"):
        safespace.Detector(engine=1)


def test_fit_lexical_refits_the_tier_that_lexical_path_loads(tmp_path):
    openers = ["honestly", "tonight", "i think", "maybe", "so yeah", "lately"]
    risky = ["i am catching the bus for good", "nobody will miss me when i catch the bus", "ready to catch the bus and be done"]
    ordinary = ["the bus was late again this morning", "which bus goes to the library", "missed the bus so i walked home"]
    texts, labels = [], []
    for i in range(60):
        for text, label in ((risky[i % 3], 1), (ordinary[i % 3], 0)):
            texts.append(f"{openers[i % 6]} {text} #{i}")
            labels.append(label)
    out = tmp_path / "ours"
    assert safespace.fit_lexical(texts, {"self_harm": labels}, out, l2=1e-3) == "ours@1"
    ours = safespace.Detector(engine="fast", lexical_path=out)
    base = safespace.Detector(engine="fast")
    coded = "so yeah i am catching the bus for good tomorrow"
    assert ours.score(coded).engine.lexical == "ours@1"
    assert ours.score(coded).engine.lexical_scores["self_harm"] > base.score(coded).engine.lexical_scores["self_harm"]
    assert safespace.fit_lexical(texts, {"self_harm": labels}, tmp_path / "again", name="again", base=out) == "again@1"


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda p: safespace.fit_lexical(["a"], {"nonsense": [1]}, p), safespace.InputError, "labels name no category"),
        (lambda p: safespace.fit_lexical(["a", "b"], {"self_harm": [1]}, p), safespace.InputError, "2 texts but 1 self_harm labels"),
        (lambda p: safespace.fit_lexical(["a"], {"self_harm": ["maybe"]}, p), safespace.InputError, "is not 0/1"),
        (lambda p: safespace.fit_lexical(["a"], {"self_harm": [1]}, p, l2=-1), safespace.InvalidOptionError, "l2 must be"),
        (lambda p: safespace.fit_lexical(["a"], {"self_harm": [1]}, p, base=p / "none"), safespace.InvalidOptionError, "base: "),
        (lambda p: safespace.fit_lexical([3], {"self_harm": [1]}, p), safespace.InputTypeError, "texts\\[0\\]"),
        (lambda p: safespace.Detector(lexical_path=p / "none"), safespace.InvalidOptionError, "lexical tier could not be loaded"),
    ],
)
def test_fit_lexical_and_lexical_path_errors_are_clear(tmp_path, call, error, match):
    with pytest.raises(error, match=match):
        call(tmp_path)


def test_one_model_session_scores_like_one_per_core():
    import pickle

    texts = [CRISIS, "you are a worthless idiot", "see you at practice", "bleach cures covid"]
    default = safespace.Detector(engine="full", require_model=True)
    lean = safespace.Detector(engine="full", model_sessions=1, require_model=True)
    for a, b in zip(default.score_batch(texts), lean.score_batch(texts)):
        assert a.scores == pytest.approx(b.scores, abs=1e-4)
        assert a.flagged == b.flagged
    again = pickle.loads(pickle.dumps(lean))
    assert again.__getstate__()["model_sessions"] == 1
    assert again.score(CRISIS).scores == lean.score(CRISIS).scores


def test_int8_arithmetic_runs_the_int8_graph_and_survives_pickling():
    import pickle

    texts = [CRISIS, "i think about dying every day", "see you at practice"]
    fp32 = safespace.Detector(engine="full", require_model=True)
    int8 = safespace.Detector(engine="full", model_arithmetic="int8", require_model=True)
    for a, b in zip(fp32.score_batch(texts), int8.score_batch(texts)):
        assert a.engine.model != b.engine.model, "the report names the graph that ran"
        assert a.flagged == b.flagged
    again = pickle.loads(pickle.dumps(int8))
    assert again.score(CRISIS).engine.model == int8.score(CRISIS).engine.model
    with pytest.raises(safespace.InvalidOptionError, match="expected fp32 or int8"):
        safespace.Detector(model_arithmetic="int4")
