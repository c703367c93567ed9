"""Image transforms for the IDX image sets: area-averaging resize.

``resize_images(x, (28, 28), (20, 20))`` shrinks each image as OpenCV's INTER_AREA does:
every output pixel is the mean of the input area it covers, input pixels cut by the
output grid counting with the share of them that falls inside. With ``R`` (out_h x in_h)
and ``C`` (out_w x in_w) holding those shares (rows sum to 1), ``out = R @ image @ C^T``.
A whole-number factor (28 -> 14) is the plain mean of each 2 x 2 block.
"""

from __future__ import annotations

import numpy as np


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: share of input cell j inside output cell i, rows summing to 1."""
    scale = n_in / n_out
    edges_out = np.arange(n_out + 1) * scale
    lo = np.maximum(edges_out[:-1, None], np.arange(n_in)[None, :])
    hi = np.minimum(edges_out[1:, None], np.arange(n_in)[None, :] + 1)
    return np.clip(hi - lo, 0, None) / scale


def resize_images(x: np.ndarray, shape: tuple[int, int], size: tuple[int, int]) -> np.ndarray:
    """Flattened images (N, h*w) of ``shape`` -> (N, out_h*out_w), area-averaged, float64."""
    (h, w), (out_h, out_w) = shape, size
    rows, cols = area_weights(h, out_h), area_weights(w, out_w)
    images = np.asarray(x, dtype=np.float64).reshape(len(x), h, w)
    return np.einsum("oh,nhw,pw->nop", rows, images, cols, optimize=True).reshape(len(x), out_h * out_w)
