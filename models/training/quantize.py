"""Weight-only int8 quantization: the graph stores int8 weights, and computes in fp32.

The weights of every matrix product (one scale per output column) and the word-embedding table (one
scale per row) are stored as int8 with float scales; the graph turns them back into floats with `Cast`
and `Mul`. Runtimes fold those constant nodes when they load the model, so a text runs through the
same fp32 arithmetic in ONNX Runtime and in tract (native or WebAssembly), and the scores agree to
about 1e-6. Quantizing activations on the fly (`quantize_dynamic`) is about twice as fast on CPUs, but
its per-tensor scales turn last-bit float differences between kernels into different int8 values,
which moved single scores by up to 0.05 between runtimes (MODEL_CARD.md, "Runtimes").

    from quantize import quantize_weights
    quantize_weights(Path("model-fp32.onnx"), Path("model.onnx"))

Two helpers serve the measurements in runtimes.py: `fold_weights` turns a shipped graph back into the
fp32 graph it computes (what runtimes hold after folding), and `quantize_activations` makes the
static-int8 variants (activation scales calibrated once and stored in the graph) that issue 19 asked
to measure.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EMBEDDING_MIN_VALUES = 1_000_000  # smaller tables (positions, token types) stay fp32


def symmetric_int8(weights: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 values and float scales with `weights ≈ values * scales`, one scale per slice along the
    axis that is not reduced (`axis` is the reduced one)."""
    scales = (np.abs(weights).max(axis=axis, keepdims=True) / 127).astype(np.float32)
    scales[scales == 0] = 1
    values = np.clip(np.rint(weights / scales), -127, 127).astype(np.int8)
    return values, scales


def dequantize_nodes(values: str, scales: str, output: str) -> list:
    """`output = float(values) * scales`."""
    return [
        helper.make_node("Cast", [values], [values + "_float"], to=TensorProto.FLOAT),
        helper.make_node("Mul", [values + "_float", scales], [output]),
    ]


def quantize_weights(source: Path, target: Path) -> None:
    """Writes `target`: the graph at `source` with int8 matrix-product weights and word embeddings."""
    model = onnx.load(str(source))
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    nodes = []

    def replace(name: str, axis: int) -> tuple[str, str]:
        values, scales = symmetric_int8(numpy_helper.to_array(initializers[name]), axis)
        graph.initializer.remove(initializers.pop(name))
        if axis == 0:
            scales = scales.reshape(-1)  # one per output column, broadcast over rows
        graph.initializer.extend([numpy_helper.from_array(values, name + "_int8"), numpy_helper.from_array(scales, name + "_scale")])
        return name + "_int8", name + "_scale"

    for node in graph.node:
        weight = node.input[1] if node.op_type == "MatMul" and len(node.input) > 1 else None
        table = node.input[0] if node.op_type == "Gather" else None
        if weight in initializers and len(initializers[weight].dims) == 2:
            values, scales = replace(weight, axis=0)
            nodes += dequantize_nodes(values, scales, weight)
            nodes.append(node)
        elif table in initializers and np.prod(initializers[table].dims) >= EMBEDDING_MIN_VALUES:
            values, scales = replace(table, axis=1)
            rows = node.output[0]
            node.input[0], node.output[0] = values, rows + "_int8"
            nodes += [node, helper.make_node("Gather", [scales, node.input[1]], [rows + "_scale"], axis=0)]
            nodes += dequantize_nodes(rows + "_int8", rows + "_scale", rows)
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]  # symbolic-shape leftovers stop pure-Rust runtimes (tract)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def fold_weights(source: Path, target: Path) -> None:
    """Writes `target`: the graph at `source` (written by `quantize_weights`) with every int8 tensor
    turned back into the fp32 tensor it stands for and the dequantizing nodes removed, so that it
    scores exactly like `source` (it is the graph runtimes hold after folding constants)."""
    model = onnx.load(str(source))
    graph = model.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    quantized = [name.removesuffix("_int8") for name in initializers if name.endswith("_int8")]

    def dequantizing(node) -> bool:
        """Whether `node` is one of those `quantize_weights` added to turn int8 values into floats."""
        return (
            (node.op_type == "Cast" and node.input[0].endswith("_int8"))
            or (node.op_type == "Mul" and node.input[0].endswith("_int8_float"))
            or (node.op_type == "Gather" and node.input[0].endswith("_scale"))
        )

    nodes = [node for node in graph.node if not dequantizing(node)]
    for node in nodes:
        if node.op_type == "Gather" and node.input[0].endswith("_int8"):  # the word embeddings
            node.input[0], node.output[0] = node.input[0].removesuffix("_int8"), node.output[0].removesuffix("_int8")
    folded = []
    for name in quantized:
        values = numpy_helper.to_array(initializers.pop(name + "_int8")).astype(np.float32)
        scales = numpy_helper.to_array(initializers.pop(name + "_scale"))
        folded.append(numpy_helper.from_array((values * scales).astype(np.float32), name))
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(list(initializers.values()) + folded)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def model_inputs(ids: np.ndarray) -> dict[str, np.ndarray]:
    """The model's three inputs for token ids of shape [1, n] (one unpadded text)."""
    return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}


def quantize_activations(source: Path, target: Path, calibration: Iterable[np.ndarray], layers: str = ".") -> None:
    """Writes `target`: the fp32 graph at `source` with int8 weights (one scale per output column) and
    uint8 activations whose scales are the ranges (min/max) seen over `calibration` (token ids, one
    text per array), for the weight MatMuls whose node name matches the regular expression `layers`.
    In the graph these are QDQ pairs: ONNX Runtime fuses them into integer kernels, tract runs them as
    written. Products of two activations (in attention) stay fp32; the other weight MatMuls and the
    word embeddings are then stored as by `quantize_weights` (int8 weights, fp32 arithmetic)."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    class Feeds(CalibrationDataReader):
        """The calibration texts, one model input at a time."""

        def __init__(self):
            self.ids = iter(calibration)

        def get_next(self):
            ids = next(self.ids, None)
            return None if ids is None else model_inputs(ids)

    graph = onnx.load(str(source)).graph
    weights = {t.name for t in graph.initializer}
    chosen = {n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights and re.search(layers, n.name)}
    with tempfile.TemporaryDirectory() as scratch:
        staged = Path(scratch) / "qdq.onnx"
        quantize_static(
            str(source), str(staged), Feeds(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
            op_types_to_quantize=["MatMul"], nodes_to_exclude=[n.name for n in graph.node if n.op_type == "MatMul" and n.name not in chosen],
        )
        quantize_weights(staged, target)
