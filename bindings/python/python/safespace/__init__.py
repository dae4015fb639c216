"""On-device detection of self-harm risk, harassment and health misinformation in user-written text.

>>> import safespace
>>> detector = safespace.Detector(engine="fast")
>>> report = detector.score("I bought the pills, tonight's the night")
>>> report.flagged, report.severity
(['self_harm'], 'critical')
>>> [r.how for r in report.resources][0]
'Call or text 988'

The default detector runs the cascade (``engine="auto"``): the rules and the lexical tier score every
text, and the bundled model, on ONNX Runtime found through the installed ``onnxruntime`` package,
reads the texts they screen in. It falls back to the fast engine (rules and lexical tier,
``report.engine.mode == "fast"``) if the model cannot load; pass ``require_model=True`` to get a
:class:`ModelError` instead. ``Detector(engine="full")`` runs the model on every text,
``Detector(engine="fast")`` never: microseconds per text. The model loads once per
process: every further ``Detector()`` shares it. Every error the package raises is a
:class:`SafespaceError` (see :mod:`safespace.exceptions`).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, Optional, Sequence, get_args

import numpy as np

from ._native import Engine, Evidence, NativeDetector, Report, Resource, __version__, evaluate_category
from ._native import fit_lexical as _native_fit_lexical
from ._native import lexical_features as _native_lexical_features
from .exceptions import (
    InputError,
    InputTypeError,
    InvalidOptionError,
    ModelError,
    OptionTypeError,
    SafespaceError,
)

if TYPE_CHECKING:  # pandas and SciPy are optional extras
    import pandas as pd
    import scipy.sparse

__all__ = [
    "CATEGORIES",
    "Action",
    "Category",
    "Detector",
    "Engine",
    "EngineName",
    "ModelArithmeticName",
    "Evidence",
    "Report",
    "Resource",
    "Severity",
    "SafespaceError",
    "InvalidOptionError",
    "OptionTypeError",
    "InputError",
    "InputTypeError",
    "ModelError",
    "SkippedRecordsWarning",
    "CategoryEvaluation",
    "Evaluation",
    "evaluate",
    "fit_lexical",
    "lexical_features",
    "score_frame",
    "__version__",
]

#: A category's name (``report.flagged``, ``report.scores`` keys, ``evidence.category``).
Category = Literal["self_harm", "harassment", "misinformation"]
#: The engines of :class:`Detector`: the cascade (default), the full one (rules, lexical tier and model
#: on every text) and the fast one (rules + lexical tier).
EngineName = Literal["auto", "full", "fast"]
ModelArithmeticName = Literal["fp32", "int8"]
#: How serious a report or a piece of evidence is, from least to most.
Severity = Literal["none", "low", "medium", "high", "critical"]
#: What the policy recommends for a text, from least to most restrictive.
Action = Literal["allow", "suggest_content_warning", "show_crisis_resources", "hold_for_review", "block"]

#: Column order of :meth:`Detector.scores`.
CATEGORIES: tuple[Category, ...] = get_args(Category)

_ON_ERROR = ("raise", "null", "skip")


class SkippedRecordsWarning(UserWarning):
    """Some records were missing (None or NaN) and left out because ``on_error="skip"``."""


def onnxruntime_library() -> Optional[str]:
    """Path of the ONNX Runtime library inside the installed ``onnxruntime`` package, if any.

    Found without importing ``onnxruntime`` (which is slow to import).

    >>> path = onnxruntime_library()
    >>> path is None or "onnxruntime" in path
    True
    """
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        capi = Path(folder) / "capi"
        for pattern in ("libonnxruntime.so*", "libonnxruntime*.dylib", "onnxruntime.dll"):
            found = sorted(capi.glob(pattern))
            if found:
                return str(found[0])
    return None


class Detector:
    """Scores texts for self_harm, harassment and misinformation. Thread-safe: share one instance.

    Cheap to build after the first: the model loads once per process and every detector of the same
    model shares it. Picklable (for multiprocessing, joblib, Spark or Ray): a pickle holds the
    options, not the model, and unpickling builds the detector again from them, so paths in
    ``model_path`` and ``rules_files`` must exist where it is unpickled.

    Args:
        policy: ``"peer_support"`` (default), ``"general"`` or ``"strict"``.
        locale: whose crisis resources reports carry: ``"US"``, ``"UK"``, ``"IE"``, ``"CA"``, ``"AU"``.
        engine: ``"auto"`` (default: the rules and the lexical tier on every text, the model on the
            texts they screen in), ``"full"`` (the model on every text) or ``"fast"`` (never: the rules
            and the lexical tier, microseconds per text, less recall on new phrasing).
        rules_only: the old name of ``engine="fast"``.
        model_path: a folder with ``model.onnx``, ``tokenizer.json`` and ``manifest.json`` to use
            instead of the bundled model (and, for ``model_arithmetic="int8"``, the int8 graph its
            manifest names).
        lexical_path: a lexical tier folder (from :func:`fit_lexical` or ``safespace fit``) to use
            instead of the built-in tier.
        thresholds: per-category overrides of the policy's thresholds, e.g. ``{"harassment": 0.8}``.
        require_model: raise :class:`ModelError` instead of falling back to the rules when the
            model cannot load.
        rules_files: extra rule files (TOML) to load.
        disable_rules: ids of built-in rules or context modifiers to switch off.
        max_input_bytes: longest text (UTF-8 bytes) scored; a longer one raises :class:`InputError`.
            Default 32 MiB.
        model_sessions: ONNX Runtime sessions that score at once (default: one per core, at most 4),
            the cores divided among them. Each holds a copy of the weights (about 55 MB); ``1`` runs
            one session on all cores: less memory for a little less throughput.
        model_arithmetic: ``"fp32"`` (default: the same scores as the browser and every runtime) or
            ``"int8"`` (the model's int8 graph, ONNX Runtime only: faster on CPUs with VNNI, scores
            about 0.01 apart from ``"fp32"``'s). Where the int8 graph cannot run (a ``model_path``
            without one), the rules and lexical tier answer, or :class:`ModelError` with
            ``require_model=True``.

    Raises:
        InvalidOptionError: an unknown policy, locale or category, a threshold outside (0, 1], a rule
            file that cannot be read or has a mistake (:class:`OptionTypeError` for a wrong type).
        ModelError: ``require_model=True`` and the model cannot load.

    >>> detector = Detector(policy="strict", locale="UK", engine="fast")
    >>> detector
    Detector(policy='strict', locale='UK', engine='fast')
    >>> detector.score("kys").flagged
    ['self_harm', 'harassment']
    >>> import pickle
    >>> pickle.loads(pickle.dumps(detector))
    Detector(policy='strict', locale='UK', engine='fast')
    """

    #: Column order of :meth:`scores`.
    categories: tuple[Category, ...] = CATEGORIES

    def __init__(
        self,
        policy: str = "peer_support",
        locale: str = "US",
        engine: Optional[EngineName] = None,
        rules_only: bool = False,
        model_path: Optional[os.PathLike[str] | str] = None,
        lexical_path: Optional[os.PathLike[str] | str] = None,
        thresholds: Optional[Mapping[Category, float]] = None,
        require_model: bool = False,
        rules_files: Sequence[os.PathLike[str] | str] = (),
        disable_rules: Sequence[str] = (),
        max_input_bytes: Optional[int] = None,
        model_sessions: Optional[int] = None,
        model_arithmetic: ModelArithmeticName = "fp32",
    ) -> None:
        _expect(policy, str, "policy")
        _expect(locale, str, "locale")
        _expect(rules_only, bool, "rules_only")
        if engine is not None:
            _expect(engine, str, "engine")
            if rules_only and engine != "fast":
                raise InvalidOptionError(f"rules_only=True is engine='fast'; it contradicts engine={engine!r}")
        engine = engine or ("fast" if rules_only else "auto")
        _expect(require_model, bool, "require_model")
        thresholds = dict(thresholds or {})
        for category, value in thresholds.items():
            _expect(category, str, "thresholds key")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise OptionTypeError(f"thresholds[{category!r}] must be a number, got {type(value).__name__}")
        self._options: dict[str, Any] = {
            "policy": policy,
            "locale": locale,
            "engine": engine,
            "model_path": None if model_path is None else os.fspath(model_path),
            "lexical_path": None if lexical_path is None else os.fspath(lexical_path),
            "thresholds": {k: float(v) for k, v in thresholds.items()},
            "require_model": require_model,
            "rules_files": [os.fspath(p) for p in rules_files],
            "disable_rules": [_expect(i, str, "disable_rules item") for i in disable_rules],
            "max_input_bytes": None if max_input_bytes is None else _expect(max_input_bytes, int, "max_input_bytes"),
            "model_sessions": None if model_sessions is None else _expect(model_sessions, int, "model_sessions"),
            "model_arithmetic": _expect(model_arithmetic, str, "model_arithmetic"),
        }
        library = None if engine == "fast" else onnxruntime_library()
        self._native = NativeDetector(onnxruntime_library=library, **self._options)

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle keeps: the options this detector was built with."""
        return dict(self._options)

    def __setstate__(self, options: dict[str, Any]) -> None:
        """Builds the detector again from its options (see :meth:`__getstate__`)."""
        self.__init__(**options)

    def score(self, text: str) -> Report:
        """Scores one text.

        >>> Detector(engine="fast").score("have a lovely day").flagged
        []
        """
        _expect(text, str, "text", InputTypeError)
        return self._native.score(text)

    def score_batch(
        self, texts: Iterable[Any], threads: Optional[int] = None, on_error: str = "raise"
    ) -> list[Optional[Report]]:
        """Scores many texts in parallel, without holding the GIL. One report per input, in order.

        Args:
            texts: any iterable of str (a list, a generator, a pandas Series).
            threads: worker threads; default one per core.
            on_error: what a missing item (``None`` or NaN) does: ``"raise"`` an :class:`InputError`
                naming its index (default), give ``"null"`` (``None`` in its place), or ``"skip"`` it
                (left out, with a :class:`SkippedRecordsWarning` that counts them).

        >>> [r.flagged for r in Detector(engine="fast").score_batch(["kys", "nice goal!"])]
        [['self_harm', 'harassment'], []]
        """
        items, allow_missing, threads = self._batch_args(texts, threads, on_error)
        reports = self._native.score_batch(items, threads, allow_missing)
        if on_error == "skip":
            kept = [r for r in reports if r is not None]
            _warn_skipped(len(reports) - len(kept))
            return kept
        return reports

    def scores(
        self, texts: Iterable[Any], threads: Optional[int] = None, on_error: str = "raise"
    ) -> np.ndarray:
        """Scores many texts into a float32 array of shape ``(n, 3)``, columns in
        :attr:`categories` order. Pandas: ``detector.scores(df["text"])``.

        ``on_error="null"`` gives NaN rows for missing items; ``"skip"`` leaves their rows out.

        >>> Detector(engine="fast").scores(["kys", "nice goal!"]).shape
        (2, 3)
        """
        items, allow_missing, threads = self._batch_args(texts, threads, on_error)
        matrix = _score_matrix(self._native.scores(items, threads, allow_missing), len(items)).copy()
        if on_error == "skip":
            kept = ~np.isnan(matrix).any(axis=1)
            _warn_skipped(int((~kept).sum()))
            matrix = matrix[kept]
        return matrix

    @property
    def uses_model(self) -> bool:
        """Whether the model runs (``engine.mode == "model+rules"``) or only the fast engine."""
        return self._native.uses_model

    @property
    def model_unavailable_reason(self) -> Optional[str]:
        """Why the model is not running when it was wanted (ONNX Runtime missing, bad model file)."""
        return self._native.model_unavailable_reason

    @property
    def policy(self) -> str:
        """The policy preset's name."""
        return self._native.policy

    @property
    def thresholds(self) -> dict[Category, float]:
        """The threshold per category in force (the policy's, with overrides)."""
        return dict(self._native.thresholds)

    @property
    def locale(self) -> str:
        """The locale code of the crisis resources."""
        return self._native.locale

    def rule_ids(self) -> list[str]:
        """Ids of every active rule and context modifier (for ``disable_rules``)."""
        return self._native.rule_ids()

    def __repr__(self) -> str:
        engine = self._native.engine if self.uses_model else "fast"
        arithmetic = self._options["model_arithmetic"]
        extra = f", model_arithmetic={arithmetic!r}" if arithmetic != "fp32" and self.uses_model else ""
        return f"Detector(policy={self.policy!r}, locale={self.locale!r}, engine={engine!r}{extra})"

    @staticmethod
    def _batch_args(texts: Iterable[Any], threads: Optional[int], on_error: str):
        if isinstance(texts, (str, bytes)):
            raise InputTypeError("texts must be an iterable of str, not a single str; use score() for one text")
        if on_error not in _ON_ERROR:
            raise InvalidOptionError(f"on_error must be one of {_ON_ERROR}, got {on_error!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
            raise OptionTypeError(f"threads must be an int or None, got {type(threads).__name__}")
        if threads is not None and threads < 1:
            raise InvalidOptionError(f"threads must be at least 1, got {threads}")
        try:
            items = texts if isinstance(texts, list) else list(texts)
        except TypeError:
            raise InputTypeError(f"texts must be an iterable of str, got {type(texts).__name__}") from None
        return items, on_error != "raise", threads


def score_frame(
    frame: "pd.DataFrame",
    column: str = "text",
    detector: Optional[Detector] = None,
    threads: Optional[int] = None,
    on_error: str = "raise",
) -> "pd.DataFrame":
    """Scores ``frame[column]`` into a DataFrame with the same index: one float32 column per category,
    ``flagged`` (comma-separated categories), ``severity`` and ``action``. Needs pandas
    (``pip install safespace[pandas]``).

    With ``on_error="null"`` missing texts get NaN scores and None labels; with ``"skip"`` their rows
    are left out (the index tells which remain). Without ``detector`` it scores with ``Detector()``,
    which shares the model already loaded in the process.

    >>> import pandas as pd
    >>> out = score_frame(pd.DataFrame({"text": ["kys", "nice goal!"]}), detector=Detector(engine="fast"))
    >>> list(out.columns)
    ['self_harm', 'harassment', 'misinformation', 'flagged', 'severity', 'action']
    >>> out["action"].tolist()
    ['block', 'allow']
    """
    import pandas as pd

    if column not in frame.columns:
        raise InvalidOptionError(f"no column {column!r} in the frame (columns: {list(frame.columns)})")
    detector = detector or Detector()
    items, allow_missing, threads = detector._batch_args(frame[column], threads, on_error)
    # Only these columns come back from the native side, never whole reports: a frame of a million
    # posts does not hold a million reports at once.
    raw, flagged, severity, action = detector._native.score_rows(items, threads, allow_missing)
    scores = _score_matrix(raw, len(items))
    out = pd.DataFrame({c: scores[:, i] for i, c in enumerate(CATEGORIES)}, index=frame.index)
    for name, labels in (("flagged", flagged), ("severity", severity), ("action", action)):
        out[name] = labels if labels else np.empty(0, dtype=object)  # an empty list would be float
    if on_error == "skip":
        present = np.array([s is not None for s in severity], dtype=bool)
        _warn_skipped(int((~present).sum()))
        out = out[present]  # a boolean array selects rows even when empty (an empty list picks columns)
    return out


def _score_matrix(raw: bytes, n: int) -> np.ndarray:
    """The ``(n, 3)`` float32 view of the little-endian scores the native side returns."""
    return np.frombuffer(raw, dtype="<f4").reshape(n, len(CATEGORIES))


def lexical_features(texts: Iterable[str]) -> "scipy.sparse.csr_matrix":
    """The lexical features of each text as a SciPy CSR matrix of shape ``(len(texts), 2**18)``,
    float32: hashed word 1–2-grams and character 2–5-grams of the normalized text (obfuscations
    undone), ``1 + ln(count)`` per column, each row scaled to Euclidean length 1 (a text without
    letters or digits gives a row of zeros). The Rust core computes them with the GIL released, so a
    model trained on them (scikit-learn) and the Rust side read text through one extractor. Needs
    SciPy (``pip install safespace[lexical]``).

    Args:
        texts: any iterable of str (a list, a generator, a pandas Series).

    Raises:
        InputTypeError: an item that is not a ``str`` (naming its index), or a single ``str``.
        ImportError: SciPy is not installed.

    >>> X = lexical_features(["k1ll y0urs3lf", "kill yourself", ""])
    >>> X.shape, (X[0] != X[1]).nnz, X[2].nnz
    ((3, 262144), 0, 0)
    """
    try:
        from scipy.sparse import csr_matrix
    except ImportError:
        raise ImportError(
            "safespace.lexical_features returns a SciPy sparse matrix and needs SciPy: "
            "pip install scipy (or safespace[lexical])"
        ) from None
    if isinstance(texts, (str, bytes)):
        raise InputTypeError("texts must be an iterable of str, not a single str; pass [text] for one text")
    try:
        items = texts if isinstance(texts, list) else list(texts)
    except TypeError:
        raise InputTypeError(f"texts must be an iterable of str, got {type(texts).__name__}") from None
    data, indices, indptr, n_features = _native_lexical_features(items)
    return csr_matrix(
        (np.frombuffer(data, dtype="<f4"), np.frombuffer(indices, dtype="<i4"), np.frombuffer(indptr, dtype="<i8")),
        shape=(len(items), n_features),
    )


def fit_lexical(
    texts: Iterable[str],
    labels: Any,
    out: os.PathLike[str] | str,
    *,
    name: Optional[str] = None,
    base: Optional[os.PathLike[str] | str] = None,
    l2: float = 1e-4,
) -> str:
    """Refits the lexical tier on your community's labeled texts and writes it to the folder ``out``
    (``weights.bin``, ``manifest.json``), for ``Detector(lexical_path=out)`` and ``safespace score
    --lexical out``. Starts from ``base`` (a tier folder) or the built-in tier and stays near it (``l2``:
    larger keeps more of it); categories without both kinds of label keep the base's head. Seconds for
    tens of thousands of texts, with the GIL released. Measure the result on texts it did not see
    (:func:`evaluate` with ``Detector(engine="fast", lexical_path=out)``).

    Args:
        texts: the texts, any iterable of str.
        labels: per category, one label per text, read as :func:`evaluate` reads them.
        name: the tier's name (default: the folder's name); its id is ``name@1``.

    Returns:
        The new tier's id.

    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> texts = ["catch the bus tonight", "i will catch the bus", "the bus was late", "bus stop at 5"]
    >>> fit_lexical(texts, {"self_harm": [1, 1, 0, 0]}, out, name="ours", l2=1e-3)
    'ours@1'
    >>> Detector(engine="fast", lexical_path=out).score("catch the bus").engine.lexical
    'ours@1'
    """
    if isinstance(texts, (str, bytes)):
        raise InputTypeError("texts must be an iterable of str, not a single str")
    items = texts if isinstance(texts, list) else list(texts)
    columns = list(labels.columns) if hasattr(labels, "columns") else list(labels)
    categories = [c for c in columns if c in CATEGORIES]
    if not categories:
        raise InputError(f"labels name no category; expected some of {CATEGORIES}, got {columns}")
    if isinstance(l2, bool) or not isinstance(l2, (int, float)) or not l2 >= 0:
        raise InvalidOptionError(f"l2 must be a number at least 0, got {l2!r}")
    out = os.fspath(out)
    return _native_fit_lexical(
        items,
        {c: list(labels[c]) for c in categories},
        out,
        name or Path(out).name or "my-tier",
        None if base is None else os.fspath(base),
        float(l2),
    )


def _expect(value: Any, kind: type, name: str, error: type[SafespaceError] = OptionTypeError) -> Any:
    if not isinstance(value, kind):
        raise error(f"{name} must be {kind.__name__}, got {type(value).__name__}")
    return value


def _warn_skipped(count: int) -> None:
    if count:
        warnings.warn(
            f"{count} missing record(s) (None or NaN) left out because on_error='skip'",
            SkippedRecordsWarning,
            stacklevel=3,
        )


@dataclass(frozen=True)
class CategoryEvaluation:
    """How the detector does on one category of a labeled set (see :func:`evaluate`): ``tp``/``fp``/
    ``fn``/``tn``, ``precision``, ``recall`` and ``f1`` at the policy's ``threshold``; the highest
    threshold reaching ``target_recall`` and its false-positive rate; ``None`` (and a ``note``) where a
    figure needs a class the labels lack."""

    category: Category
    n: int
    positives: int
    roc_auc: Optional[float]
    pr_auc: Optional[float]
    threshold: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int
    target_recall: float
    target_threshold: Optional[float]
    target_false_positive_rate: Optional[float]
    ece: Optional[float]
    note: Optional[str]


@dataclass(frozen=True)
class Evaluation:
    """Per-category results of :func:`evaluate`; ``to_frame()`` gives one row per category."""

    categories: dict[Category, CategoryEvaluation]

    def to_frame(self) -> "pd.DataFrame":
        """A pandas DataFrame indexed by category (needs pandas)."""
        import dataclasses

        import pandas as pd

        rows = [dataclasses.asdict(e) for e in self.categories.values()]
        return pd.DataFrame(rows).set_index("category")


def evaluate(
    detector: Detector,
    texts: Iterable[Any],
    labels: Any,
    target_recall: float = 0.95,
    threads: Optional[int] = None,
) -> Evaluation:
    """Measures ``detector`` on labeled texts, with the same metrics as ``safespace eval``.

    Args:
        texts: the texts, any iterable of str.
        labels: per category, one label per text: a mapping such as ``{"self_harm": [1, 0, ...]}``
            or a DataFrame whose columns are category names. Labels are read as the CLI reads them:
            1/0 (or a number equal to them), True/False, or the strings "1"/"0", "true"/"false",
            "yes"/"no" in any case; None, NaN or an empty string leaves the text out of that category.
        target_recall: the recall to find a threshold for, between 0 and 1.

    Raises:
        InputError: a label that is none of the above, labels naming no category, or a label list
            whose length differs from the texts'.
        InvalidOptionError: ``target_recall`` outside [0, 1].

    >>> result = evaluate(Detector(engine="fast"), ["kys", "nice goal", "I want to die"],
    ...                   {"self_harm": ["yes", "no", 1]})
    >>> result.categories["self_harm"].recall, result.categories["self_harm"].roc_auc
    (1.0, 1.0)
    """
    items = texts if isinstance(texts, list) else list(texts)
    columns = list(labels.columns) if hasattr(labels, "columns") else list(labels)
    categories = [c for c in columns if c in CATEGORIES]
    if not categories:
        raise InputError(f"labels name no category; expected some of {CATEGORIES}, got {columns}")
    if not 0.0 <= target_recall <= 1.0:
        raise InvalidOptionError(f"target_recall must be between 0 and 1, got {target_recall}")
    matrix = detector.scores(items, threads=threads)
    return Evaluation(
        {
            category: CategoryEvaluation(
                category=category,
                target_recall=float(target_recall),
                **evaluate_category(
                    category,
                    matrix[:, CATEGORIES.index(category)].tolist(),
                    list(labels[category]),
                    detector.thresholds[category],
                    float(target_recall),
                ),
            )
            for category in categories
        }
    )
