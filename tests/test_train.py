"""The training loop: steps, logs, checkpoints, resume, the GAN's two optimisers,
and two DistributedDataParallel processes that must end with identical weights."""
import csv
import json
import socket
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from colorcore.config import apply_overrides, load_config
from colorcore.train import Trainer, main as train_main
from conftest import gradient_photo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    for i in range(12):
        gradient_photo(48 + i, 40, seed=i).save(root / f"p{i:02d}.jpg")
    return root


def tiny_config(model: str, photos: Path, tmp: Path, steps: int = 4, options: dict | None = None, **train) -> Path:
    cfg = load_config(ROOT / "configs" / f"{model}.toml")
    lines = [f'model = "{cfg.model}"', "[model_options]"] + [f"{k} = {v!r}" for k, v in (options or {}).items()]
    lines += ["[loss]"]
    lines += [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in cfg.loss.items()]
    lines += ["[data]", f'train = "{photos}"', f'val = "{photos}"', "crop = 32", "batch = 4", "workers = 0",
              "[optim]", "lr = 1e-3", "warmup = 2", "[train]"]
    settings = {"steps": steps, "seed": 1, "log_every": 2, "val_every": 2, "val_images": 3, "ckpt_every": 2, **train}
    lines += [f"{k} = {v!r}" for k, v in settings.items()] + [f'out = "{tmp / "run"}"']
    if cfg.loss["name"] == "pix2pix":
        lines.insert(lines.index("[optim]") + 1, "betas = [0.5, 0.999]")
    path = tmp / f"{model}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def read_log(run: Path) -> list[dict]:
    with open(run / "train_log.csv") as f:
        return list(csv.DictReader(f))


def test_train_logs_checkpoints_and_resumes(photo_folder, tmp_path):
    config = tiny_config("classification", photo_folder, tmp_path, steps=4)
    run = train_main(str(config), device="cpu")
    rows = read_log(run)
    assert [int(r["step"]) for r in rows] == [2, 4]
    for key in ("loss", "ce", "lr", "images_per_s", "wall_s", "epoch", "val_psnr", "val_colorfulness", "val_auc"):
        assert rows[-1][key] != "", key
    state = torch.load(run / "last.pt", weights_only=True)
    assert state["step"] == 4
    before = {k: v.clone() for k, v in state["model"].items()}

    train_main(str(config), resume=True, steps=6, device="cpu")
    rows = read_log(run)
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    assert float(rows[-1]["wall_s"]) >= float(rows[1]["wall_s"])
    after = torch.load(run / "last.pt", weights_only=True)
    assert after["step"] == 6
    assert any(not torch.equal(before[k], after["model"][k]) for k in before)


class Killed(Exception):
    """Stands in for a kill -9 in the middle of a step."""


def kill_at(m: pytest.MonkeyPatch, step: int) -> None:
    """Make the training loop die once it has taken `step` (before its log and checkpoint)."""
    real = Trainer.agree

    def agree(self, flag):
        if self.step == step:
            raise Killed
        return real(self, flag)

    m.setattr(Trainer, "agree", agree)


def final_tensors(run: Path) -> dict[str, torch.Tensor]:
    state = torch.load(run / "last.pt", weights_only=True)
    tensors = {f"model.{k}": v for k, v in state["model"].items()}
    tensors.update({f"disc.{k}": v for k, v in state.get("disc", {}).items()})
    return tensors


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lite0-unet", "pix2pix", "vae"])
def test_a_killed_or_stopped_run_resumes_to_the_weights_of_an_uninterrupted_one(model, photo_folder, tmp_path,
                                                                               monkeypatch):
    """Dropout (pix2pix) and the VAE's sampling draw from torch's RNG: a resume must
    continue its stream exactly where the uninterrupted run was at that step."""
    options = {"pix2pix": {"num_downs": 6, "ngf": 4, "ndf": 8},  # 6 downs: one dropout layer
               "vae": {"width": 8, "z_dim": 8}, "lite0-unet": {"decoder": [16, 16, 16]}}[model]
    config = str(tiny_config(model, photo_folder, tmp_path, steps=6, options=options, log_every=1, ckpt_every=2))
    whole = train_main(config, device="cpu", out=str(tmp_path / "whole"))

    # 12 photos in batches of 4: the checkpoint at step 2 is mid-epoch, the kill at
    # step 4 (before its checkpoint) leaves a logged step 3 that the weights lack
    with monkeypatch.context() as m:
        kill_at(m, 4)
        with pytest.raises(Killed):
            train_main(config, device="cpu", out=str(tmp_path / "killed"))
    assert [int(r["step"]) for r in read_log(tmp_path / "killed")] == [1, 2, 3]
    killed = train_main(config, resume=True, device="cpu", out=str(tmp_path / "killed"))
    # a time budget stops after step 1 with a validation the whole run did not have
    stopped = train_main(config, device="cpu", out=str(tmp_path / "stopped"), minutes=0)
    assert torch.load(stopped / "last.pt", weights_only=True)["step"] == 1
    train_main(config, resume=True, device="cpu", out=str(stopped))

    expected = final_tensors(whole)
    for run in (killed, stopped):
        got = final_tensors(run)
        assert got.keys() == expected.keys()
        differ = [k for k in expected if not torch.equal(expected[k], got[k])]
        assert not differ, f"{run.name}: {len(differ)} tensors differ, e.g. {differ[:3]}"
    assert [(r["step"], r["loss"]) for r in read_log(killed)] == [(r["step"], r["loss"]) for r in read_log(whole)]


def test_a_kill_while_the_log_is_rewritten_leaves_the_previous_log_whole(photo_folder, tmp_path, monkeypatch):
    """A resume rewrites the log without the rows past its checkpoint, and each log
    step rewrites it: a kill in the middle must leave the old file, never a cut one."""
    config = str(tiny_config("regression-l2", photo_folder, tmp_path, steps=4, log_every=1, val_every=0))
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        kill_at(m, 4)
        with pytest.raises(Killed):
            train_main(config, device="cpu")
    assert [int(r["step"]) for r in read_log(run)] == [1, 2, 3]

    def writerows(self, rows):  # the kill lands after one row is out
        self.writerow(next(iter(rows)))
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(csv.DictWriter, "writerows", writerows)
        with pytest.raises(Killed):
            train_main(config, resume=True, device="cpu")
    assert [int(r["step"]) for r in read_log(run)] == [1, 2, 3]  # the old log, whole
    train_main(config, resume=True, device="cpu")
    assert [int(r["step"]) for r in read_log(run)] == [1, 2, 3, 4]


@pytest.mark.parametrize("model", ["pix2pix", "vae", "unet-bins10"])
def test_every_objective_trains_through_the_same_loop(model, photo_folder, tmp_path):
    config = tiny_config(model, photo_folder, tmp_path, steps=2, val_every=0)
    run = train_main(str(config), device="cpu")
    row = read_log(run)[-1]
    terms = {"pix2pix": ("g_gan", "l1", "d_loss"), "vae": ("recon", "kl"), "unet-bins10": ("ce_a", "ce_b")}[model]
    for key in terms:
        assert row[key] not in ("", "nan"), key
    state = torch.load(run / "last.pt", weights_only=True)
    assert ("disc" in state) == (model == "pix2pix")


def test_the_checkpoint_keeps_the_keys_that_resumes_read(photo_folder, tmp_path):
    """Runs resume from checkpoints of earlier code, and earlier code from these."""
    options = {"num_downs": 6, "ngf": 4, "ndf": 8}
    config = tiny_config("pix2pix", photo_folder, tmp_path, steps=1, options=options, val_every=0, ema=0.9)
    state = torch.load(train_main(str(config), device="cpu") / "last.pt", weights_only=True)
    assert list(state) == ["model", "opt", "step", "epoch", "torch_rng", "disc", "d_opt",
                           "ema", "ema_updates", "ema_ramp"]


def test_the_gan_objective_steps_its_discriminator_with_its_own_optimiser():
    from colorcore.losses import build_objective
    from colorcore.models import get_spec

    torch.manual_seed(0)
    model = get_spec("pix2pix").build(num_downs=6, ngf=4, ndf=8)
    objective = build_objective("pix2pix", model)
    objective.setup(torch.device("cpu"), 1e-3, (0.5, 0.999), distributed=False)
    objective.set_lr_factor(0.5)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g_before = [p.detach().clone() for p in model.parameters()]
    d_before = [p.detach().clone() for p in objective.discriminator.parameters()]
    L, ab = torch.rand(2, 1, 64, 64) * 100, (torch.rand(2, 2, 64, 64) - 0.5) * 120
    terms = objective.train_step(model, L, ab, opt, nullcontext())
    assert list(terms) == ["total", "g_gan", "l1", "d_loss"]
    assert all(not torch.equal(a, p) for a, p in zip(g_before, model.parameters()))
    assert all(not torch.equal(a, p) for a, p in zip(d_before, objective.discriminator.parameters()))
    assert objective.state()["d_opt"]["param_groups"][0]["lr"] == 5e-4


def _ddp_worker(rank: int, world: int, port: int, config: str, out: str):
    import os
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        cfg = load_config(config)
        trainer = Trainer(cfg, Path(out), torch.device("cpu"), rank, world)
        trainer.run()
        save_file({k: v.contiguous() for k, v in trainer.model.state_dict().items()}, f"{out}/rank{rank}.safetensors")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_ddp_processes_end_with_identical_weights(photo_folder, tmp_path):
    config = tiny_config("classification", photo_folder, tmp_path, steps=3, val_every=0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "ddp"
    out.mkdir()
    mp.spawn(_ddp_worker, args=(2, port, str(config), str(out)), nprocs=2, join=True)
    a, b = load_file(out / "rank0.safetensors"), load_file(out / "rank1.safetensors")
    start = torch.load(out / "last.pt", weights_only=True)["step"]
    assert start == 3
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # and training moved them away from the initialisation both ranks started from
    torch.manual_seed(1)
    from colorcore.models import get_spec
    init = get_spec("classification").build().state_dict()
    assert any(not torch.equal(init[k], a[k]) for k in a if init[k].is_floating_point())


def test_a_time_budget_stops_with_a_checkpoint_and_a_final_log_row(photo_folder, tmp_path):
    config = tiny_config("regression-l2", photo_folder, tmp_path, steps=50)
    run = train_main(str(config), device="cpu", minutes=0)
    rows = read_log(run)
    assert [int(r["step"]) for r in rows] == [1] and rows[0]["val_psnr"] != ""
    assert torch.load(run / "last.pt", weights_only=True)["step"] == 1


def test_training_continues_from_exported_weights_when_the_run_folder_is_gone(photo_folder, tmp_path):
    from colorcore.export import main as export_main
    from colorcore.hub import load_state

    config = tiny_config("classification", photo_folder, tmp_path, steps=2, val_every=0)
    run = train_main(str(config), device="cpu")
    export_main(str(config), out=str(tmp_path / "w"), run=str(run))
    import shutil
    shutil.rmtree(run)
    train_main(str(config), resume=True, steps=4, device="cpu", init_weights=str(tmp_path / "w"))
    assert [int(r["step"]) for r in read_log(run)] == [2, 4]
    state, _ = load_state(tmp_path / "w")
    after = torch.load(run / "last.pt", weights_only=True)
    assert after["step"] == 4
    assert any(not torch.equal(state[k].float(), after["model"][k].float()) for k in state if state[k].is_floating_point())


def test_a_fresh_run_ramps_its_weight_average_and_a_start_from_weights_does_not(photo_folder, tmp_path):
    from colorcore.export import main as export_main

    config = tiny_config("classification", photo_folder, tmp_path, steps=2, val_every=0, ema=0.999)
    run = train_main(str(config), device="cpu")
    assert torch.load(run / "last.pt", weights_only=True)["ema_ramp"] is True
    export_main(str(config), out=str(tmp_path / "w"), run=str(run))
    import shutil
    shutil.rmtree(run)
    train_main(str(config), steps=4, device="cpu", init_weights=str(tmp_path / "w"))
    assert torch.load(run / "last.pt", weights_only=True)["ema_ramp"] is False


def test_export_names_the_run_history_and_the_card_quotes_it(photo_folder, tmp_path):
    from colorcore.card import run_history
    from colorcore.export import main as export_main

    config = tiny_config("classification", photo_folder, tmp_path, steps=1, val_every=0)
    export_main(str(config), out=str(tmp_path / "w"), run=str(train_main(str(config), device="cpu")))
    meta = json.loads((tmp_path / "w" / "config.json").read_text())
    assert meta["history_file"] == "results/history/classification.md" and "history" not in meta
    text = (ROOT / meta["history_file"]).read_text().split("\n", 2)[2]  # below the title
    assert run_history(meta) == " ".join(text.split()) + " (`results/history/classification.md` in the repository)"


def test_export_ships_the_log_only_up_to_the_checkpoint_step(tmp_path):
    from colorcore.export import copy_log_to_step
    src = tmp_path / "train_log.csv"
    src.write_text("step,loss\n25,3.0\n50,2.5\n75,2.4\n")
    last = copy_log_to_step(src, tmp_path / "out" / "train_log.csv", 50)
    assert last == {"step": "50", "loss": "2.5"}
    assert (tmp_path / "out" / "train_log.csv").read_text().splitlines() == ["step,loss", "25,3.0", "50,2.5"]


def test_weight_average_follows_the_formula():
    from colorcore.ema import WeightAverage
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    avg = WeightAverage(model, decay=0.5)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        model[0].weight.add_(1.0)
        model[1].running_mean.fill_(4.0)
    model[1].num_batches_tracked += 7
    avg.update(model)  # first update: d = min(0.5, 2 / 11)
    d = 2 / 11
    got = avg.model.state_dict()
    assert torch.allclose(got["0.weight"], d * start["0.weight"] + (1 - d) * model[0].weight)
    assert torch.allclose(got["1.running_mean"], torch.full((2,), (1 - d) * 4.0))
    assert int(got["1.num_batches_tracked"]) == 7  # counters are copied, not averaged
    assert not any(p.requires_grad for p in avg.model.parameters())


def test_weight_average_over_trained_weights_runs_at_full_decay_at_once():
    from colorcore.ema import WeightAverage
    model = torch.nn.Conv2d(1, 2, 1)
    avg = WeightAverage(model, decay=0.9)
    assert not avg.load({}, model, ramp=False)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    avg.update(model)  # no ramp: d = 0.9 from the first update (the ramp would give 2 / 11)
    assert torch.allclose(avg.model.weight, 0.9 * start + 0.1 * model.weight)
    restored = WeightAverage(model, decay=0.9)
    assert restored.load(avg.state(), model) and restored.ramp is False  # the setting is checkpointed


def test_a_run_with_a_weight_average_checkpoints_resumes_and_exports_it(photo_folder, tmp_path):
    from colorcore.export import main as export_main
    from colorcore.hub import load_state

    plain = tiny_config("classification", photo_folder, tmp_path, steps=2, val_every=0)
    run = train_main(str(plain), device="cpu")
    assert "ema" not in torch.load(run / "last.pt", weights_only=True)
    # switched on mid-run: the average starts at the checkpoint's weights
    config = tiny_config("classification", photo_folder, tmp_path, steps=4, val_every=0, ema=0.9)
    train_main(str(config), resume=True, device="cpu")
    state = torch.load(run / "last.pt", weights_only=True)
    assert state["step"] == 4 and state["ema_updates"] == 2
    assert state["ema_ramp"] is False  # over trained weights: full decay from the start
    floats = [k for k in state["model"] if state["model"][k].is_floating_point()]
    assert any(not torch.equal(state["ema"][k], state["model"][k]) for k in floats)
    train_main(str(config), resume=True, steps=6, device="cpu")
    assert torch.load(run / "last.pt", weights_only=True)["ema_updates"] == 4  # carried over, not restarted
    export_main(str(config), out=str(tmp_path / "w"), run=str(run))
    shipped, meta = load_state(tmp_path / "w")
    final = torch.load(run / "last.pt", weights_only=True)
    for k in floats:
        assert torch.allclose(shipped[k].float(), final["ema"][k].half().float()), k
    assert "moving average" in meta["weights"]


def test_a_fine_tune_starts_a_new_run_from_weights(photo_folder, tmp_path):
    """--fine-tune: the exported weights are the start, but the step, the schedule
    and the log begin anew (a new recipe on new data), and the weight average
    starts at full decay over those trained weights."""
    from colorcore.export import main as export_main

    config = tiny_config("classification", photo_folder, tmp_path, steps=2, val_every=0, ema=0.999)
    export_main(str(config), out=str(tmp_path / "w"), run=str(train_main(str(config), device="cpu")))
    run = train_main(str(config), steps=2, device="cpu", out=str(tmp_path / "ft"),
                     init_weights=str(tmp_path / "w"), fine_tune=True)
    assert [int(r["step"]) for r in read_log(run)] == [2]
    state = torch.load(run / "last.pt", weights_only=True)
    assert state["step"] == 2 and state["ema_ramp"] is False
    # the shipped config keeps the start's budget, so the totals count both runs
    from colorcore.provenance import training_budget
    export_main(str(config), out=str(tmp_path / "w2"), run=str(run))
    cfg = json.loads((tmp_path / "w2" / "config.json").read_text())
    assert cfg["started_from"]["steps"] == 2 and cfg["data_version"] == 1
    assert training_budget(cfg)["steps"] == 4 and training_budget(cfg)["images_seen"] == 16


def test_set_overrides_one_setting_and_names_a_bad_one():
    cfg = load_config(ROOT / "configs" / "lite0-unet.toml")
    cfg = apply_overrides(cfg, ["data.crop=128", "loss.rebalance_lambda=1.0", 'data.train="x.tar"',
                                "data.scale=[0.5, 1.0]"])
    assert cfg.data.crop == 128 and cfg.loss["rebalance_lambda"] == 1.0
    assert cfg.data.train == "x.tar" and cfg.data.scale == (0.5, 1.0)
    for bad in ["crop=128", "nosuch.crop=1", "data.crop", "data.crop=not toml", "data.nosuch=1", "data.crop=1.5"]:
        with pytest.raises(ValueError, match="--set"):
            apply_overrides(cfg, [bad])
