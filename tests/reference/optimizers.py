#!/usr/bin/python3
"""Weights after three steps of torch.optim.SGD / Adam / AdamW on fixed gradients: what tests/optim.cpp
checks. Run with Debian's python3-torch: /usr/bin/python3 tests/reference/optimizers.py"""
import torch

grads = [[0.5, -1.0, 2.0], [0.1, 0.3, -0.7], [-0.4, 0.2, 0.9]]
configs = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
    "sgd_dampening": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, dampening=0.3),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.05),
}
for name, make in configs.items():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5]))
    opt = make([w])
    for g in grads:
        w.grad = torch.tensor(g)
        opt.step()
    print(name, ", ".join(f"{v:.9g}" for v in w.detach().tolist()))
