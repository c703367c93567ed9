"""The experiment schema, YAML loading, overrides and friendly errors.

``load_config(path, overrides)`` returns an :class:`Experiment` with every default filled,
or raises :class:`ConfigError` with one line naming the file, line, key path and what is
allowed. Defaults are listed one per line with the reason beside them.

Modules, by job:

- :mod:`.schema`: the pydantic models (data, model, loss, training, sweep, :class:`Experiment`).
- :mod:`.optim_schema`: the optimizer and learning-rate schedule models.
- :mod:`.base`: :class:`Strict`, the base model that rejects unknown keys with a suggestion.
- :mod:`.specs`: call-style specs such as ``leaky_relu(0.2)``, parsed and checked against a registry.
- :mod:`.yaml_io`: reading (duplicate keys rejected, line numbers kept) and writing YAML.
- :mod:`.overrides`: ``key.path=value`` overrides and dotted-path access to nested dicts.
- :mod:`.load`: :func:`validate` with one-line errors, and :func:`load_config`.
"""

from __future__ import annotations

from .base import Strict
from .layer_schema import (
                           HIDDEN_ACTIVATIONS,
                           LAYER_TYPES,
                           ActivationLayer,
                           ActivationSpec,
                           BatchNormLayer,
                           Conv2dLayer,
                           DenseLayer,
                           DropoutLayer,
                           FlattenLayer,
                           InitSpec,
                           LayerItem,
                           PoolLayer,
)
from .load import load_config, validate
from .optim_schema import (
                           OPTIMIZER_CONFIGS,
                           SCHEDULE_CONFIGS,
                           AdagradConfig,
                           AdamConfig,
                           AdamWConfig,
                           CosineSchedule,
                           ExponentialSchedule,
                           MomentumConfig,
                           NesterovConfig,
                           OptimizerConfig,
                           RMSpropConfig,
                           ScheduleConfig,
                           SGDConfig,
                           StepSchedule,
)
from .overrides import apply_overrides, get_path, set_path, split_override, split_top_level
from .schema import (
                           COMPACT_FIELDS,
                           DISTRIBUTIONS,
                           DataConfig,
                           Experiment,
                           LossConfig,
                           ModelConfig,
                           RandomSearch,
                           SweepConfig,
)
from .train_schema import EarlyStopping, Regularization, StopWhen, TrainConfig
from .yaml_io import dump_yaml, parse_yaml_value, read_yaml

__all__ = [
    # loading and validation
    "load_config", "validate",
    # YAML
    "read_yaml", "dump_yaml", "parse_yaml_value",
    # overrides and dotted paths
    "apply_overrides", "split_override", "split_top_level", "get_path", "set_path",
    # schema
    "Strict", "Experiment", "DataConfig", "ModelConfig", "DenseLayer", "ActivationLayer", "BatchNormLayer",
    "DropoutLayer", "Conv2dLayer", "PoolLayer", "FlattenLayer", "LayerItem", "LAYER_TYPES", "COMPACT_FIELDS", "HIDDEN_ACTIVATIONS", "ActivationSpec",
    "InitSpec", "LossConfig", "EarlyStopping", "TrainConfig", "StopWhen", "Regularization", "DISTRIBUTIONS", "RandomSearch", "SweepConfig",
    # optimizers and schedules
    "SGDConfig", "MomentumConfig", "NesterovConfig", "AdamConfig", "AdamWConfig", "RMSpropConfig",
    "AdagradConfig", "OPTIMIZER_CONFIGS", "OptimizerConfig",
    "StepSchedule", "ExponentialSchedule", "CosineSchedule", "SCHEDULE_CONFIGS", "ScheduleConfig",
]
