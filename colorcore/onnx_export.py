"""ONNX graphs of the nets, built on demand into a cache, never committed:

    python -m colorcore export-onnx --models all                 # fill the cache
    python -m colorcore export-onnx --models default --out DIR   # DIR/lite0-unet.onnx

A graph is the net's inference graph (ColorNet.inference_graph: forward, or a VAE's
decoder with its latent as a second input) at the net size, for any batch; decoding
(annealed mean, entropy, fade, vividness) stays ColorNet.decode's and Colorizer.predict's.

The cache ($COLORCORE_ONNX_CACHE, else $XDG_CACHE_HOME/colorcore/onnx, else
~/.cache/colorcore/onnx) names each graph `<model>-<net size>-<key>.onnx`: the key is a
digest of everything the graph is made of (the weights themselves, the architecture, the
net size, the model code, the torch version), so new weights or changed code get a new
graph, never a stale one. Graphs are written atomically, after their output was checked
against the PyTorch net's.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

CACHE_ENV = "COLORCORE_ONNX_CACHE"
INSTALL_HINT = "pip install onnxruntime==1.30.0 onnxscript==0.7.2 (pinned in requirements.txt)"
KEY_FIELD = "colorcore_graph_key"  # in the graph's metadata: what it was built from
MAX_RAW_DELTA = 1e-3  # the exported graph's raw output against the PyTorch net's
_MODELS_DIR = Path(__file__).resolve().parent / "models"


class OnnxExportError(RuntimeError):
    """A net that torch.onnx cannot export, or whose exported graph computes something else."""


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "colorcore" / "onnx"


def graph_key(colorizer) -> str:
    """A digest of what the graph is made of: the weights (their values, so random
    ones too), the architecture with its options, the net size, the model code, torch."""
    h = hashlib.sha256()
    for name, tensor in colorizer.model.state_dict().items():
        h.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    h.update(repr(colorizer.model).encode())
    h.update(f"net_size={colorizer.spec.net_size};torch={torch.__version__}".encode())
    for source in sorted(_MODELS_DIR.glob("*.py")):
        h.update(source.read_bytes())
    return h.hexdigest()[:20]


def cached_path(colorizer, key: str | None = None) -> Path:
    return cache_dir() / f"{colorizer.spec.name}-{colorizer.spec.net_size}-{key or graph_key(colorizer)}.onnx"


class _Graph(nn.Module):
    """The net's inference graph as a module's forward, for the exporter."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, *inputs):
        return self.net.inference_graph(*inputs)


def example_inputs(colorizer, batch: int = 2) -> dict[str, torch.Tensor]:
    """inference_inputs at the net size (batch 2: a batch of 1 would be traced as a constant)."""
    n = colorizer.spec.net_size
    l = torch.linspace(-1, 1, batch * n * n).reshape(batch, 1, n, n)
    return colorizer.model.inference_inputs(l, seed=0)


def export(colorizer, path: Path, key: str | None = None) -> Path:
    """Write the colorizer's graph to path atomically, once its output matches the net's.
    Raises OnnxExportError naming the model when it cannot be exported or does not match."""
    from . import __version__
    from .onnx_runtime import OnnxGraph

    name = colorizer.spec.name
    if importlib.util.find_spec("onnxscript") is None:  # torch.onnx's exporter is written in it
        raise OnnxExportError(f"building the ONNX graph of {name!r} needs the onnxscript package: {INSTALL_HINT}")
    net = colorizer.model
    inputs = example_inputs(colorizer)
    batch = torch.export.Dim("batch", min=1, max=4096)
    try:
        with warnings.catch_warnings(), _quiet("torch.onnx"):
            warnings.simplefilter("ignore")  # the exporter's tracing chatter
            program = torch.onnx.export(_Graph(net), tuple(inputs.values()), input_names=list(inputs),
                                        output_names=["out"], dynamo=True, verbose=False,
                                        dynamic_shapes=(tuple({0: batch} for _ in inputs),))
    except Exception as e:  # noqa: BLE001 - whatever the exporter trips on, name the model
        raise OnnxExportError(f"model {name!r} cannot be exported to ONNX ({_root_cause(e)})") from e
    program.model.metadata_props.update({
        KEY_FIELD: key or graph_key(colorizer), "colorcore_version": __version__, "model": name,
        "net_size": str(colorizer.spec.net_size), "kind": net.kind, "inputs": json.dumps(list(inputs))})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{name}-", suffix=".onnx")
    os.close(fd)
    try:
        program.save(tmp, external_data=False)
        with torch.no_grad():
            delta = (OnnxGraph(Path(tmp), threads=1)(**inputs) - net.inference_graph(*inputs.values())).abs().max().item()
        if not delta <= MAX_RAW_DELTA:
            raise OnnxExportError(f"model {name!r}: the exported ONNX graph does not compute the net "
                                  f"(max |raw output delta| {delta:.3g} > {MAX_RAW_DELTA})")
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep a shared cache to its first user
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _root_cause(e: BaseException) -> str:
    """The innermost exception's first line: the exporter wraps the reason in its own advice."""
    while e.__cause__ is not None:
        e = e.__cause__
    lines = str(e).strip().splitlines()
    return f"{type(e).__name__}: {lines[0] if lines else ''}"


@contextlib.contextmanager
def _quiet(logger_name: str):
    """torch.onnx logs a warning for each torchvision op it cannot register; no net here uses them."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def main(models: str, out: str | None = None) -> int:
    """export-onnx: each model's graph into the cache (or --out DIR/<model>.onnx);
    a model that cannot be exported is named on stderr, the others are still done."""
    from .evaluate import model_names
    from .onnx_runtime import load_graph
    from .pipeline import load_colorizer

    failed = 0
    for name in model_names(models):
        try:
            colorizer = load_colorizer(name, device="cpu", runtime="torch", freeze=False)
            if out:
                path = export(colorizer, Path(out) / f"{colorizer.spec.name}.onnx")
            else:
                path = load_graph(colorizer, build=True).path
            print(f"{colorizer.spec.name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        except Exception as e:  # noqa: BLE001 - one model's failure never stops the others
            failed += 1
            print(f"error: {name}: {e.args[0] if e.args else e}", file=sys.stderr)
    return 1 if failed else 0
