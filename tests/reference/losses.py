#!/usr/bin/python3
"""torch.nn.functional loss values that tests/losses.cpp checks.
Run with Debian's python3-torch: /usr/bin/python3 tests/reference/losses.py"""
import torch
import torch.nn.functional as F

p = torch.tensor([-1.5, 0.0, 0.25, 3.0])
t = torch.tensor([0.0, 1.0, 0.5, 1.0])
print("mse", repr(F.mse_loss(p, t).item()))
print("l1", repr(F.l1_loss(p, t).item()))
print("bce_with_logits", repr(F.binary_cross_entropy_with_logits(p, t).item()))
print("bce(sigmoid)", repr(F.binary_cross_entropy(torch.sigmoid(p), t).item()))
print("bce clamped", repr(F.binary_cross_entropy(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 0.0])).item()))
