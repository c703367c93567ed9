"""What studies 6 and 7 (bn_mlp, bn_cnn) share: the figure and the sentences comparing batch-norm placements."""

from __future__ import annotations

from . import figures
from .common import two_panels
from .measure import Difference


def _bn_figure(fixed: dict):
    def draw(sd, plt):
        fig, (a, b) = two_panels(plt)
        figures.curves(sd, a, "val_acc", ["batchnorm"], fixed=fixed, ylabel="validation accuracy",
                       title="validation accuracy" + (f" ({', '.join(f'{k} {v}' for k, v in fixed.items())})" if fixed else ""))
        a.set_ylim(bottom=max(0.0, min(line.get_ydata()[1:].min() for line in a.lines) - 0.05) if a.lines else None)
        label = (lambda g: f"{g['hidden']} units\nBN {g['batchnorm']}") if "hidden" in sd.columns else (lambda g: f"BN {g['batchnorm']}")
        figures.dots(sd, b, "final_test_acc", 100, label=label, ylabel="test accuracy %",
                     title="final test accuracy (dots: seeds; bar: mean ± 95% CI)")
        return fig
    return draw


def _bn_sentences(sd, where: dict) -> tuple[str, str, Difference, Difference, Difference]:
    """(speed clause, accuracy clause, BN vs none at epoch 1, best BN vs none, after vs before) at one width."""
    def at(bn):
        return {**where, "batchnorm": bn}
    names = {"none": "no BN", "before": "BN before", "after": "BN after"}
    speed = ", ".join(f"{names[bn]} {sd.fmt('val_acc_at_1', 100, **at(bn))}%" for bn in ("none", "before", "after"))
    best = max(("before", "after"), key=lambda bn: sd.mean("final_test_acc", **at(bn)))
    start = sd.diff("val_acc_at_1", at(max(("before", "after"), key=lambda bn: sd.mean("val_acc_at_1", **at(bn)))), at("none"), 100)
    vs_none = sd.diff("final_test_acc", at(best), at("none"), 100)
    before_after = sd.diff("final_test_acc", at("after"), at("before"), 100)
    acc = f"{vs_none.better('BN ' + best, 'no BN')}; {before_after.better('BN after', 'BN before')}"
    return speed, acc, start, vs_none, before_after
