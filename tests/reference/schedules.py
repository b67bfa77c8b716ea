#!/usr/bin/python3
"""Learning rates of torch.optim.lr_scheduler at a few steps: the values tests/optim.cpp checks.
Run with Debian's python3-torch: /usr/bin/python3 tests/reference/schedules.py"""
import torch

w = [torch.nn.Parameter(torch.zeros(1))]
makers = {
    "one_cycle": lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=100),
    "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=100, eta_min=0.001),
    "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.1),
    "multi_step": lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[30, 50], gamma=0.1),
}
for name, make in makers.items():
    opt = torch.optim.SGD(w, lr=0.1, momentum=0.9)
    sched = make(opt)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    print(name, ", ".join(f"{{{t}, {lrs[t]!r}}}" for t in (0, 1, 29, 30, 31, 50, 99)))
