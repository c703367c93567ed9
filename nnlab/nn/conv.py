"""Image layers: Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d and Flatten, as PyTorch defines them.

Tensors are (N, C, H, W), PyTorch's layout. A layer may hand on a view whose memory is
ordered (N, H, W, C) (what the convolution's matrix product yields); every layer accepts
any strides, and Flatten orders features as (C, H, W), as ``torch.flatten(x, 1)`` does.

Convolution is a cross-correlation (no kernel flip), computed as one matrix product per
layer: a strided view of the padded input gives every (kh, kw) window without copying,
those windows are gathered once into rows (im2col: (N*OH*OW, kh*kw*C), channels innermost
so the copy reads memory in order) and multiplied by the weight reshaped to match. The
backward pass scatters the window gradients back with one slice-add per kernel offset
(kh*kw of them; no loop over pixels or examples).

Output size, as PyTorch (floor mode): OH = floor((H + pad_top + pad_bottom - kh) / sh) + 1.
``padding='same'`` keeps H and W (stride 1 only, as PyTorch); for an even kernel the extra
row and column go to the bottom and right, as PyTorch pads them.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .init import INITIALIZERS
from .layers import BatchNorm, Layer
from .ops import matmul

Pads = tuple[int, int, int, int]   # top, bottom, left, right


def same_padding(kernel: tuple[int, int]) -> Pads:
    """Padding that keeps the size at stride 1: k - 1 in total, the extra one bottom/right."""
    (kh, kw) = kernel
    return ((kh - 1) // 2, kh // 2, (kw - 1) // 2, kw // 2)


def output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int) -> int:
    return (size + pad_before + pad_after - kernel) // stride + 1


def _pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    top, bottom, left, right = pads
    if not any(pads):
        return x
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def _windows(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """(N, C, OH, OW, kh, kw) view of every window of the padded input (no copy)."""
    view = sliding_window_view(xp, kernel, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]]


def _scatter(dwin: np.ndarray, padded_shape: tuple, kernel: tuple[int, int], stride: tuple[int, int],
             pads: Pads, dtype) -> np.ndarray:
    """Adjoint of :func:`_windows` followed by cropping the padding: sums each window's
    gradient ``dwin`` (N, C, OH, OW, kh, kw) back onto the input (N, C, H, W).

    The sum is accumulated in (N, H, W, C) memory (channels innermost, as the windows'
    gradients come from the matrix product) and handed on as an (N, C, H, W) view."""
    n, c, oh, ow, kh, kw = dwin.shape
    sh, sw = stride
    dxp = np.zeros((padded_shape[0], padded_shape[2], padded_shape[3], padded_shape[1]), dtype=dtype)
    rows = dwin.transpose(0, 2, 3, 1, 4, 5)   # (N, OH, OW, C, kh, kw)
    if (sh, sw) == (kh, kw):  # windows tile the input: each input pixel is in at most one window
        tiled = rows.transpose(0, 1, 4, 2, 5, 3).reshape(n, oh * kh, ow * kw, c)
        dxp[:, :oh * kh, :ow * kw, :] = tiled
    else:
        for i in range(kh):
            for j in range(kw):
                dxp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += rows[:, :, :, :, i, j]
    top, bottom, left, right = pads
    return dxp[:, top:padded_shape[2] - bottom, left:padded_shape[3] - right, :].transpose(0, 3, 1, 2)


class Conv2d(Layer):
    """2-D convolution (torch.nn.Conv2d, groups=1, dilation=1): x (N, C, H, W) -> (N, F, OH, OW),
    y[n, f] = b[f] + sum_c cross-correlation(x[n, c], W[f, c]).

    W has PyTorch's shape (filters, in_channels, kh, kw); initializers see
    fan_in = in_channels*kh*kw and fan_out = filters*kh*kw, as torch.nn.init does.
    Backward: dW = dY^T cols, db = sum over (n, oh, ow) of dY, dx = the windows of dY W
    scattered back. ``skip_input_grad`` (set for a network's first layer) leaves dx out:
    nothing reads the gradient with respect to the data.
    """

    name = "conv2d"

    def __init__(self, in_channels: int, filters: int, kernel: tuple[int, int], stride: tuple[int, int] = (1, 1),
                 pads: Pads = (0, 0, 0, 0), init: tuple = ("he_normal", {}), bias_init: tuple = ("zeros", {}),
                 bias: bool = True, trainable: bool = True):
        super().__init__()
        self.in_channels, self.filters, self.units = in_channels, filters, filters
        self.kernel: tuple[int, int] = (kernel[0], kernel[1])
        self.stride: tuple[int, int] = (stride[0], stride[1])
        self.pads: Pads = (pads[0], pads[1], pads[2], pads[3])
        self.init, self.bias_init = init, bias_init
        self.bias, self.trainable = bias, trainable
        self.skip_input_grad = False

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        _, h, w = shape
        (kh, kw), (sh, sw), (top, bottom, left, right) = self.kernel, self.stride, self.pads
        return self.filters, output_size(h, kh, sh, top, bottom), output_size(w, kw, sw, left, right)

    def initialize(self, rng: np.random.Generator, dtype) -> None:
        (kh, kw), c, f = self.kernel, self.in_channels, self.filters
        init_name, init_kwargs = self.init
        w = INITIALIZERS[init_name](c * kh * kw, f * kh * kw, rng, dtype, shape=(f, c, kh, kw), **init_kwargs)
        self.params = {"W": w}
        if self.bias:
            bias_name, bias_kwargs = self.bias_init
            self.params["b"] = INITIALIZERS[bias_name](1, f, rng, dtype, **bias_kwargs)[0]
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, training=False, rng=None):
        n, f = x.shape[0], self.filters
        (kh, kw), (sh, sw), (top, bottom, left, right) = self.kernel, self.stride, self.pads
        rows = x.transpose(0, 2, 3, 1)                                   # (N, H, W, C): channels innermost
        if any(self.pads):
            rows = np.pad(rows, ((0, 0), (top, bottom), (left, right), (0, 0)))
        win = sliding_window_view(rows, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]  # (N, OH, OW, C, kh, kw), a view
        oh, ow = win.shape[1], win.shape[2]
        cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, -1)  # im2col, (kh, kw, C) per row: the one copy
        out = matmul(cols, self._matrix().T)                                   # (N*OH*OW, F)
        if self.bias:
            out += self.params["b"]
        return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2), (cols, rows.shape)

    def _matrix(self) -> np.ndarray:
        """W (F, C, kh, kw) as an (F, kh*kw*C) matrix, in the column order of the im2col rows."""
        return self.params["W"].transpose(0, 2, 3, 1).reshape(self.filters, -1)

    def backward(self, dout, cache):
        cols, padded = cache
        n, f, oh, ow = dout.shape
        (kh, kw), (sh, sw), c = self.kernel, self.stride, self.in_channels
        d = dout.transpose(0, 2, 3, 1).reshape(n * oh * ow, f)
        dw = matmul(d.T, cols).reshape(f, kh, kw, c)    # rows: filters
        np.copyto(self.grads["W"], dw.transpose(0, 3, 1, 2))
        if self.bias:
            np.sum(d, axis=0, out=self.grads["b"])
        if self.skip_input_grad:
            return None
        dcols = matmul(d, self._matrix()).reshape(n, oh, ow, kh, kw, c)
        dx = np.zeros(padded, dtype=dout.dtype)                           # (N, H + pads, W + pads, C)
        for i in range(kh):   # one slice-add per kernel offset: the adjoint of the windows view
            for j in range(kw):
                dx[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += dcols[:, :, :, i, j]
        top, bottom, left, right = self.pads
        return dx[:, top:padded[1] - bottom, left:padded[2] - right].transpose(0, 3, 1, 2)

    def __repr__(self) -> str:
        extra = ("" if self.bias else ", no bias") + ("" if self.trainable else ", frozen")
        (kh, kw), (sh, sw) = self.kernel, self.stride
        stride = f", stride {sh}" if sh == sw else f", stride {sh}x{sw}"
        return f"conv2d({self.in_channels}->{self.filters}, {kh}x{kw}{stride if (sh, sw) != (1, 1) else ''}{extra})"


class _Pool2d(Layer):
    """Shared shape logic of the pooling layers: kernel, stride (default: the kernel), padding."""

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int] | None = None, padding: int = 0):
        super().__init__()
        self.kernel: tuple[int, int] = (kernel[0], kernel[1])
        self.stride: tuple[int, int] = (stride[0], stride[1]) if stride is not None else self.kernel
        self.pads: Pads = (padding, padding, padding, padding)

    def output_shape(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        c, h, w = shape
        (kh, kw), (sh, sw), (top, bottom, left, right) = self.kernel, self.stride, self.pads
        return c, output_size(h, kh, sh, top, bottom), output_size(w, kw, sw, left, right)

    def __repr__(self) -> str:
        (kh, kw), (sh, sw) = self.kernel, self.stride
        return f"{self.name}({kh}x{kw}{'' if (sh, sw) == (kh, kw) else f', stride {sh}x{sw}'})"


class MaxPool2d(_Pool2d):
    """Max over each window (torch.nn.MaxPool2d, floor mode; padding counts as -inf).

    The gradient goes to the first maximum of each window in row-major order (PyTorch's
    CPU kernel does the same on ties); overlapping windows add up."""

    name = "maxpool2d"

    def forward(self, x, training=False, rng=None):
        if self.tiles():
            return self._tiled_forward(x)
        xp = _pad(x, self.pads, -np.inf)
        win = _windows(xp, self.kernel, self.stride)
        n, c, oh, ow, kh, kw = win.shape
        flat = win.reshape(n, c, oh, ow, kh * kw)
        idx = flat.argmax(axis=-1)
        out = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
        return out, (idx, xp.shape, x.dtype)

    def backward(self, dout, cache):
        if isinstance(cache[0], str):
            return self._tiled_backward(dout, cache)
        idx, padded_shape, dtype = cache
        kh, kw = self.kernel
        hits = idx[..., None] == np.arange(kh * kw)                   # (N, C, OH, OW, kh*kw)
        dwin = (hits * dout[..., None]).reshape(*idx.shape, kh, kw)
        return _scatter(dwin.astype(dtype, copy=False), padded_shape, self.kernel, self.stride, self.pads, dtype)

    def tiles(self) -> bool:
        """Windows that tile the image (stride = kernel, no padding): the usual 2x2 pooling."""
        return self.stride == self.kernel and not any(self.pads)

    def _tiled_forward(self, x):
        """Maximum over the kh*kw window offsets, in (N, H, W, C) memory (channels innermost)."""
        (kh, kw), (n, c, h, w) = self.kernel, x.shape
        oh, ow = h // kh, w // kw
        grid = x.transpose(0, 2, 3, 1)[:, :oh * kh, :ow * kw].reshape(n, oh, kh, ow, kw, c)
        out = grid[:, :, 0, :, 0].copy()
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    np.maximum(out, grid[:, :, i, :, j], out=out)
        return out.transpose(0, 3, 1, 2), ("tiled", grid, out, (h, w))

    def _tiled_backward(self, dout, cache):
        """The gradient goes to the first maximum of each window (offsets in row-major order)."""
        _, grid, out, (h, w) = cache
        n, oh, kh, ow, kw, c = grid.shape
        d = dout.transpose(0, 2, 3, 1)
        dgrid = np.zeros(grid.shape, dtype=dout.dtype)
        taken = np.zeros(out.shape, dtype=bool)
        nan = bool(np.isnan(out).any())
        for i in range(kh):
            for j in range(kw):
                part = grid[:, :, i, :, j]
                first = part == out
                if nan:  # a NaN is the maximum, as in PyTorch: it takes the gradient
                    first |= np.isnan(part)
                first &= ~taken
                taken |= first
                np.multiply(d, first, out=dgrid[:, :, i, :, j])
        dx = dgrid.reshape(n, oh * kh, ow * kw, c)
        if (oh * kh, ow * kw) != (h, w):  # rows and columns past the last whole window get no gradient
            dx = np.pad(dx, ((0, 0), (0, h - oh * kh), (0, w - ow * kw), (0, 0)))
        return dx.transpose(0, 3, 1, 2)


class AvgPool2d(_Pool2d):
    """Mean over each window (torch.nn.AvgPool2d, floor mode, count_include_pad=True: padded
    zeros count in the kh*kw divisor)."""

    name = "avgpool2d"

    def forward(self, x, training=False, rng=None):
        xp = _pad(x, self.pads)
        win = _windows(xp, self.kernel, self.stride)
        return win.mean(axis=(4, 5), dtype=x.dtype), (xp.shape, x.dtype)

    def backward(self, dout, cache):
        padded_shape, dtype = cache
        kh, kw = self.kernel
        share = dout * dout.dtype.type(1 / (kh * kw))
        dwin = np.broadcast_to(share[..., None, None], (*dout.shape, kh, kw))
        return _scatter(dwin, padded_shape, self.kernel, self.stride, self.pads, dtype)


class BatchNorm2d(BatchNorm):
    """Batch normalisation per channel (torch.nn.BatchNorm2d): x (N, C, H, W), statistics over
    (N, H, W), so the batch variance divides by N*H*W and the running variance is unbiased
    with N*H*W / (N*H*W - 1). Otherwise exactly :class:`BatchNorm` (momentum 0.1, eps 1e-5),
    applied to the (N*H*W, C) matrix of each position's channels."""

    name = "batchnorm2d"

    def forward(self, x, training=False, rng=None):
        n, c, h, w = x.shape
        rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)
        out, cache = super().forward(rows, training, rng)
        return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache

    def backward(self, dout, cache):
        n, c, h, w = dout.shape
        dx = super().backward(dout.transpose(0, 2, 3, 1).reshape(n * h * w, c), cache)
        return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2)

    def __repr__(self) -> str:
        return f"batchnorm2d({self.dim})"


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W) in (C, H, W) order, as torch.nn.Flatten."""

    name = "flatten"

    def forward(self, x, training=False, rng=None):
        return x.reshape(len(x), -1), x.shape

    def backward(self, dout, cache):
        return dout.reshape(cache)
