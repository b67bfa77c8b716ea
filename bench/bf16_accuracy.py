#!/usr/bin/python3
"""What bf16 inference costs in accuracy: hush's bf16 convolutions (hush-infer / hush-denoise
--bf16, backend/cpu/tag.hpp's cpu_precision) against PyTorch's CPU autocast to bf16, each
against its own fp32 run.

ResNet-50: torchvision's random initialisation (seed 0, scripts/torchvision_weights.py: no
ImageNet weights can be downloaded on this machine), the same weights in both frameworks, on
every photo under --photos (scripts/photos' 34); top-1 agreement of bf16 with fp32 and the
relative L2 distance between their logits. Denoisers: each --denoiser FILE=NOISE on the test
photos with that noise (hush-noise, seed 1), PSNR against the clean photo in fp32 and in bf16
(hush only: the PSNR's change is what a user of hush-denoise --bf16 sees).

    /usr/bin/python3 bench/bf16_accuracy.py --out /tmp/bf16
    /usr/bin/python3 bench/bf16_accuracy.py --denoiser share/denoisers/blind.safetensors=seed001 \\
        --denoiser results/seed003_w32/poisson-unet-sup/weights.safetensors=n2n_poisson

Exits with 77 (skipped) and says why on a CPU that does not multiply bf16.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

import cv2
import numpy as np
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from safetensors_file import read_safetensors  # noqa: E402


def sh(*args):
    done = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"bf16_accuracy: {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def torchvision_input(path):
    """hush-infer's preprocessing (tools/infer.cpp): shorter side to 256 (bilinear, OpenCV), centre
    224 crop, RGB in [0, 1], ImageNet's mean and deviation."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    scale = 256 / min(image.shape[:2])
    w, h = max(224, round(image.shape[1] * scale)), max(224, round(image.shape[0] * scale))
    image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
    top, left = (h - 224) // 2, (w - 224) // 2
    image = cv2.cvtColor(image[top:top + 224, left:left + 224], cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    return torch.from_numpy(((image - mean) / std).transpose(2, 0, 1).copy())


def compare(fp32, bf16):
    """(top-1 agreements, count, relative L2 distance of the logits)."""
    agree = int((fp32.argmax(1) == bf16.argmax(1)).sum())
    return agree, fp32.shape[0], float(np.linalg.norm(fp32 - bf16) / np.linalg.norm(fp32))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--photos", default=os.path.join(ROOT, "results", "photos"), help="folder of photos (searched recursively)")
    p.add_argument("--test", default=None, help="the denoisers' clean photos (default: PHOTOS/test)")
    p.add_argument("--denoiser", action="append", default=None,
                   help="FILE=NOISE: a denoiser's weights and the noise spec it is scored on (repeat)")
    p.add_argument("--out", default="/tmp/hush-bf16", help="folder for the weights, logits and noisy photos")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    denoisers = a.denoiser or [os.path.join(ROOT, "share", "denoisers", "blind.safetensors") + "=seed001"]
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(a.threads)
    env_threads = {"OMP_NUM_THREADS": str(a.threads)}
    os.environ.update(env_threads)

    photos = sorted(f for f in glob.glob(os.path.join(a.photos, "**", "*"), recursive=True)
                    if re.search(r"\.(png|jpe?g|bmp|tiff?|webp)$", f, re.I))
    if not photos:
        sys.exit(f"bf16_accuracy: no photos under {a.photos} (scripts/photos lays them out)")

    # ResNet-50, one set of random weights in both frameworks.
    weights = os.path.join(a.out, "resnet50.safetensors")
    if not os.path.exists(weights):
        sh(sys.executable, os.path.join(ROOT, "scripts", "torchvision_weights.py"), "resnet50", weights)
    logits = {}
    for precision in ["fp32", "bf16"]:
        out = os.path.join(a.out, f"hush_{precision}.safetensors")
        args = [os.path.join(BIN, "hush-infer"), "--model", "resnet50", "--weights", weights, "--output", out, "--image", *photos]
        done = subprocess.run(args + (["--bf16"] if precision == "bf16" else []), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        if done.returncode != 0 and "multiplies bf16" in done.stderr:
            print(f"bf16_accuracy: skipped: {done.stderr.strip()}", file=sys.stderr)
            return 77
        if done.returncode != 0:
            sys.exit(f"bf16_accuracy: {' '.join(args)} failed:\n{done.stderr}")
        logits[("hush", precision)] = read_safetensors(out)[0]["logits"].numpy()
    model = torchvision.models.resnet50()
    model.load_state_dict(read_safetensors(weights)[0])
    model.eval()
    x = torch.stack([torchvision_input(f) for f in photos])
    with torch.inference_mode():
        logits[("torch", "fp32")] = model(x).numpy()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits[("torch", "bf16")] = model(x).float().numpy()

    lines = [f"ResNet-50 (torchvision's random initialisation, seed 0), {len(photos)} photos under {a.photos}, "
             f"torch {torch.__version__}:", "",
             "| framework | bf16 top-1 = fp32 top-1 | logits' relative L2 distance, bf16 to fp32 |", "| --- | ---: | ---: |"]
    for framework, title in [("hush", "hush --bf16"), ("torch", "PyTorch autocast")]:
        agree, n, dist = compare(logits[(framework, "fp32")], logits[(framework, "bf16")])
        lines.append(f"| {title} | {agree} / {n} | {dist:.2e} |")
    agree, n, dist = compare(logits[("torch", "fp32")], logits[("hush", "fp32")])
    lines += ["", f"(fp32 hush against fp32 PyTorch on the same photos: top-1 {agree} / {n}, relative distance {dist:.2e})"]

    # Denoisers: PSNR in fp32 and bf16 on the test photos.
    test = sorted(glob.glob(os.path.join(a.test or os.path.join(a.photos, "test"), "*")))
    lines += ["", f"Denoisers on {len(test)} photos of {a.test or os.path.join(a.photos, 'test')} (hush-denoise, PSNR in dB, mean):", "",
              "| denoiser | noise | noisy | fp32 | bf16 | bf16 - fp32 | largest change on one photo |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for d, spec in enumerate(denoisers):
        path, noise = spec.split("=", 1)  # the noise spec has its own '='s
        psnr = {"noisy": [], "fp32": [], "bf16": []}
        for i, clean in enumerate(test):
            noisy = os.path.join(a.out, f"noisy_{d}_{i}.png")
            sh(os.path.join(BIN, "hush-noise"), "--spec", noise, "--seed", "1", clean, noisy)
            for precision in ["fp32", "bf16"]:
                text = sh(os.path.join(BIN, "hush-denoise"), "--weights", path, "--reference", clean, noisy,
                          os.path.join(a.out, f"denoised_{precision}.png"), *(["--bf16"] if precision == "bf16" else []))
                psnr[precision].append(float(re.search(r"denoised: psnr=([0-9.]+)", text).group(1)))
            psnr["noisy"].append(float(re.search(r"noisy: psnr=([0-9.]+)", text).group(1)))
        mean = {k: sum(v) / len(v) for k, v in psnr.items()}
        worst = max(abs(b - f) for b, f in zip(psnr["bf16"], psnr["fp32"]))
        lines.append(f"| {os.path.relpath(path, ROOT)} | {noise} | {mean['noisy']:.2f} | {mean['fp32']:.3f} | "
                     f"{mean['bf16']:.3f} | {mean['bf16'] - mean['fp32']:+.3f} | {worst:.3f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
