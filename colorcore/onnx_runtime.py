"""The nets on ONNX Runtime (CPU): `load_colorizer(name, runtime=...)` and `--runtime`.

    torch  PyTorch (on the CPU, the traced and frozen net: ColorNet.freeze).
    onnx   the net's exported graph (colorcore.onnx_export) on onnxruntime's CPU provider,
           built into the cache on first use.
    auto   onnx on the CPU where the graph of these very weights is already in the cache
           (`export-onnx` or an earlier `--runtime onnx` built it) and onnxruntime is
           installed; torch otherwise, so that a load never waits for an export nobody
           asked for. `bench` (runtime column) measured ONNX Runtime faster than the frozen
           PyTorch net on single photos for every model in the zoo (2 threads: 1.2-1.8x at
           256x256), and on batches of 8 at the net's size for all but pix2pix (0.8x) and
           unet-bins10 (level); folders go one batch per core on ONNX Runtime
           (colorcore.batch_colorize), which PyTorch cannot.

load_colorizer takes $COLORCORE_RUNTIME where its caller names no runtime. A cached graph
that does not load, or that was built from something else, is rebuilt.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from .onnx_export import INSTALL_HINT, KEY_FIELD, cached_path, export, graph_key

RUNTIMES = ("auto", "torch", "onnx")
RUNTIME_ENV = "COLORCORE_RUNTIME"  # load_colorizer's runtime where a caller names none (the demo, evaluate)


class RuntimeUnavailable(RuntimeError):
    """--runtime onnx where onnxruntime (or, to build a graph, onnxscript) is missing, or on a GPU."""


def _import_ort():
    try:
        import onnxruntime
    except ImportError:
        raise RuntimeUnavailable(f"the onnx runtime needs the onnxruntime package: {INSTALL_HINT}") from None
    return onnxruntime


def onnx_available() -> bool:
    try:
        _import_ort()
    except RuntimeUnavailable:
        return False
    return True


class OnnxGraph:
    """An exported inference graph on ONNX Runtime: called like ColorNet.inference_graph,
    with its named inputs, it returns the raw output as a tensor."""

    def __init__(self, path: Path, threads: int):
        ort = _import_ort()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # torch's count: one thread budget for the process
        options.inter_op_num_threads = 1
        # Idle threads sleep rather than spin: decoding and encoding on other threads need the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.path, self.threads, self._one_thread = path, threads, None
        self.key = self.session.get_modelmeta().custom_metadata_map.get(KEY_FIELD)
        self.input_names = [i.name for i in self.session.get_inputs()]

    def one_thread(self) -> OnnxGraph:
        """The same graph on a session of one thread, for running batches side by side (the
        outputs are the same: ONNX Runtime's kernels do not split a sum across threads)."""
        if self._one_thread is None:
            self._one_thread = self if self.threads == 1 else OnnxGraph(self.path, threads=1)
        return self._one_thread

    def __call__(self, **inputs: torch.Tensor) -> torch.Tensor:
        feed = {n: inputs[n].detach().to("cpu", torch.float32).contiguous().numpy() for n in self.input_names}
        return torch.from_numpy(self.session.run(None, feed)[0])


def load_graph(colorizer, build: bool) -> OnnxGraph | None:
    """The colorizer's graph from the cache, on ONNX Runtime with torch's thread count.
    build: export it when it is missing; otherwise None then. A cached file that does not
    load, or was built from other weights or code, is replaced by a fresh export."""
    key = graph_key(colorizer)
    path = cached_path(colorizer, key)
    threads = torch.get_num_threads()
    if path.is_file():
        try:
            graph = OnnxGraph(path, threads)
            if graph.key == key:
                return graph
            problem = "it was built from other weights or code"
        except RuntimeUnavailable:
            raise
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own kinds on a damaged file
            problem = f"it does not load: {type(e).__name__}: {str(e).strip()[:200]}"
        print(f"warning: {path}: rebuilding the cached ONNX graph of {colorizer.spec.name} ({problem})",
              file=sys.stderr)
        path.unlink(missing_ok=True)
    elif not build:
        return None
    export(colorizer, path, key)
    return OnnxGraph(path, threads)


def check_runtime(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")


def graph_for(colorizer, runtime: str) -> OnnxGraph | None:
    """What a colorizer runs its net on: an OnnxGraph, or None for PyTorch (see above)."""
    check_runtime(runtime)
    on_cpu = colorizer.device.type == "cpu"
    if runtime == "torch" or (runtime == "auto" and not (on_cpu and onnx_available())):
        return None
    if not on_cpu:
        raise RuntimeUnavailable(f"runtime onnx runs on the CPU (onnxruntime's CPU build), not on "
                                 f"{colorizer.device}: use device cpu, or runtime torch")
    _import_ort()
    return load_graph(colorizer, build=runtime == "onnx")
