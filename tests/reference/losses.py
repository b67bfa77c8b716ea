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

# Pivot loss (seed 004, eq. 1) on a batch of m = 6 logits (K = 4): rows 0..1 perturbed copies of
# rows 2..3, lambda = 0.3, lambda2 = 0.05; the clean logits are detached in the distance term.
z = torch.tensor([[0.5 * ((3 * i + j) % 7) - 1.0 + 0.1 * i for j in range(4)] for i in range(6)], requires_grad=True)
y = torch.tensor([1, 3, 1, 3, 0, 2])
k, m, lam, lam2 = 2, 6, 0.3, 0.05
ce = F.cross_entropy(z, y, reduction="none")
loss = (ce[k:].sum() + lam * ce[:k].sum()) / ((m - k) + lam * k) + lam2 * ((z[:k] - z[k:2 * k].detach()) ** 2).sum()
loss.backward()
print("pivot", repr(loss.item()))
print("pivot grad", [round(v, 7) for v in z.grad.flatten().tolist()])

# Noise2Noise's annealed L0, (|p - t| + 1e-8)^gamma averaged, at gamma = 1.5 and 0.5, with its
# gradient; and the masked L2 of multiplicative Bernoulli noise, mean of m * (p - t)^2.
for gamma in (1.5, 0.5):
    q = p.clone().requires_grad_(True)
    l0 = ((q - t).abs() + 1e-8).pow(gamma).mean()
    l0.backward()
    print("l0", gamma, repr(l0.item()), [round(v, 7) for v in q.grad.tolist()])
m = torch.tensor([1.0, 0.0, 1.0, 1.0])
q = p.clone().requires_grad_(True)
masked = (m * (q - t) ** 2).mean()
masked.backward()
print("masked_mse", repr(masked.item()), [round(v, 7) for v in q.grad.tolist()])
