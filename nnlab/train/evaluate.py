"""Evaluation passes: mean loss and accuracy (or MAE) over a split, in evaluation mode
(dropout off, BatchNorm running statistics), in chunks of bounded memory.

Chunks are independent, so a single ``nnlab run`` evaluates them on the trial's thread
pool (``runtime/threads.py``; NumPy and BLAS release the GIL): each chunk is computed exactly
as alone, by the same one-thread BLAS kernel, and the per-chunk sums are added in chunk
order, so the bytes are those of a serial pass. Sweeps keep one thread per trial.
"""

from __future__ import annotations

import numpy as np

from ..nn.ops import map_ordered
from .setup import TrialSetup


def predict(setup: TrialSetup, x: np.ndarray) -> np.ndarray:
    """Model outputs in evaluation mode (after the output activation)."""
    chunk = setup.model.eval_chunk  # rows per forward pass: bounded memory, few Python iterations
    return np.concatenate([setup.model.forward(x[i:i + chunk])[0] for i in range(0, len(x), chunk)])


def predicted_class(out: np.ndarray, reads: str) -> np.ndarray:
    """argmax over classes; a single output unit is thresholded at 0 (logits) or 0.5."""
    if out.shape[1] == 1:
        threshold = 0.0 if reads == "logits" else 0.5
        return (out[:, 0] > threshold).astype(np.int64)
    return out.argmax(axis=1)


def evaluate(setup: TrialSetup, split: str) -> dict[str, float]:
    """``{<split>_loss, <split>_acc | <split>_mae}``: means over the split (loss always with
    mean reduction, whatever the training reduction)."""
    return _row(setup, split, map_ordered(lambda i: _chunk_sums(setup, split, i), _starts(setup, split)))


def _starts(setup: TrialSetup, split: str) -> list[int]:
    return list(range(0, len(setup.splits[split][0]), setup.model.eval_chunk))


def _chunk_sums(setup: TrialSetup, split: str, i: int) -> tuple[float, float, float]:
    """(loss sum, metric sum, absolute error sum) of the split's chunk starting at row i."""
    x, t = setup.splits[split]
    objective, chunk = setup.objective, setup.model.eval_chunk
    out, _ = objective.outputs(setup.model, x[i:i + chunk])
    target = t[i:i + chunk]
    loss, _ = objective.eval_loss.forward(out, target)
    if setup.data.kind == "regression":  # MAE of what the model outputs (after a fused activation)
        part = float(np.sum(np.abs(_after_output(setup, out) - target), dtype=np.float64)) / out.shape[1]
    else:
        part = float(np.sum(predicted_class(out, objective.reads) == setup.labels[split][i:i + chunk]))
    return loss * len(out), part, _classification_abs_error(setup, split, i, out) if _classification_mae(setup) else 0.0


def _classification_mae(setup: TrialSetup) -> bool:
    return setup.data.kind == "classification" and "mae" in setup.exp.train.extra_metrics


def _row(setup: TrialSetup, split: str, sums: list[tuple[float, float, float]]) -> dict[str, float]:
    """The split's means from its chunk sums, added in chunk order (the bytes of a serial pass)."""
    total, metric, abs_error = 0.0, 0.0, 0.0
    for loss_sum, part, abs_part in sums:
        total += loss_sum
        metric += part
        abs_error += abs_part
    n = len(setup.splits[split][0])
    row = {f"{split}_loss": total / n, f"{split}_{setup.metric}": metric / n}
    if _classification_mae(setup):
        row[f"{split}_mae"] = abs_error / n
    return row


def loss_spread(setup: TrialSetup, split: str) -> float | None:
    """Standard deviation of the per-example loss over a split (evaluation mode): with n
    examples, the split's mean loss has a standard error of about spread / sqrt(n)."""
    x, t = setup.splits.get(split, (np.empty(0), None))
    if len(x) < 2:
        return None
    chunk, loss = setup.model.eval_chunk, setup.objective.eval_loss
    parts = [loss.per_example(setup.objective.outputs(setup.model, x[i:i + chunk])[0], t[i:i + chunk])
             for i in range(0, len(x), chunk)]
    values = np.concatenate(parts)
    return float(np.std(values)) if np.all(np.isfinite(values)) else None


def _after_output(setup: TrialSetup, out: np.ndarray) -> np.ndarray:
    """The model's outputs: when the loss read logits (fused), apply the output activation."""
    return setup.model.layers[-1].forward(out)[0] if setup.objective.fused else out


def _classification_abs_error(setup: TrialSetup, split: str, start: int, out: np.ndarray) -> float:
    """Sum over the chunk of mean |prediction - one-hot target| per example, on the model's
    outputs after its output activation (the XOR-net habit: train until this is < 0.3)."""
    out = _after_output(setup, out)
    labels = setup.labels[split][start:start + len(out)]
    target = labels[:, None].astype(out.dtype) if out.shape[1] == 1 else np.eye(out.shape[1], dtype=out.dtype)[labels]
    return float(np.sum(np.abs(out - target), dtype=np.float64)) / out.shape[1]


def evaluate_all(setup: TrialSetup) -> dict[str, float]:
    """Every split in metrics.csv order: train, val, test. The chunks of all splits go to the
    pool together (a split of one chunk would otherwise keep a core idle)."""
    jobs = [(split, i) for split in setup.splits for i in _starts(setup, split)]
    sums = map_ordered(lambda job: _chunk_sums(setup, *job), jobs)
    row: dict[str, float] = {}
    for split in setup.splits:
        row.update(_row(setup, split, [s for (name, _), s in zip(jobs, sums, strict=True) if name == split]))
    return row
