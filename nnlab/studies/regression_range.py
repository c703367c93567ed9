"""A sigmoid or tanh output on targets outside its range"""

from __future__ import annotations

from . import figures
from .common import Column, Study, share, span, two_panels


def _range_figure(sd, plt):
    fig, (a, b) = two_panels(plt)
    figures.dots(sd, a, "final_test_mae", label=lambda g: f"{g['output']}\nlr {g['lr']}\nbatch {g['batch_size']}",
                 ylabel="test MAE", title="test mean absolute error (dots: seeds; bar: mean ± 95% CI)")
    figures.curves(sd, b, "train_loss", ["output"], fixed={"lr": "0.01"}, logy=True, ylabel="training loss (MSE)",
                   title="training loss, Adam 0.01, batch 16")
    return fig


def _range_answer(sd):
    ok = {"lr": "0.01", "batch_size": "16"}
    tiny = {"lr": "1e-8", "batch_size": "1"}
    ratios = sd.select(**tiny)["loss_ratio"]
    bounded = sd.fired("bounded_output_for_targets", ("warn", "error"), output="sigmoid")
    plateau = sd.fired("plateau", **tiny)
    ranges = [(e["evidence"]["target_min"], e["evidence"]["target_max"]) for s in sd.summaries.values()
              for e in s.get("events") or [] if e["type"] == "bounded_output_for_targets" and "target_min" in e.get("evidence", {})]
    targets = (f"targets spanning {ranges[0][0]:.1f} to {ranges[0][1]:.1f}".replace("-", "−") if ranges
               else "targets outside (−1, 1)")
    return (f"On {targets}, a sigmoid output (range 0 to 1) ends at test MAE "
            f"{sd.fmt('final_test_mae', 1, 2, output='sigmoid', **ok)} and a tanh output (−1 to 1) at "
            f"{sd.fmt('final_test_mae', 1, 2, output='tanh', **ok)}, against {sd.fmt('final_test_mae', 1, 2, output='linear', **ok)} "
            f"for a linear output: every prediction is confined to the output's range. "
            f"Learning rate 1e-8 with batch size 1 helps none of them: the training loss ends at "
            f"{span(ratios, 4)} of where it started, so the model is still the initial one, at MAE "
            f"{span(sd.select(**tiny)['final_test_mae'], 2)} (nnlab: a plateau in {share(plateau)} of those trials, and a "
            f"learning rate far below the usual range). "
            f"The doctor flags the bounded output before training, with the error floor it implies ({share(bounded)} "
            f"sigmoid trials), and the fix is a linear output, behind which the tanh hidden units do fine.")


def _range_checks(sd):
    ok = {"lr": "0.01", "batch_size": "16"}
    lin = sd.mean("final_test_mae", output="linear", **ok)
    capped = min(sd.mean("final_test_mae", output="sigmoid", **ok), sd.mean("final_test_mae", output="tanh", **ok))
    tiny = sd.select(lr="1e-8", batch_size="1")["loss_ratio"]
    doctor = sd.fired("bounded_output_for_targets", ("warn", "error"), output="sigmoid")
    return [
        ("the linear output's test MAE is below 0.8 × the best bounded output's", lin < 0.8 * capped),
        ("lr 1e-8 with batch 1 leaves the training loss within 1% of its start", bool(len(tiny)) and bool((abs(tiny - 1) < 0.01).all())),
        ("the doctor flags the sigmoid output for these targets in every sigmoid trial", doctor[0] == doctor[1] > 0),
    ]


LR = {1e-08: "1e-8"}


STUDY = Study(4, "regression_range", "A sigmoid or tanh output on targets outside its range",
              "regression with a sigmoid output (or tanh units) on targets outside (0, 1): every prediction the same or "
              "capped; learning rate 1e-8 and batch size 1 tried as cures",
              "nnlab's 1-D regression set (y = 2 sin 3x + x/2 + noise, 450 training points), 32 tanh hidden units, "
              "Adam for 100 epochs; the cure tried is lr 1e-8 with batch 1 against lr 0.01 with batch 16",
              [Column("test MAE", "final_test_mae", 1, 3), Column("training loss ÷ initial", "loss_ratio", 1, 3)],
              _range_figure, _range_answer, _range_checks,
              ["data.n_samples=300", "train.epochs=30", "seed=0,1"],
              {"lr": LR})
