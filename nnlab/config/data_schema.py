"""The data section of a config: which set, how it is split, normalised and targeted."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import Field, field_validator, model_validator

from ..data.datasets import DATASET_KINDS
from ..data.tables import inspect_table
from .base import Strict
from .specs import require_choice

# Sane limits, far above any study this machine can run; the memory estimate before training
# (preflight.py) catches what fits these but not the machine.
MAX_EXAMPLES = 100_000_000


class DataConfig(Strict):
    name: str = "mnist"               # mnist | fashion_mnist | xor | spirals | moons | blobs | regression | csv | npz
    root: str | None = None           # where IDX files live when $NNLAB_DATA is not set
    normalize: Literal["none", "scale", "standard"] | None = None  # default: standard (z-score) for generated sets, scale (x/255; min-max for csv) otherwise
    validation: Union[int, float] = 0.1  # fraction of train held out (stratified, seeded), or a count
    subset: int | None = Field(None, ge=1)  # first N training examples after the split (overfitting studies)
    test_subset: int | None = Field(None, ge=1)  # first N test examples (a full test pass can dominate short runs)
    target: Union[str, list[str]] = "label"  # label | input (an autoencoder); csv: the target column(s), default the last
    path: str | None = None           # csv, npz: the file, relative to the config file (or to the working directory on the command line)
    features: list[str] | None = None  # csv: the input columns (None: every column but the target)
    task: Literal["auto", "classification", "regression"] = "auto"  # csv: auto = classification for one integer or text column with at most 20 values; npz: for (N,) integer labels
    test_fraction: float = Field(0.2, ge=0, lt=1)  # csv, npz without x_test: rows held out as the test split (drawn with data.seed)
    sha256: str | None = None         # csv, npz: filled in from the file; a changed file is a new trial
    resize: tuple[Annotated[int, Field(ge=1, le=28)], Annotated[int, Field(ge=1, le=28)]] | None = None  # image sets: [h, w], area-averaged (20x20 for Ng's exercise)
    n_samples: int = Field(1000, ge=4, le=MAX_EXAMPLES)  # generated sets: training examples (before the validation split)
    n_test: int = Field(1000, ge=1, le=MAX_EXAMPLES)     # generated sets: test examples
    noise: float | None = Field(None, ge=0)  # generated sets: noise level (None: the set's own default)
    classes: int | None = Field(None, ge=2, le=1000)  # blobs and spirals: number of classes (default 3)
    seed: int = Field(0, ge=0)           # generated sets: fixed across trial seeds so replicates share data

    @field_validator("name")
    @classmethod
    def _known_dataset(cls, value):
        require_choice(value, DATASET_KINDS, "dataset")
        return value

    @model_validator(mode="after")
    def _table(self):
        if self.normalize is None:
            # Generated sets are centred: min-max would make 2-D inputs non-negative, and a quarter
            # of zero-bias ReLUs would never fire (dead from the start); images keep x / 255.
            self.normalize = "scale" if self.name in ("mnist", "fashion_mnist", "csv", "npz") else "standard"
        if self.name == "npz":
            return self._arrays()
        if self.name != "csv":
            if self.target not in ("label", "input"):
                raise ValueError(f"data.target for {self.name} is 'label' or 'input', got {self.target!r}")
            for key in ("path", "features", "sha256"):
                if getattr(self, key) is not None:
                    raise ValueError(f"data.{key} is for name: csv, not '{self.name}'")
            return self
        if self.path is None:
            raise ValueError("data.path: name the CSV file, e.g. data: {name: csv, path: table.csv, target: y}")
        if self.target == "input":
            raise ValueError("data.target: input (an autoencoder) is for the image and generated sets; name a column")
        path = Path(self.path).expanduser().resolve()
        info = inspect_table(path, self.target, self.features, self.task)
        if self.sha256 is not None and self.sha256 != info.sha256:
            raise ValueError(f"data.sha256: {path} changed since this config was written (SHA-256 {info.sha256[:12]}..., "
                             f"recorded {self.sha256[:12]}...)")
        self.path, self.sha256, self.task = str(path), info.sha256, info.task  # type: ignore[assignment]
        self.target, self.features = (info.target if self.target != "input" else "input"), info.features
        return self

    def _arrays(self):
        if self.path is None:
            raise ValueError("data.path: name the .npz file, e.g. data: {name: npz, path: digits.npz}")
        if self.target not in ("label", "input"):
            raise ValueError(f"data.target for npz is 'label' (y_train) or 'input' (an autoencoder), got {self.target!r}")
        if self.features is not None:
            raise ValueError("data.features is for name: csv; an npz file's x_train is every feature")
        from ..data.arrays import inspect_arrays

        path = Path(self.path).expanduser().resolve()
        info = inspect_arrays(path, self.task)
        if self.sha256 is not None and self.sha256 != info.sha256:
            raise ValueError(f"data.sha256: {path} changed since this config was written (SHA-256 {info.sha256[:12]}..., "
                             f"recorded {self.sha256[:12]}...)")
        self.path, self.sha256, self.task = str(path), info.sha256, info.task  # type: ignore[assignment]
        return self

    @model_validator(mode="after")
    def _classes_only_where_used(self):
        if self.resize is not None and self.name not in ("mnist", "fashion_mnist"):
            raise ValueError(f"data.resize is for image sets (mnist, fashion_mnist), not '{self.name}'")
        if self.classes is not None and self.name not in ("blobs", "spirals"):
            raise ValueError(f"data.classes is for blobs and spirals; '{self.name}' has a fixed number of classes")
        return self

    @field_validator("validation")
    @classmethod
    def _validation(cls, value):
        if isinstance(value, float) and not 0 <= value < 1:
            raise ValueError(f"a validation fraction must be in [0, 1), got {value} (or give a count: validation: 5000)")
        if isinstance(value, int) and value < 0:
            raise ValueError(f"a validation count must be >= 0, got {value}")
        return value
