#!/usr/bin/python3
"""Reference for hush's masked autoencoder (models/mae.hpp): a small MAE written from He et al.
(2022) in PyTorch, with hush's mask, so that tests/torch_reference.cpp can compare the
prediction, the masked loss (norm_pix), the input gradient and every parameter gradient.

The mask: token t of image b draws counter_rng.uniform(key, b*T + t) (hush's generator,
core/random.hpp, re-implemented below), key = mix(mask_seed ^ mix(step)); the tokens with the
lowest draws stay (ties by index), as the MAE code's argsort of noise.

Writes tests/reference/data/mae.weights.safetensors (the state_dict) and mae.io.safetensors (x,
y, loss, mask, dx, grad.<parameter>). Run with Debian's python3-torch:
  /usr/bin/python3 tests/reference/mae.py
"""
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from torch_layers import Block, PatchEmbed, save, sincos_table, with_random_norms  # noqa: E402

OUT = os.path.join(HERE, "data")
U64 = (1 << 64) - 1


def mix(z):
    z = (z + 0x9E3779B97F4A7C15) & U64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & U64
    return z ^ (z >> 31)


def uniform(seed, stream, index):
    bits = mix((mix(seed ^ mix(stream)) + index) & U64)
    return (bits >> 40) * 2.0 ** -24


class MAE(nn.Module):
    def __init__(self, image, patch, channels, dim, heads, mlp, depth, ddim, dheads, dmlp, ddepth, ratio):
        super().__init__()
        self.patch, self.channels, self.ratio = patch, channels, ratio
        grid = image // patch
        self.patch_embed = PatchEmbed(channels, dim, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.register_buffer("pos_embed", sincos_table(grid, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.decoder_embed = nn.Linear(dim, ddim)
        self.mask_token = nn.Parameter(torch.randn(1, 1, ddim) * 0.02)
        self.register_buffer("decoder_pos_embed", sincos_table(grid, ddim))
        self.decoder_blocks = nn.ModuleList([Block(ddim, dheads, dmlp) for _ in range(ddepth)])
        self.decoder_norm = nn.LayerNorm(ddim, eps=1e-6)
        self.decoder_pred = nn.Linear(ddim, patch * patch * channels)

    def forward(self, x, noise):
        tokens = self.patch_embed(x) + self.pos_embed[:, 1:, :]
        n, t, c = tokens.shape
        keep = int(t * (1 - self.ratio))
        ids_shuffle = torch.sort(noise, dim=1, stable=True).indices  # lowest draws first, ties by index
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :keep]
        visible = torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, c))
        mask = torch.ones(n, t)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        z = torch.cat([self.cls_token.expand(n, -1, -1), visible], dim=1)  # its position row is zero
        for b in self.blocks:
            z = b(z)
        z = self.decoder_embed(self.norm(z))
        d = z.shape[2]
        filled = torch.cat([z[:, 1:, :], self.mask_token.expand(n, t - keep, -1)], dim=1)
        filled = torch.gather(filled, 1, ids_restore.unsqueeze(-1).expand(-1, -1, d))
        z = torch.cat([z[:, :1, :], filled], dim=1) + self.decoder_pos_embed
        for b in self.decoder_blocks:
            z = b(z)
        return self.decoder_pred(self.decoder_norm(z))[:, 1:, :], mask

    def patchify(self, images):
        n, c, h, w = images.shape
        p = self.patch
        x = images.reshape(n, c, h // p, p, w // p, p)
        return torch.einsum("nchpwq->nhwpqc", x).reshape(n, (h // p) * (w // p), p * p * c)


def loss_fn(pred, target, mask):
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)  # unbiased, as the MAE code
    target = (target - mean) / (var + 1e-6) ** 0.5
    per_patch = ((pred - target) ** 2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()


def main():
    torch.manual_seed(19)
    model = with_random_norms(MAE(image=8, patch=2, channels=3, dim=8, heads=2, mlp=16, depth=2, ddim=8, dheads=2,
                                  dmlp=16, ddepth=1, ratio=0.75))
    seed, step, mask_seed, n, t = 1, 0, 0x6D61736B, 2, 16
    key = mix(mask_seed ^ mix(step))
    noise = torch.tensor([[uniform(seed, key, b * t + s) for s in range(t)] for b in range(n)], dtype=torch.float64)
    x = torch.rand(n, 3, 8, 8, requires_grad=True)
    y, mask = model(x, noise)
    loss = loss_fn(y, model.patchify(x.detach()), mask)
    loss.backward()
    state = {k: v for k, v in model.state_dict().items()}
    save(os.path.join(OUT, "mae.weights.safetensors"), state)
    io = {"x": x, "y": y, "loss": loss.reshape(1), "mask": mask, "dx": x.grad}
    for name, p in model.named_parameters():
        io["grad." + name] = p.grad
    save(os.path.join(OUT, "mae.io.safetensors"), io)
    print("loss", loss.item(), "written to", OUT)


if __name__ == "__main__":
    main()
