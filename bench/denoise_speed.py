#!/usr/bin/python3
"""Denoising a 12-megapixel photo: hush-denoise with the shipped blind denoiser against the same
network in PyTorch (the same weights, the same 512-pixel tiles with 32 pixels of overlap; default
and tuned: channels_last + TorchScript trace, freeze and optimize_for_inference) and OpenCV's non-local means, interleaved in one run.

    /usr/bin/python3 bench/denoise_speed.py [--rounds 3] [--threads 2] [--photo P] [--side 4000x3000]

The photo (default: opencv-doc's fruits) is resized to --side and noised once (Gaussian, var
0.0425, seed 1) into a temporary folder. Each round times, one after the other: hush-denoise's own
figure for the photo (its "in X s" line: padding, tiles and set-up, no file I/O), PyTorch's tile
loop, PyTorch tuned, and non-local means (h = 33, what `hush-denoise table` tuned for this noise).
Prints one JSON line per measurement and a table of median megapixels per second and ratios.
Needs Debian's python3-torch and python3-opencv, and build/bin/hush-denoise."""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from safetensors_file import read_safetensors  # noqa: E402
from torch_denoisers import ResidualUNet  # noqa: E402


def tile_starts(n, t, overlap):
    starts, end, step = [0], max(n, t), t - 2 * overlap
    while starts[-1] + t < end:
        starts.append(min(starts[-1] + step, end - t))
    return starts


def torch_tiles(net, image, tile=512, overlap=32, channels_last=False):
    """hush's tiling (denoise/apply.hpp) in PyTorch: image (C, H, W) float32 -> (C, H, W)."""
    c, h, w = image.shape
    th, tw = min(tile, -(-h // 32) * 32), min(tile, -(-w // 32) * 32)
    ys = tile_starts(h, th, overlap if h > th else 0)
    xs = tile_starts(w, tw, overlap if w > tw else 0)
    x = torch.from_numpy(image)
    pad = torch.nn.functional.pad(x[None], (0, max(0, tw - w), 0, max(0, th - h)), mode="reflect")[0] if (h < th or w < tw) else x
    out = torch.empty_like(x)
    with torch.inference_mode():
        for a, y0 in enumerate(ys):
            for b, x0 in enumerate(xs):
                t = pad[:, y0:y0 + th, x0:x0 + tw][None]
                if channels_last:
                    t = t.contiguous(memory_format=torch.channels_last)
                y = net(t)[0]
                top = 0 if a == 0 else y0 + overlap
                left = 0 if b == 0 else x0 + overlap
                bottom = h if a + 1 == len(ys) else min(h, y0 + th - overlap)
                right = w if b + 1 == len(xs) else min(w, x0 + tw - overlap)
                out[:, top:bottom, left:right] = y[:, top - y0:bottom - y0, left - x0:right - x0]
    return out.numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--photo", default="/usr/share/doc/opencv-doc/examples/data/fruits.jpg")
    ap.add_argument("--side", default="4000x3000")
    ap.add_argument("--weights", default=os.path.join(ROOT, "share/denoisers/blind.safetensors"))
    ap.add_argument("--hush", default=os.path.join(ROOT, "build/bin/hush-denoise"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    w, h = (int(v) for v in args.side.split("x"))
    mp = w * h / 1e6

    state, meta = read_safetensors(args.weights)
    width = int(re.search(r"width=(\d+)", meta["hush.denoiser"]).group(1))
    net = ResidualUNet(channels=3, width=width)
    net.load_state_dict({k: v for k, v in state.items() if k in net.state_dict()})
    net.eval()
    tuned_net = ResidualUNet(channels=3, width=width)
    tuned_net.load_state_dict(net.state_dict())
    tuned_net = tuned_net.eval().to(memory_format=torch.channels_last)
    example = torch.zeros(1, 3, 512, 512).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():  # traced (the module's Python helpers are not scriptable), frozen, optimised
        tuned = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(tuned_net, example)))

    with tempfile.TemporaryDirectory() as tmp:
        clean = cv2.resize(cv2.imread(args.photo), (w, h), interpolation=cv2.INTER_CUBIC)
        rng = np.random.default_rng(1)
        noisy = np.clip(clean / 255.0 + rng.normal(0, 0.0425 ** 0.5, clean.shape), 0, 1)
        noisy8 = np.round(noisy * 255).astype(np.uint8)
        path = os.path.join(tmp, "noisy.png")
        cv2.imwrite(path, noisy8)
        chw = np.ascontiguousarray(cv2.cvtColor(noisy8, cv2.COLOR_BGR2RGB).transpose(2, 0, 1).astype(np.float32) / 255)
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))

        def run_hush():
            out = subprocess.run([args.hush, "--weights", args.weights, path, os.path.join(tmp, "hush.png")],
                                 capture_output=True, text=True, env=env, check=True).stdout
            return float(re.search(r"pixels in ([0-9.]+) s", out).group(1))

        def timed(f):
            t0 = time.perf_counter()
            f()
            return time.perf_counter() - t0

        peers = {
            "hush": run_hush,
            "torch": lambda: timed(lambda: torch_tiles(net, chw)),
            "torch tuned": lambda: timed(lambda: torch_tiles(tuned, chw, channels_last=True)),
            "nlm": lambda: timed(lambda: cv2.fastNlMeansDenoisingColored(noisy8, None, 33, 33, 7, 21)),
        }
        times = {k: [] for k in peers}
        for r in range(args.rounds):
            for name, f in peers.items():
                s = f()
                times[name].append(s)
                print(json.dumps({"round": r + 1, "method": name, "seconds": round(s, 3), "mp_per_s": round(mp / s, 3)}), flush=True)
        # The two networks agree (the same weights, the same tiles): a check, not a timing.
        ours = np.round(np.clip(torch_tiles(net, chw), 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)
        hush_out = cv2.cvtColor(cv2.imread(os.path.join(tmp, "hush.png")), cv2.COLOR_BGR2RGB)
        diff = np.abs(ours.astype(int) - hush_out.astype(int))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{w} x {h} ({mp:.1f} MP), {args.threads} threads, median of {args.rounds} rounds")
    print("| method | seconds | MP/s | hush's speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for k, s in med.items():
        print(f"| {k} | {s:.2f} | {mp / s:.2f} | {s / med['hush']:.2f}x |")
    print(f"\nhush's output against PyTorch's (8-bit): {np.mean(diff == 0) * 100:.2f}% of values equal, "
          f"largest difference {diff.max()} levels")


if __name__ == "__main__":
    main()
