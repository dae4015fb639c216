"""Type stubs for the compiled half of safespace (``safespace._native``).

Floats are the shortest decimals of the detector's float32 values (0.85, not 0.8500000238418579).
"""

from typing import Any, Optional

from . import Action, Category, Severity

__version__: str

class Evidence:
    """One rule match, with its place in the original text. Picklable."""

    @property
    def category(self) -> Category: ...
    @property
    def subcategory(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def start(self) -> int:
        """Python string index: ``text[start:end]`` is the match (also ``to_dict()``'s ``start``)."""
    @property
    def end(self) -> int: ...
    @property
    def byte_start(self) -> int:
        """UTF-8 byte offset (the CLI's and Rust's ``start``): ``text.encode()[byte_start:byte_end]``."""
    @property
    def byte_end(self) -> int: ...
    @property
    def utf16_start(self) -> int:
        """UTF-16 offset (a JavaScript string index)."""
    @property
    def utf16_end(self) -> int: ...
    @property
    def weight(self) -> float: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def context(self) -> list[str]: ...

class Resource:
    """A crisis service to show next to a self_harm flag. Picklable."""

    @property
    def name(self) -> str: ...
    @property
    def how(self) -> str: ...
    @property
    def region(self) -> str: ...

class Engine:
    """Which engine produced a report. Picklable."""

    @property
    def mode(self) -> str:
        """``"model+rules"`` (the full engine) or ``"fast"`` (rules and lexical tier)."""
    @property
    def tiers(self) -> list[str]:
        """The tiers that ran: ``["rules", "lexical", "model"]`` (full, or a text the cascade sent to
        the model) or ``["rules", "lexical"]`` (fast)."""
    @property
    def model(self) -> Optional[str]: ...
    @property
    def lexical(self) -> Optional[str]: ...
    @property
    def rules(self) -> str: ...
    @property
    def rules_scores(self) -> dict[Category, float]: ...
    @property
    def model_scores(self) -> Optional[dict[Category, float]]: ...
    @property
    def lexical_scores(self) -> Optional[dict[Category, float]]: ...
    @property
    def fusion(self) -> Optional[dict[str, Any]]:
        """How the learned tiers were combined with the rules, when one ran: ``combined`` and
        ``damping`` per category, and ``contexts`` (category → the context kinds that lowered it)."""
    @property
    def note(self) -> Optional[str]: ...

class Report:
    """The verdict on one text; ``to_dict()``/``to_json()`` follow the CLI's JSON schema with evidence
    offsets as Python string indices. Picklable; equal when their contents are."""

    @property
    def scores(self) -> dict[Category, float]: ...
    @property
    def labels(self) -> dict[str, float]: ...
    @property
    def flagged(self) -> list[Category]: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def action(self) -> Action: ...
    @property
    def evidence(self) -> list[Evidence]: ...
    @property
    def evidence_omitted(self) -> int: ...
    @property
    def content_warnings(self) -> list[str]: ...
    @property
    def resources(self) -> list[Resource]: ...
    @property
    def engine(self) -> Engine: ...
    def is_flagged(self, category: Category) -> bool: ...
    def to_dict(self, *, byte_offsets: bool = False) -> dict[str, Any]:
        """Plain dicts and lists; evidence ``start``/``end`` are string indices, and
        ``byte_offsets=True`` adds ``byte_start``/``byte_end`` (UTF-8)."""
    def to_json(self, indent: Optional[int] = None, *, byte_offsets: bool = False) -> str:
        """``to_dict()`` as JSON; ``indent`` pretty-prints."""

class NativeDetector:
    def __init__(
        self,
        policy: str,
        locale: str,
        engine: str,
        model_path: Optional[str],
        lexical_path: Optional[str],
        thresholds: dict[str, float],
        require_model: bool,
        onnxruntime_library: Optional[str],
        rules_files: list[str],
        disable_rules: list[str],
        max_input_bytes: Optional[int],
        model_sessions: Optional[int],
        model_arithmetic: str,
    ) -> None: ...
    def score(self, text: str) -> Report: ...
    def score_batch(self, texts: list[Any], threads: Optional[int], allow_missing: bool) -> list[Optional[Report]]: ...
    def scores(self, texts: list[Any], threads: Optional[int], allow_missing: bool) -> bytes: ...
    def score_rows(
        self, texts: list[Any], threads: Optional[int], allow_missing: bool
    ) -> tuple[bytes, list[Optional[str]], list[Optional[Severity]], list[Optional[Action]]]: ...
    @property
    def engine(self) -> str: ...
    @property
    def uses_model(self) -> bool: ...
    @property
    def model_unavailable_reason(self) -> Optional[str]: ...
    @property
    def policy(self) -> str: ...
    @property
    def thresholds(self) -> dict[Category, float]: ...
    @property
    def locale(self) -> str: ...
    def rule_ids(self) -> list[str]: ...

def evaluate_category(
    category: str, scores: list[float], labels: list[Any], threshold: float, target_recall: float
) -> dict[str, Any]:
    """One category's metrics as the fields of ``safespace.CategoryEvaluation`` (but ``category`` and
    ``target_recall``); labels are read by their ``str()`` as the CLI reads them."""

def lexical_features(texts: list[Any]) -> tuple[bytearray, bytearray, bytearray, int]:
    """The CSR parts of the texts' lexical features: ``data`` (little-endian float32), ``indices``
    (little-endian int32), ``indptr`` (little-endian int64, ``len(texts) + 1`` of them) and the number
    of columns (``2**18``), computed with the GIL released. ``safespace.lexical_features`` builds the
    SciPy matrix; a non-``str`` item raises ``InputTypeError``."""

def fit_lexical(
    texts: list[Any], labels: dict[str, list[Any]], out: str, name: str, base: Optional[str], l2: float
) -> str:
    """Refits the lexical tier (from the folder ``base``, or the built-in one) on the labeled texts and
    writes it to the folder ``out`` as ``name@1``; returns its id. Runs with the GIL released."""
