#!/usr/bin/python3
"""The PyTorch cross-check of a denoiser training recipe (issue 17): the same recipe trained by
`hush-denoise train` and, written independently here, by Debian's python3-torch; then both weight
files are scored by `hush-denoise table` on the same noisy test photos, so only the training
differs. The recipe is seed 003's Gaussian one on hush's shipped architecture:

    /usr/bin/python3 scripts/torch_denoiser.py [--out results/torch_denoiser] [--photos results/photos]
    /usr/bin/python3 scripts/torch_denoiser.py --epochs 1 --steps 5 --out /tmp/smoke   # a smoke run

Seed 001's residual U-Net at width 16 (bench/torch_denoisers.py, hush's names), PyTorch's default
initialisation (as hush uses), supervised pairs (noisy -> clean), L2 loss, 5 epochs of 200 steps,
batch 8 of 96-pixel crops: each picks a training photo with probability proportional to its
area, a position and a left-right flip, all uniform; Gaussian noise with sigma ~ U[0, 50/255] per
crop (the n2n_gaussian preset), clipped to [0, 1]; Adam (0.9, 0.999, 1e-8) at 1e-3, cosine decay
to 1e-5 over the run, stepped per batch. The crops and noise are drawn with numpy's generator,
not hush's, from the same definitions. Test: Gaussian sigma = 25/255 on scripts/photos' test set,
non-local means tuned on its val set. Writes OUT/hush/ (hush's run, skipped when done),
OUT/torch/weights.safetensors (with the metadata hush-denoise reads), OUT/table.md and OUT/torch.csv.
"""
import argparse
import math
import os
import subprocess
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from safetensors_file import read_safetensors, write_safetensors  # noqa: E402
from torch_denoisers import ResidualUNet  # noqa: E402

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".pnm", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


def load_photos(folder):
    """Every image of the folder as RGB uint8 (H, W, 3), sorted by name."""
    photos = []
    for name in sorted(os.listdir(folder)):
        if name.lower().endswith(IMAGE_EXTENSIONS):
            bgr = cv2.imread(os.path.join(folder, name), cv2.IMREAD_COLOR)
            if bgr is None:
                sys.exit(f"torch_denoiser: {os.path.join(folder, name)}: not an image OpenCV can read")
            photos.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    if not photos:
        sys.exit(f"torch_denoiser: {folder}: no images")
    return photos


def batch(photos, rng, count, side, sigma_max):
    """(clean, noisy) float32 tensors (count, 3, side, side)."""
    areas = np.cumsum([p.shape[0] * p.shape[1] for p in photos])
    clean = np.empty((count, 3, side, side), np.float32)
    for k in range(count):
        p = photos[min(int(np.searchsorted(areas, rng.uniform() * areas[-1], side="right")), len(photos) - 1)]
        y = int(rng.uniform() * (p.shape[0] - side + 1))
        x = int(rng.uniform() * (p.shape[1] - side + 1))
        crop = p[y:y + side, x:x + side]
        if rng.uniform() < 0.5:
            crop = crop[:, ::-1]
        clean[k] = crop.transpose(2, 0, 1) / np.float32(255)
    sigma = rng.uniform(0, sigma_max, size=(count, 1, 1, 1)).astype(np.float32)
    noisy = np.clip(clean + sigma * rng.standard_normal(clean.shape, dtype=np.float32), 0, 1)
    return torch.from_numpy(clean), torch.from_numpy(noisy)


def train_torch(args, photos, out_dir, like):
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = ResidualUNet(channels=3, width=args.width)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    total, min_lr = args.epochs * args.steps, args.lr / 100
    os.makedirs(out_dir, exist_ok=True)
    log = ["epoch,loss,seconds"]
    step = 0
    for epoch in range(1, args.epochs + 1):
        net.train()
        t0, loss_sum = time.perf_counter(), 0.0
        for s in range(args.steps):
            for g in opt.param_groups:
                g["lr"] = min_lr + (args.lr - min_lr) * 0.5 * (1 + math.cos(math.pi * step / total))
            clean, noisy = batch(photos, rng, args.batch, args.crop, args.sigma_max)
            loss = F.mse_loss(net(noisy), clean)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.item()
            if (s + 1) % max(1, args.steps // 5) == 0:
                print(f"torch epoch {epoch}/{args.epochs} {s + 1}/{args.steps} loss {loss_sum / (s + 1):.5f}", flush=True)
        seconds = time.perf_counter() - t0
        log.append(f"{epoch},{loss_sum / args.steps:.6f},{seconds:.1f}")
        print(f"torch epoch {epoch}: loss {loss_sum / args.steps:.5f} ({seconds:.1f} s)", flush=True)
    _, meta = read_safetensors(like)
    meta = dict(meta, **{"hush.epoch": str(args.epochs), "source": "scripts/torch_denoiser.py (PyTorch training)"})
    write_safetensors(os.path.join(out_dir, "weights.safetensors"), net.state_dict(), meta)
    with open(os.path.join(os.path.dirname(out_dir), "torch.csv"), "w") as f:
        f.write("\n".join(log) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "results/torch_denoiser"))
    ap.add_argument("--photos", default=os.path.join(ROOT, "results/photos"))
    ap.add_argument("--hush", default=os.path.join(ROOT, "build/bin/hush-denoise"))
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=96)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--sigma-max", type=float, default=0.196)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    photos = os.path.abspath(args.photos)
    hush_dir, torch_dir = os.path.join(args.out, "hush"), os.path.join(args.out, "torch")

    # hush's side: the same recipe through the command line (a finished run is kept).
    if not os.path.exists(os.path.join(hush_dir, "done")):
        t0 = time.perf_counter()
        subprocess.run([args.hush, "train", "--train", f"{photos}/train", "--val", f"{photos}/val", "--out", hush_dir,
                        "--model", "residual_unet", "--width", str(args.width), "--noise", f"gaussian(sigma=0..{args.sigma_max})",
                        "--pairs", "supervised", "--loss", "l2", "--epochs", str(args.epochs), "--steps", str(args.steps),
                        "--batch", str(args.batch), "--crop", str(args.crop), "--lr", str(args.lr), "--seed", str(args.seed)],
                       check=True, env=env)
        with open(os.path.join(hush_dir, "done"), "w") as f:
            f.write(f"{time.perf_counter() - t0:.0f}\n")

    t0 = time.perf_counter()
    train_torch(args, load_photos(os.path.join(photos, "train")), torch_dir, os.path.join(hush_dir, "weights.safetensors"))
    print(f"torch: trained in {time.perf_counter() - t0:.0f} s", flush=True)

    table = os.path.join(args.out, "table.md")
    subprocess.run([args.hush, "table", "--val", f"{photos}/val", "--set", f"test={photos}/test",
                    "--noise", "gaussian=gaussian(sigma=0.098)",
                    "--weights", f"hush={hush_dir}/weights.safetensors", "--weights", f"torch={torch_dir}/weights.safetensors",
                    "--out", table], check=True, env=env)
    print(open(table).read())


if __name__ == "__main__":
    main()
