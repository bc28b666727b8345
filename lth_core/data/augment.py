"""Data augmentation on in-memory image batches: random crops of zero-padded images, random flips.

The standard CIFAR augmentation (pad 4, crop back at a random offset, mirror half the time) as
one gather on the batch where it lives. Draws come from a seeded CPU generator an epoch at a
time, so runs are reproducible and device-independent, and nothing waits on the device
between evaluations.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

PAD = 4  # pixels of padding per side; crop offsets are in [0, 2 * PAD]


def crop_flip(x: torch.Tensor, shift: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Augmented copy of a batch of images, x: [N, C, H, W] -> [N, C, H, W] on x's device.

    shift: [N, 2] integer (row, column) offsets into the zero-padded image, in [0, 2 * PAD]
    (PAD, PAD: in place; zero is the mean colour, inputs being standardised); flip: [N] bool."""
    n, c, h, w = x.shape
    padded = F.pad(x, (PAD, PAD, PAD, PAD))                               # [N, C, H + 2P, W + 2P]
    rows = shift[:, :1] + torch.arange(h, device=x.device)                # [N, H]
    cols = torch.arange(w, device=x.device).expand(n, w)
    cols = torch.where(flip[:, None], w - 1 - cols, cols) + shift[:, 1:]  # [N, W]; a flip reads right to left
    return padded[torch.arange(n, device=x.device)[:, None, None, None],
                  torch.arange(c, device=x.device)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def draws(n_examples: int, batch_size: int, seed: int, device):
    """Endless (shift [batch, 2], flip [batch]) pairs, one per minibatch, for crop_flip.

    Drawn from a CPU generator seeded with `seed`, an epoch at a time, moved to `device` once per epoch."""
    gen = torch.Generator().manual_seed(int(seed))
    per_epoch = max(1, n_examples // batch_size)
    while True:
        shift = torch.randint(0, 2 * PAD + 1, (per_epoch, batch_size, 2), generator=gen).to(device)
        flip = (torch.rand(per_epoch, batch_size, generator=gen) < 0.5).to(device)
        for i in range(per_epoch):
            yield shift[i], flip[i]
