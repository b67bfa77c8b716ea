#!/usr/bin/python3
"""Why pivot loss is unstable on the robustness study's recipe: traces, step by step, what its
terms do during the first epochs of `torch_robustness.py --regime pivot` (the same ResNet-20,
recipe, batches and seed), for several values of lambda2 and, optionally, with gradient clipping.

    /usr/bin/python3 scripts/pivot_dynamics.py --out results/pivot_dynamics            # lambda2 1e-4, 3e-5, 1e-5
    /usr/bin/python3 scripts/pivot_dynamics.py --lambda2 1e-4 --clip 5 --out /tmp/clip  # one variant, clipped

Per window of 26 steps it records the mean per-image cross-entropy of the clean and the perturbed
rows, the distance term per pair ||E' - E||^2, the gradient's global norm (mean and max) and the
largest |logit|; writes OUT/<variant>.csv and OUT/pivot_dynamics.png (max |logit| and distance per
pair against the step, one line per variant). A variant stops early once its loss is not finite.
"""
import argparse
import math
import os
import time

import torch
import torch.nn.functional as F

import torch_robustness as tr


def trace(lam2, clip, args, images, labels):
    """Pivot loss (lambda 0.3, k = 64 of m = 128) with the given lambda2; returns rows of the trace."""
    torch.manual_seed(args.seed)
    model = tr.ResNet20()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = len(labels) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10 * steps)  # the 10-epoch schedule
    gen = torch.Generator().manual_seed(args.seed + 1)
    rows, window, k, lam = [], [], 64, 0.3
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(labels), generator=gen)
        for s in range(steps):  # the batches of torch_robustness.py's pivot regime, draw for draw
            idx = order[s * k:(s + 1) * k]
            x, y = images[idx], labels[idx]
            flip = torch.rand(k, generator=gen) < 0.5
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
            noisy = tr.gaussian(x, 0.15 * torch.rand((k, 1, 1, 1), generator=gen), gen)
            x, y = torch.cat([noisy, x]), torch.cat([y, y])
            logits = model(x)
            perturbed = F.cross_entropy(logits[:k], y[:k], reduction="sum")
            clean = F.cross_entropy(logits[k:], y[k:], reduction="sum")
            distance = ((logits[:k] - logits[k:].detach()) ** 2).sum()
            loss = (clean + lam * perturbed) / (k + lam * k) + lam2 * distance
            opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip > 0 else math.inf).item()
            opt.step()
            sched.step()
            window.append((clean.item() / k, perturbed.item() / k, distance.item() / k, norm,
                           logits.detach().abs().max().item()))
            if len(window) == 26 or s + 1 == steps:
                cols = list(zip(*window))
                mean = [sum(c) / len(c) for c in cols]
                rows.append((epoch, (epoch - 1) * steps + s + 1, sched.get_last_lr()[0], mean[0], mean[1], mean[2],
                             mean[3], max(cols[3]), max(cols[4])))
                window = []
                print(f"lambda2 {lam2:g}{f' clip {clip:g}' if clip else ''} epoch {epoch} step {s + 1}: "
                      f"lr {rows[-1][2]:.4f}, CE clean {mean[0]:.3f}, perturbed {mean[1]:.3f}, distance/pair "
                      f"{mean[2]:.2f}, grad norm {mean[3]:.2f} (max {max(cols[3]):.2f}), max |logit| {max(cols[4]):.1f}",
                      flush=True)
                if not math.isfinite(loss.item()):
                    return rows
    return rows


def plot(traces, out, seed):
    """OUT/pivot_dynamics.png: the largest |logit| and the distance per pair against the step, a line
    per variant; a variant whose loss became NaN ends in a cross at the top of the panel."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    top = 1e5
    for name, rows in traces.items():
        for ax, col in zip(axes, (8, 5)):
            steps = [r[1] for r in rows]
            values = [r[col] for r in rows]
            line, = ax.plot(steps, [min(v, top) if math.isfinite(v) else top for v in values], label=name)
            if not all(math.isfinite(v) for v in rows[-1]):
                ax.plot(steps[-1], top, "x", color=line.get_color(), markersize=9)
    for ax, title in zip(axes, ["largest |logit| in the batch", "distance term per pair, ||E' - E||^2"]):
        ax.set_yscale("log")
        ax.set_ylim(top=top * 1.5)
        ax.set_xlabel("step (468 per epoch; one-cycle peak at step 1,404)")
        ax.set_title(title + " (x: NaN)")
        ax.legend()
    fig.suptitle("Pivot loss on ResNet-20 / Fashion-MNIST, PyTorch, seed %d" % seed)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "pivot_dynamics.png"), dpi=100)
    print("wrote", os.path.join(out, "pivot_dynamics.png"))


def read_traces(out):
    """The traces a previous run wrote to OUT, by variant name, the largest lambda2 first."""
    files = [f for f in os.listdir(out) if f.startswith("lambda2_") and f.endswith(".csv")]
    traces = {}
    for f in sorted(files, key=lambda f: (-float(f.split("_")[1].removesuffix(".csv")), "clip" in f)):
        with open(os.path.join(out, f)) as fh:
            next(fh)
            name = f[:-4].replace("_", " ", 1).replace("_clip_", ", clip ")
            traces[name] = [[float(v) for v in line.split(",")] for line in fh]
    return traces


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--out", default="results/pivot_dynamics")
    p.add_argument("--lambda2", type=float, nargs="+", default=[1e-4, 3e-5, 1e-5])
    p.add_argument("--clip", type=float, default=0, help="clip the gradient's global norm at this (0: never)")
    p.add_argument("--epochs", type=int, default=3, help="epochs traced, of the 10-epoch schedule")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--replot", action="store_true", help="only redraw OUT/pivot_dynamics.png from OUT's CSV files")
    args = p.parse_args()
    if args.replot:
        plot(read_traces(args.out), args.out, args.seed)
        return
    torch.set_num_threads(args.threads)
    images, labels = tr.fashion_mnist(args.data, "train")
    os.makedirs(args.out, exist_ok=True)
    traces = {}
    for lam2 in args.lambda2:
        start = time.time()
        name = f"lambda2 {lam2:g}" + (f", clip {args.clip:g}" if args.clip else "")
        traces[name] = trace(lam2, args.clip, args, images, labels)
        with open(os.path.join(args.out, name.replace(" ", "_").replace(",", "") + ".csv"), "w") as f:
            f.write("epoch,step,lr,ce_clean,ce_perturbed,distance_per_pair,grad_norm,grad_norm_max,max_abs_logit\n")
            for r in traces[name]:
                f.write(",".join(f"{v:.6g}" for v in r) + "\n")
        print(f"{name}: {time.time() - start:.0f} s", flush=True)

    plot(traces, args.out, args.seed)


if __name__ == "__main__":
    main()
