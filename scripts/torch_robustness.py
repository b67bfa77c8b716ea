#!/usr/bin/python3
"""The PyTorch side of the robustness study: the ResNet-20 recipe of `hush-robustness --preset full`,
trained with Debian's python3-torch for the clean-only and noisy-only regimes, so docs/results.md can
put hush's table beside PyTorch's; and for seed 004's two paired regimes (mixed, pivot), to tell the
recipe's results from hush's.

    /usr/bin/python3 scripts/torch_robustness.py --out results/torch_robustness          # both regimes
    /usr/bin/python3 scripts/torch_robustness.py --regime clean --epochs 1 --limit 2048  # a smoke run
    /usr/bin/python3 scripts/torch_robustness.py --time-steps 20                         # step time only

The recipe is hush's, written independently here: ResNet-20 of He et al. section 4.2 (16/32/64
channels, 1x1 projection shortcuts with batch norm where the shape changes, PyTorch's default
initialisation, as hush uses), batch 128 with the last partial batch dropped, SGD with Nesterov
momentum 0.9 and weight decay 5e-4, a one-cycle schedule peaking at 0.1 (stepped per batch), random
horizontal flips; the noisy regime adds Gaussian noise with sigma ~ U[0, 0.15] per image, clipped to
[0, 1]. The paired regimes (`--regime mixed|pivot`) draw 64 clean images per step and add a noisy
copy of each (k = 64 of m = 128, as hush-robustness does), so they cover half the data per epoch;
pivot scores the batch with seed 004's eq. 1, (L_org + lambda L_perturb) / ((m - k) + lambda k) +
lambda2 sum ||E' - E||^2 with the clean logits E detached, lambda 0.3, lambda2 1e-4 (`--lambda2`).
The test conditions are drawn here with torch's generator (not hush's), from the same definitions
as hush's noise models (include/hush/noise/): Gaussian, low resolution (box average down, nearest
up) and seed 000's Gaussian(0.1) + salt-and-pepper(U[0.07, 0.09]) + Poisson(peak 30).
Writes OUT/<regime>.csv (one row per epoch) and OUT/summary.md.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def fashion_mnist(folder, split):
    images = read_idx(os.path.join(folder, f"{split}-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    labels = read_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte.gz")).astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet20(nn.Module):
    def __init__(self, channels=1, classes=10, n=3):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stages, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            stages.append(nn.Sequential(*[Block(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)]))
            cin = cout
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def gaussian(x, sigma, gen):
    """x + sigma * z, clipped; sigma a number or a per-image tensor (N, 1, 1, 1)."""
    return (x + sigma * torch.randn(x.shape, generator=gen)).clamp_(0, 1)


def low_res(x, factor):
    return F.interpolate(F.avg_pool2d(x, factor), scale_factor=factor, mode="nearest")


def seed000(x, gen):
    y = gaussian(x, 0.1, gen)
    amount = 0.07 + 0.02 * torch.rand((x.shape[0], 1, 1, 1), generator=gen)
    hit = torch.rand(x.shape, generator=gen) < amount
    salt = torch.rand(x.shape, generator=gen) < 0.5
    y = torch.where(hit, salt.float(), y)
    return (torch.poisson(y * 30.0, generator=gen) / 30.0).clamp_(0, 1)


def test_conditions(images, seed):
    gen = torch.Generator().manual_seed(seed)
    return {
        "clean": images,
        "gaussian 0.05": gaussian(images, 0.05, gen),
        "gaussian 0.15": gaussian(images, 0.15, gen),
        "low-res x2": low_res(images, 2),
        "low-res x4": low_res(images, 4),
        "seed 000 mix": seed000(images, gen),
    }


@torch.no_grad()
def accuracy(model, images, labels, batch=500):
    model.eval()
    hits = 0
    for i in range(0, len(labels), batch):
        hits += (model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum().item()
    return 100.0 * hits / len(labels)


def train(regime, args, train_set, tests, out):
    torch.manual_seed(args.seed)
    images, labels = train_set
    model = ResNet20()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = len(labels) // args.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=args.epochs * steps)
    gen = torch.Generator().manual_seed(args.seed + 1)
    rows = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(labels), generator=gen)
        start, loss_sum, hits = time.time(), 0.0, 0
        for s in range(steps):
            per_step = args.batch // 2 if regime in ("mixed", "pivot") else args.batch
            idx = order[s * per_step:(s + 1) * per_step]
            x, y = images[idx], labels[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
            if regime == "noisy":
                x = gaussian(x, 0.15 * torch.rand((len(idx), 1, 1, 1), generator=gen), gen)
            if regime in ("mixed", "pivot"):  # [X'_1..X'_k, X_1..X_k], k = m/2
                noisy = gaussian(x, 0.15 * torch.rand((len(idx), 1, 1, 1), generator=gen), gen)
                x, y = torch.cat([noisy, x]), torch.cat([y, y])
            logits = model(x)
            if regime == "pivot":
                k = len(idx)
                lam, lam2 = 0.3, args.lambda2
                perturbed = F.cross_entropy(logits[:k], y[:k], reduction="sum")
                clean = F.cross_entropy(logits[k:], y[k:], reduction="sum")
                distance = ((logits[:k] - logits[k:].detach()) ** 2).sum()
                loss = (clean + lam * perturbed) / (k + lam * k) + lam2 * distance
            else:
                loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item()
            hits += (logits.argmax(1) == y).sum().item()
            if (s + 1) % max(1, steps // 10) == 0 or s + 1 == steps:
                rate = (s + 1) / (time.time() - start)
                print(f"{regime} epoch {epoch} {s + 1}/{steps} {rate:.2f} it/s loss {loss_sum / (s + 1):.4f} "
                      f"acc {100.0 * hits / ((s + 1) * args.batch):.2f}%", flush=True)
        train_seconds = time.time() - start
        accs = {name: accuracy(model, x, tests[1]) for name, x in tests[0].items()}
        rows.append((epoch, loss_sum / steps, 100.0 * hits / (steps * args.batch), train_seconds, accs))
        print(f"{regime} epoch {epoch}: train {train_seconds:.1f} s, " +
              ", ".join(f"{k} {v:.2f}%" for k, v in accs.items()), flush=True)
        with open(os.path.join(out, f"{regime}.csv"), "w") as f:
            f.write("epoch,train_loss,train_accuracy,train_seconds," + ",".join(accs) + "\n")
            for e, l, a, t, ac in rows:
                f.write(f"{e},{l:.5f},{a:.3f},{t:.1f}," + ",".join(f"{v:.2f}" for v in ac.values()) + "\n")
    return rows


def time_steps(args, train_set):
    """Median time of a training step (batch args.batch, noisy-regime input), after 3 warm-up steps."""
    torch.manual_seed(args.seed)
    images, labels = train_set
    model = ResNet20()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    times = []
    for s in range(args.time_steps + 3):
        x, y = images[s * args.batch:(s + 1) * args.batch], labels[s * args.batch:(s + 1) * args.batch]
        t = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
    times = sorted(times[3:])
    median = times[len(times) // 2]
    print(f"torch resnet20 training step{' without oneDNN' if args.no_onednn else ''}, batch {args.batch}: median {1000 * median:.1f} ms over {len(times)} steps "
          f"({args.batch / median:.0f} images/s; an epoch of {len(labels) // args.batch} steps: "
          f"{median * (len(labels) // args.batch):.1f} s)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--out", default="results/torch_robustness")
    p.add_argument("--regime", choices=["clean", "noisy", "both", "mixed", "pivot"], default="both")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lambda2", type=float, default=1e-4, help="pivot: weight of the logit distance (seed 004: 1e-4)")
    p.add_argument("--time-steps", type=int, default=0, help="only time this many training steps")
    p.add_argument("--no-onednn", action="store_true",
                   help="run torch's convolutions without oneDNN (mkldnn), to see what it contributes")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.mkldnn.enabled = not args.no_onednn

    train_set = fashion_mnist(args.data, "train")
    if args.limit:
        train_set = (train_set[0][:args.limit], train_set[1][:args.limit])
    if args.time_steps:
        time_steps(args, train_set)
        return
    test_images, test_labels = fashion_mnist(args.data, "t10k")
    tests = (test_conditions(test_images, args.seed), test_labels)
    os.makedirs(args.out, exist_ok=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {len(train_set[1])} training images")
    results = {}
    for regime in (["clean", "noisy"] if args.regime == "both" else [args.regime]):
        start = time.time()
        rows = train(regime, args, train_set, tests, args.out)
        results[regime] = (rows, time.time() - start)

    names = list(next(iter(results.values()))[0][-1][4])
    lines = [f"# PyTorch {torch.__version__}: ResNet-20 on Fashion-MNIST, {args.epochs} epochs", "",
             "| training | " + " | ".join(names) + " | train s/epoch | wall time |",
             "| --- | " + " | ".join("---" for _ in names) + " | --- | --- |"]
    for regime, (rows, wall) in results.items():
        accs, per_epoch = rows[-1][4], sum(r[3] for r in rows) / len(rows)
        label = f"{regime} only" if regime in ("clean", "noisy") else regime
        lines.append(f"| {label} | " + " | ".join(f"{accs[n]:.2f}" for n in names) +
                     f" | {per_epoch:.1f} | {wall / 60:.1f} min |")
    lines += ["", "command: /usr/bin/python3 " + " ".join(sys.argv)]
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
