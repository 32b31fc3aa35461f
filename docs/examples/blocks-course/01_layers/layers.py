"""Layers by hand: a 1-D convolution, inverted dropout and a LayerNorm module."""
import torch
from torch import nn


def conv1d(x, weight, bias=None, stride=1):
    """The 1-D convolution (cross-correlation, as ``torch.nn.functional.conv1d``) of ``x``
    (N, C_in, L) with ``weight`` (C_out, C_in, K), no padding; ``bias`` (C_out,) or None.
    Returns a tensor (N, C_out, (L - K) // stride + 1). Do not call ``F.conv1d``."""
    ### BEGIN SOLUTION
    k = weight.shape[-1]
    windows = x.unfold(2, k, stride)
    out = torch.einsum("nclk,ock->nol", windows, weight)
    if bias is not None:
        out = out + bias[None, :, None]
    return out
    ### END SOLUTION


def dropout(x, p, generator):
    """Inverted dropout: zero each entry of ``x`` with probability ``p`` and scale the others
    by ``1 / (1 - p)``. Draw the mask as ``torch.rand(x.shape, generator=generator,
    device=x.device) >= p``: an entry is kept where the draw is at least ``p``."""
    ### BEGIN SOLUTION
    keep = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) >= p
    return x * keep / (1 - p)
    ### END SOLUTION


class LayerNorm(nn.Module):
    """Layer normalisation over the last dimension, of size ``size``: ``(x - mean) /
    sqrt(var + eps) * weight + bias`` with the biased variance; ``weight`` starts at ones and
    ``bias`` at zeros, float64 parameters named ``weight`` and ``bias``."""

    def __init__(self, size, eps=1e-5):
        super().__init__()
        ### BEGIN SOLUTION
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(size, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(size, dtype=torch.float64))
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True, correction=0)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        ### END SOLUTION
