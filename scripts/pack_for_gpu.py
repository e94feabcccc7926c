"""Pack a subset of the training photos small enough to travel to a lent GPU
machine (the device tool carries at most 64 MiB with the whole checkout).

    .venv/bin/python scripts/pack_for_gpu.py --budget-mib 34 --out data_local/train-pack.tar

Every k-th photo (k chosen to fit the budget), short side 128, JPEG quality 80,
into one tar under data_local/ (git-ignored: never commit it). Train there with
`python -m colorcore train --config configs/lite0-unet.toml --train-data data_local/train-pack.tar --resume`.
"""
from __future__ import annotations

import argparse
import io
import sys
import tarfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from colorcore.data import decode_rgb, list_images  # noqa: E402

AVG_BYTES = 5300  # measured: short side 128, quality 80, over 300 training photos


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="../shared/data/train-*.tar")
    p.add_argument("--out", default="data_local/train-pack.tar")
    p.add_argument("--budget-mib", type=float, default=34)
    p.add_argument("--side", type=int, default=128)
    p.add_argument("--quality", type=int, default=80)
    a = p.parse_args()
    refs = list_images(a.data)
    keep = max(1, int(a.budget_mib * 2**20 / AVG_BYTES))
    step = max(1, -(-len(refs) // keep))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    with tarfile.open(out, "w") as tar:
        for ref in refs[::step]:
            im = decode_rgb(ref)
            s = a.side / min(im.size)
            if s < 1:
                im = im.resize((round(im.width * s), round(im.height * s)), Image.BICUBIC)
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=a.quality)
            if total + buf.tell() > a.budget_mib * 2**20:
                break
            info = tarfile.TarInfo(ref.name)
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
            total += info.size
    print(f"packed {out}: {total / 2**20:.1f} MiB, every {step}th of {len(refs)} photos")


if __name__ == "__main__":
    main()
