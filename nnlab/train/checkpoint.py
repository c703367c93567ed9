"""Checkpoints: a trial interrupted mid-way goes on from its last checkpoint with the bytes of
an uninterrupted run.

A :class:`Snapshot` is everything the training loop needs to go on from the end of an epoch
that wrote a metrics row: the weights and batch-norm buffers, the optimizer's state (moments,
step count, rate), the state of every random stream (shuffling and dropout draw on), the rows
recorded so far, the initial weights, the state of the callbacks that carry any (early
stopping's best weights, the unit statistics after the first step) and the loop's counters.
Restoring it into a freshly prepared trial (the data, the model and the streams are rebuilt
from the config, as for any trial) and training on computes exactly what the uninterrupted
loop would have: the same operations on the same bytes.

A :class:`CheckpointStore` keeps one snapshot per trial outside its trial folder, in the
study's ``.checkpoints/<config hash>/`` (``arrays.npz`` and ``state.json``), written whole or
not at all, every :data:`EVERY_SECONDS` of training at most (``NNLAB_CHECKPOINT_SECONDS``
overrides it; 0: at every row) and whenever a budget stops the trial (successive halving).
It is removed when the trial's folder is written. A snapshot made by another nnlab or NumPy,
or with other kernels, is not used: its bytes would not continue those of this machine.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

EVERY_SECONDS = 30.0      # at most one snapshot per this much training: a few ms each, even for MNIST's MLP
FOLDER = ".checkpoints"   # in the study folder, beside the trial folders


@dataclass
class Snapshot:
    epoch: int                                  # the last epoch done (its metrics row recorded)
    step: int
    model: dict[str, np.ndarray]                # state_dict: weights and buffers
    init: dict[str, np.ndarray]                 # the initial weights (init.npz)
    optimizer: dict[str, dict[str, np.ndarray]]  # per parameter key, the optimizer's state arrays
    optimizer_steps: int
    optimizer_lr: float
    streams: dict[str, dict]                    # numpy bit-generator states, per stream
    metrics: list[dict]
    steps: list[dict]
    callbacks: dict[str, dict] = field(default_factory=dict)   # per callback key, its state (arrays under "arrays")
    loop: dict = field(default_factory=dict)    # timing, the explosion limit, epoch times


def take(setup, state, records, callbacks, loop: dict) -> Snapshot:
    """A snapshot of the training loop as it is now (the end of an epoch with a row)."""
    optimizer = setup.optimizer
    return Snapshot(
        epoch=state.epoch, step=state.step, model=setup.model.state_dict(), init=records.weights["init"],
        optimizer={key: {name: np.array(value) for name, value in s.items() if not name.startswith("_")}
                   for key, s in optimizer.state.items()},
        optimizer_steps=optimizer.steps, optimizer_lr=optimizer.lr,
        streams={name: _copy(rng.bit_generator.state) for name, rng in setup.streams.items()},
        metrics=[dict(r) for r in records.metrics], steps=[dict(r) for r in records.steps],
        callbacks={cb.checkpoint_key: cb.checkpoint_state() for cb in callbacks if getattr(cb, "checkpoint_key", None)},
        loop=dict(loop))


def restore(snapshot: Snapshot, setup, state, records, callbacks) -> None:
    """Put a snapshot into a freshly prepared trial: the loop then goes on at ``epoch + 1``."""
    setup.model.load_state_dict(snapshot.model)
    optimizer = setup.optimizer
    optimizer.state = {key: {name: np.array(value) for name, value in s.items()} for key, s in snapshot.optimizer.items()}
    optimizer.steps, optimizer.lr = snapshot.optimizer_steps, snapshot.optimizer_lr
    for name, rng in setup.streams.items():
        rng.bit_generator.state = snapshot.streams[name]
    records.metrics[:] = [dict(r) for r in snapshot.metrics]
    records.steps[:] = [dict(r) for r in snapshot.steps]
    records.weights["init"] = snapshot.init
    for cb in callbacks:
        key = getattr(cb, "checkpoint_key", None)
        if key and key in snapshot.callbacks:
            cb.load_checkpoint_state(snapshot.callbacks[key])
    state.epoch, state.step = snapshot.epoch, snapshot.step


def _copy(value):
    return json.loads(json.dumps(value))


class CheckpointStore:
    """One trial's snapshots in ``folder`` (the study's ``.checkpoints/<config hash>``)."""

    def __init__(self, folder: Path, config_hash: str, every: float | None = None):
        self.folder = Path(folder)
        self.config_hash = config_hash
        env = os.environ.get("NNLAB_CHECKPOINT_SECONDS")
        self.every = every if every is not None else float(env) if env else EVERY_SECONDS
        self.last = time.perf_counter()
        self.resumed_from: int | None = None

    @classmethod
    def of(cls, study_dir: Path, config_hash: str) -> CheckpointStore:
        return cls(Path(study_dir) / FOLDER / config_hash, config_hash)

    def due(self) -> bool:
        return time.perf_counter() - self.last >= self.every

    def save(self, snapshot: Snapshot) -> None:
        """Write the snapshot whole, replacing the one before (a kill leaves one or the other)."""
        from ..results import fsio

        arrays = {f"model/{k}": v for k, v in snapshot.model.items()}
        arrays.update({f"init/{k}": v for k, v in snapshot.init.items()})
        for key, state in snapshot.optimizer.items():
            arrays.update({f"optimizer/{key}/{name}": v for name, v in state.items()})
        callbacks = {}
        for key, state in snapshot.callbacks.items():
            arrays.update({f"callback/{key}/{name}": v for name, v in (state.get("arrays") or {}).items()})
            callbacks[key] = {k: v for k, v in state.items() if k != "arrays"}
        meta = {"config_hash": self.config_hash, "arithmetic": arithmetic(), "epoch": snapshot.epoch,
                "step": snapshot.step, "optimizer_steps": snapshot.optimizer_steps, "optimizer_lr": snapshot.optimizer_lr,
                "streams": snapshot.streams, "metrics": snapshot.metrics, "steps": snapshot.steps,
                "callbacks": callbacks, "loop": snapshot.loop}
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        text = json.dumps(meta, default=_plain)   # NaN and Infinity as Python's json writes and reads them

        def fill(tmp: Path) -> None:
            fsio.write_file(tmp / "arrays.npz", buffer.getvalue(), sync=False)
            fsio.write_file(tmp / "state.json", text, sync=False)
        fsio.build_folder(self.folder, fill)
        self.last = time.perf_counter()

    def load(self) -> Snapshot | None:
        """The snapshot, or None when there is none this trial can go on from."""
        from ..results import fsio

        try:
            meta = json.loads(fsio.read_text(self.folder / "state.json"))
            with fsio.open_regular(self.folder / "arrays.npz") as handle, np.load(handle) as data:
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, KeyError):
            return None
        if meta.get("config_hash") != self.config_hash or meta.get("arithmetic") != arithmetic():
            return None
        optimizer: dict[str, dict] = {}
        callbacks = {key: dict(state) for key, state in meta["callbacks"].items()}
        for name, value in arrays.items():
            kind, _, rest = name.partition("/")
            if kind == "optimizer":
                key, _, state_name = rest.rpartition("/")
                optimizer.setdefault(key, {})[state_name] = value
            elif kind == "callback":
                key, _, array_name = rest.partition("/")
                callbacks.setdefault(key, {}).setdefault("arrays", {})[array_name] = value
        snapshot = Snapshot(
            epoch=meta["epoch"], step=meta["step"],
            model={k[6:]: v for k, v in arrays.items() if k.startswith("model/")},
            init={k[5:]: v for k, v in arrays.items() if k.startswith("init/")},
            optimizer=optimizer, optimizer_steps=meta["optimizer_steps"], optimizer_lr=meta["optimizer_lr"],
            streams=meta["streams"], metrics=meta["metrics"], steps=meta["steps"], callbacks=callbacks,
            loop=meta["loop"])
        self.resumed_from = snapshot.epoch
        return snapshot

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def arithmetic() -> dict:
    """What must match for a snapshot's bytes to go on as this machine's would."""
    from .. import __version__
    from ..runtime.pinning import arithmetic as facts

    found = facts(1)
    return {"nnlab": __version__, **{k: found.get(k) for k in ("numpy", "blas_kernel", "blas_version", "numpy_dispatch")}}


def _plain(value):
    """NumPy scalars in rows as the Python numbers they hold."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")
