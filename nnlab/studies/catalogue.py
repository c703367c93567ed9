"""The sixteen studies: per question its config (``configs/studies/<name>.yaml``), the
original setup in one line, where the study departs from it, the table, the figure, the
answer written from the numbers, the checks the answer rests on, and the overrides of the
shortened version that the test suite runs.

Every sentence of an answer is computed from the study's results: a difference is called
real only when its 95% interval excludes 0 (:meth:`Difference.real`), otherwise the answer
says there is no real difference. The checks state the phenomenon each study exists to
show; ``docs/studies.md`` prints them and ``tests/studies/test_studies.py`` asserts them on the
shortened runs.

Each study is a module of this package named after it (``zero_init.py`` …), holding its
question, figure, answer and checks, and its entry ``STUDY`` (a :class:`~.common.Study`);
what several studies share is in :mod:`.common` and :mod:`.batchnorm`. This module only
lists them, in the order of their numbers.
"""

from __future__ import annotations

from . import (
    autoencoder_norm,
    bn_cnn,
    bn_mlp,
    cs231n_spiral,
    fullbatch_spikes,
    init_schemes_deep,
    keras_cnn,
    loss_dropout,
    ng_ex4,
    overconfidence,
    overfitting_es,
    regression_range,
    relu_collapse,
    relu_output,
    xor_convergence,
    zero_init,
)
from .common import Study

__all__ = ["BY_NAME", "STUDIES", "Study"]

STUDIES: list[Study] = [module.STUDY for module in (
    zero_init, relu_output, ng_ex4, regression_range, relu_collapse, bn_mlp, bn_cnn, keras_cnn,
    xor_convergence, cs231n_spiral, autoencoder_norm, overconfidence, init_schemes_deep, loss_dropout,
    overfitting_es, fullbatch_spikes)]

BY_NAME = {s.name: s for s in STUDIES}
