"""8-bit decoders for CPU inference, calibrated once on training photos:

    python -m colorcore quantize --model lite0-unet --data '../shared/data/train-006.tar' --limit 64 --write

A model opts in with `ColorNet.int8_split()`: a float front (for the flagship, the
EfficientNet encoder, which per-tensor 8-bit activations break: its features came out
as far from the float ones as they are large) and a back that quantizes well (the
U-Net decoder and head: plain convolutions, ReLU, bilinear upsampling). The back is
quantized with FX graph mode (weights int8 per channel, activations uint8 per tensor
over their calibrated min..max). The calibration's ranges go into the weights'
config.json ("int8"), so loading needs no photos; `load_colorizer` then runs the
8-bit back on CPU (int8=False, or `--float` in evaluate and bench, keeps it float).
"""
from __future__ import annotations

import contextlib
import copy
import json
import warnings

import numpy as np
import torch
from torch import nn

from .hub import CONFIG_FILE, WeightsCorrupt, find_weights

ENGINES = ("x86", "fbgemm", "onednn")  # where quantized conv kernels run fast (not qnnpack/ARM)


def qconfig_mapping():
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver, QConfig, QConfigMapping

    # 7-bit activations (0..127, what reduce_range did), so that CPUs without VNNI cannot saturate their
    # 16-bit pairwise sums (full range halved the flagship's ab error, 0.2 against 0.4,
    # but only where VNNI is there to make it safe).
    return QConfigMapping().set_global(QConfig(
        activation=MinMaxObserver.with_args(dtype=torch.quint8, quant_min=0, quant_max=127),
        weight=PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric)))


@contextlib.contextmanager
def quiet():
    """FX quantization and quantized tensors are frozen in torch 2.13 (pinned) and work;
    their deprecation warnings would only alarm users."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        yield


def supported() -> bool:
    return torch.backends.quantized.engine in ENGINES


def shipped_ranges(config: dict) -> dict | None:
    """The activation ranges of a weights folder's int8 calibration (config.json
    "int8"), or None where it has none or this CPU lacks fast int8 kernels. A
    calibration made for other weights is refused: its ranges would clip silently."""
    calibration = config.get("int8")
    if not calibration or not supported():
        return None
    if calibration.get("weights_sha256") != config.get("sha256"):
        raise WeightsCorrupt("the int8 calibration in config.json was made for other weights (its weights_sha256 "
                             f"{str(calibration.get('weights_sha256'))[:12]} is not this model's "
                             f"{str(config.get('sha256'))[:12]}): recalibrate with `python -m colorcore quantize --write`")
    if not isinstance(calibration.get("ranges"), dict):
        raise WeightsCorrupt("the int8 calibration in config.json has no activation ranges: "
                             "recalibrate with `python -m colorcore quantize --write`")
    return calibration["ranges"]


class Int8Net(nn.Module):
    """float front -> quantized back: the same function as the model's forward()."""

    def __init__(self, front: nn.Module, back: nn.Module):
        super().__init__()
        self.front, self.back = front, back

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        return self.back(*self.front(l))


def _prepared(model, size: int):
    """(front, back with observers) for a model in eval mode."""
    import torch.ao.quantization.quantize_fx as qfx

    split = model.int8_split()
    if split is None:
        raise ValueError(f"{type(model).__name__} has no 8-bit decoder (ColorNet.int8_split)")
    front, back = split
    with torch.no_grad():
        example = front(torch.zeros(1, 1, size, size))
    with quiet():
        return front, qfx.prepare_fx(back, qconfig_mapping(), tuple(example))


def _observers(prepared) -> dict:
    from torch.ao.quantization import MinMaxObserver

    return {n: m for n, m in prepared.named_modules() if isinstance(m, MinMaxObserver)}


def calibrate(model, batches, size: int) -> dict[str, list[float]]:
    """Observed activation ranges {observer: [min, max]} of the model's back over
    normalised-L batches (B, 1, size, size)."""
    model = copy.deepcopy(model).eval()
    front, prepared = _prepared(model, size)
    with torch.no_grad():
        for l in batches:
            prepared(*front(l))
    return {n: [float(o.min_val), float(o.max_val)] for n, o in _observers(prepared).items()}


def int8_net(model, ranges: dict, size: int) -> Int8Net:
    """The model with its back quantized over the given calibration ranges."""
    import torch.ao.quantization.quantize_fx as qfx

    model = copy.deepcopy(model).eval()
    front, prepared = _prepared(model, size)
    observers = _observers(prepared)
    if set(observers) != set(ranges):
        raise WeightsCorrupt(f"the int8 calibration in config.json names {len(ranges)} activations, "
                         f"{type(model).__name__}'s decoder has {len(observers)}: "
                         "recalibrate with `python -m colorcore quantize --write`")
    for name, obs in observers.items():
        lo, hi = ranges[name]
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise WeightsCorrupt(f"int8 calibration range {name} = {ranges[name]} in config.json is not a valid range")
        obs.min_val.copy_(torch.tensor(float(lo)))
        obs.max_val.copy_(torch.tensor(float(hi)))
    with quiet():
        return Int8Net(front, qfx.convert_fx(prepared)).eval()


def main(model: str, data: str, limit: int = 64, batch: int = 16, write: bool = False, check: int = 64) -> dict:
    """Calibrate on the first `limit` photos of `data` (evaluation protocol), then report
    how far the 8-bit net's ab output is from the float one on the next `check` photos."""
    from .data import EvalImages, lab_batch
    from .evaluate import EVAL_SIZE
    from .pipeline import load_colorizer

    colorizer = load_colorizer(model, device="cpu", freeze=False)
    net, size = colorizer.model, colorizer.spec.net_size
    loader = torch.utils.data.DataLoader(EvalImages(data, EVAL_SIZE, limit + check), batch_size=batch)
    ls = [net.normalize_l(colorizer.to_net(lab_batch(rgb)[0])) for _, rgb in loader]
    l_all = torch.cat(ls)
    calib, held = l_all[:limit], l_all[limit:]
    ranges = calibrate(net, calib.split(batch), size)
    report = {"data": data, "images": len(calib), "net_size": size,
              "weights_sha256": colorizer.config.get("sha256"), "ranges": ranges}
    if len(held):
        q = int8_net(net, ranges, size)
        t = colorizer.default_temperature
        with torch.no_grad():
            a = net.decode(net(held), t)["ab"]
            b = net.decode(q(held), t)["ab"]
        report["check"] = {"images": len(held), "ab_mean_abs_diff": float((a - b).abs().mean()),
                           "ab_mean_abs": float(a.abs().mean())}
        print(f"8-bit decoder vs float on {len(held)} other photos: mean |ab difference| "
              f"{report['check']['ab_mean_abs_diff']:.3f} (mean |ab| {report['check']['ab_mean_abs']:.2f})")
    print(f"calibrated {len(ranges)} activation ranges on {len(calib)} photos of {data}")
    if write:
        path = find_weights(model, network=False) / CONFIG_FILE
        cfg = json.loads(path.read_text())
        cfg["int8"] = report
        path.write_text(json.dumps(cfg, indent=2) + "\n")
        print(f"wrote the int8 calibration to {path}")
    return report
