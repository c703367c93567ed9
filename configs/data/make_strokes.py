"""Writes strokes.npz beside this file: 900 gray 12x12 images (uint8) of one stroke each, a
horizontal bar, a vertical bar or a diagonal, at a random place, with noise; labels 0, 1, 2.
The last 300 are the test split. Running it again gives the same arrays (seeded), though
not the same file bytes: zip entries carry the time they were written.

    python configs/data/make_strokes.py
"""

from pathlib import Path

import numpy as np

SIDE, N = 12, 900


def strokes(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 3, n)
    x = rng.normal(30, 15, (n, SIDE, SIDE))
    for i, label in enumerate(y):
        r, c, length = rng.integers(1, SIDE - 6), rng.integers(1, SIDE - 6), rng.integers(4, 6)
        for k in range(length):
            rr, cc = (r, c + k) if label == 0 else (r + k, c) if label == 1 else (r + k, c + k)
            x[i, rr, cc] = rng.normal(220, 20)
    return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)


if __name__ == "__main__":
    x, y = strokes(N, np.random.default_rng(0))
    np.savez(Path(__file__).with_name("strokes.npz"), x_train=x[:600], y_train=y[:600], x_test=x[600:], y_test=y[600:])
