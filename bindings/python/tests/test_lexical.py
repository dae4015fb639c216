"""The lexical feature extractor that training (scikit-learn) and inference share. The Rust core computes
the features; these tests pin the same values as its unit tests (crates/safespace/src/lexical/tests.rs)
and check the definition against a pure-Python version of it."""

import math
import re
import sys
from collections import Counter

import numpy as np
import pytest

import safespace
from safespace import _native

N_FEATURES = 2**18


def fnv1a64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def reference(text: str) -> dict[int, float]:
    """The definition for text the normalizer leaves as it is (lower-case ASCII words): word 1-2-grams,
    character 2-5-grams of each space-padded word, FNV-1a 64 of prefix + n-gram, 1 + ln(count), L2."""
    words = re.findall(r"[a-z0-9]+", text)
    grams = [f"w1:{w}" for w in words] + [f"w2:{a} {b}" for a, b in zip(words, words[1:])]
    for word in words:
        padded = f" {word} "
        grams += [f"c:{padded[i:i + n]}" for n in range(2, 6) for i in range(len(padded) - n + 1)]
    counts = Counter(fnv1a64(g.encode()) % N_FEATURES for g in grams)
    weights = {bucket: 1.0 + math.log(count) for bucket, count in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {bucket: w / norm for bucket, w in weights.items()}


def native_rows(texts: list) -> list[dict[int, float]]:
    """Each text's features as {column: value}, from the native function (no SciPy needed)."""
    data, indices, indptr, n_features = _native.lexical_features(texts)
    assert n_features == N_FEATURES
    data = np.frombuffer(data, dtype="<f4")
    indices = np.frombuffer(indices, dtype="<i4")
    indptr = np.frombuffer(indptr, dtype="<i8")
    assert len(indptr) == len(texts) + 1 and indptr[0] == 0 and indptr[-1] == len(indices) == len(data)
    rows = []
    for start, end in zip(indptr[:-1].tolist(), indptr[1:].tolist()):
        columns = indices[start:end]
        assert (np.diff(columns) > 0).all(), "sorted and unique"
        assert ((columns >= 0) & (columns < N_FEATURES)).all()
        rows.append(dict(zip(columns.tolist(), data[start:end].tolist())))
    return rows


def test_hash_and_buckets_are_pinned():
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"foobar") == 0x85944171F73967E8
    assert fnv1a64(b"w1:kill") == 0x834E5E4CD16C10E1
    assert fnv1a64(b"w1:kill") % N_FEATURES == 4321
    assert fnv1a64(b"w2:kill yourself") % N_FEATURES == 42639
    assert fnv1a64(b"c: k") % N_FEATURES == 218137
    [row] = native_rows(["kill yourself"])
    assert {4321, 42639, 218137} <= set(row)


@pytest.mark.parametrize("text", ["hello world hello", "have a lovely day", "the quick brown fox 42"])
def test_features_follow_the_definition(text):
    [row] = native_rows([text])
    expected = reference(text)
    assert set(row) == set(expected)
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, abs=1e-6)


def test_rows_have_length_one_or_are_empty():
    texts = ["kill yourself", "", "...", "have a lovely day 🌞", "x" * 100_000, "naïve café", "\0"]
    rows = native_rows(texts)
    norms = [math.sqrt(sum(v * v for v in row.values())) for row in rows]
    assert norms == pytest.approx([1, 0, 0, 1, 1, 1, 0], abs=1e-5)
    assert all(v > 0 for row in rows for v in row.values())


def test_obfuscations_are_undone_first():
    plain, leet, shouted = native_rows(["kill yourself", "k1ll y0urs3lf", "KILL YOURSELF"])
    assert plain and leet == plain and shouted == plain


def test_non_str_items_raise_input_type_error():
    with pytest.raises(safespace.InputTypeError, match=r"texts\[1\] is int, expected str"):
        _native.lexical_features(["ok", 3])
    with pytest.raises(TypeError, match=r"texts\[0\] is NoneType, expected str"):
        _native.lexical_features([None])
    with pytest.raises(TypeError, match=r"texts\[2\] is bytes, expected str"):
        _native.lexical_features(["a", "b", b"c"])


def test_an_empty_batch():
    assert native_rows([]) == []


def test_csr_matrix():
    pytest.importorskip("scipy")
    import scipy.sparse

    texts = ["k1ll y0urs3lf", "kill yourself", "", "hello world hello"]
    matrix = safespace.lexical_features(texts)
    assert scipy.sparse.issparse(matrix) and matrix.format == "csr"
    assert matrix.shape == (len(texts), 2**18)
    assert matrix.dtype == np.float32
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    assert norms.tolist() == pytest.approx([1, 1, 0, 1], abs=1e-5)
    assert matrix[0, 4321] > 0 and matrix[1, 42639] > 0
    assert (matrix[0] != matrix[1]).nnz == 0
    expected = reference("hello world hello")
    row = matrix[3]
    assert dict(zip(row.indices.tolist(), row.data.tolist())) == pytest.approx(expected, abs=1e-6)
    assert matrix.has_sorted_indices
    assert safespace.lexical_features(t for t in texts).shape == matrix.shape
    assert safespace.lexical_features([]).shape == (0, 2**18)


def test_wrapper_type_errors():
    pytest.importorskip("scipy")
    with pytest.raises(safespace.InputTypeError, match=r"texts\[1\] is int, expected str"):
        safespace.lexical_features(["ok", 3])
    with pytest.raises(safespace.InputTypeError, match="not a single str"):
        safespace.lexical_features("one text")
    with pytest.raises(safespace.InputTypeError, match="iterable of str"):
        safespace.lexical_features(42)


def test_without_scipy_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match="needs SciPy"):
        safespace.lexical_features(["hello"])


def test_exported():
    assert "lexical_features" in safespace.__all__
