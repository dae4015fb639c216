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
"""

from __future__ import annotations

from pathlib import Path

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
