"""Batch norm before or after the activation, or none, in an MLP"""

from __future__ import annotations

from .batchnorm import _bn_figure, _bn_sentences
from .common import ACC, Column, J, Study


def _bn_mlp_answer(sd):
    parts = {w: _bn_sentences(sd, {"hidden": w}) for w in ("5", "50", "100")}
    faster = [w for w, p in parts.items() if p[2].real and p[2].gain > 0]
    helps = [w for w, p in parts.items() if p[3].real and p[3].gain > 0]
    hurts = [w for w, p in parts.items() if p[3].real and p[3].gain < 0]
    place = [w for w, p in parts.items() if p[4].real]
    n = parts["100"][3].n
    width = sd.diff("final_test_acc", {"hidden": "100", "batchnorm": "none"}, {"hidden": "5", "batchnorm": "none"}, 100)
    largest = max([abs(p[k].gain) for p in parts.values() for k in (3, 4) if p[k].real], default=0.0)
    gains = "; ".join(f"{w} units: {parts[w][3].text()}" for w in helps + hurts)
    return (f"After one epoch of Adam the validation accuracy at 100 hidden units is {parts['100'][0]} (at 5 units "
            f"{parts['5'][0]}), and batch norm's faster start is beyond noise at {_widths(faster)}. "
            f"After 6 epochs, over {n} seeds, the better batch-norm placement is ahead of none beyond noise at "
            f"{_widths(helps)}{', behind it at ' + _widths(hurts) if hurts else ''}" + (f" ({gains})" if gains else "")
            + f", and before vs after differs beyond noise at {_widths(place)}"
            + (f" (after − before: {'; '.join(w + ' units ' + parts[w][4].text() for w in place)})" if place else "") + ". "
            + (f"The largest of these real differences is {largest:.1f} points, against {width.text()} between 100 and 5 "
               f"units without batch norm: the width matters far more than where the normalisation goes."
               if largest else f"None of these is a real difference, against {width.text()} between 100 and 5 units: "
                               f"the width matters, the placement does not."))


def _widths(widths: list[str], all_widths: tuple = ("5", "50", "100")) -> str:
    if not widths:
        return "no width"
    if len(widths) == len(all_widths):
        return "every width"
    return (", ".join(widths[:-1]) + " and " + widths[-1] if len(widths) > 1 else widths[0]) + " units"


def _bn_checks(where: dict):
    def checks(sd):
        groups = [g for g in sd.groups() if all(g.get(k) == v for k, v in where.items())]
        done = all(sd.count(**g) == len(sd.select(**g)) for g in groups)
        floor = min(sd.mean("final_test_acc", **g) for g in groups) if groups else 0
        def first(bn):
            return sd.mean("val_acc_at_1", **where, batchnorm=bn)
        return [("every trial completes (no divergence) in every placement", done and bool(groups)),
                (f"every placement learns (≥ 80% test accuracy{' with ' + ', '.join(f'{v} {k}' for k, v in where.items()) if where else ''})",
                 floor >= 0.80),
                ("batch norm starts faster: after epoch 1 both placements are ahead of none (mean over seeds)",
                 min(first("before"), first("after")) > first("none"))]
    return checks


STUDY = Study(6, "bn_mlp", "Batch norm before or after the activation, or none, in an MLP",
              "784-H-10 with Adam, batch norm before vs after the activation vs none, for H = 5, 50 and 100, several seeds",
              "10 000 MNIST training images, 6 epochs, batch 64, 5 seeds; speed is the validation accuracy after epoch 1",
              [Column("val. accuracy after epoch 1 %", "val_acc_at_1", 100), ACC],
              _bn_figure({"hidden": "100"}), _bn_mlp_answer, _bn_checks({"hidden": "100"}),
              ["data.subset=4000", "train.epochs=2", "seed=0,1"],
              {"hidden": {J([5]): "5", J([50]): "50", J([100]): "100"}})
