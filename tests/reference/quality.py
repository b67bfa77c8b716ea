#!/usr/bin/python3
"""Reference MSE, PSNR and SSIM from scikit-image for tests/quality.cpp.
Two image pairs (a grey crop and a colour crop of skimage's astronaut, each against a copy
corrupted with seeded numpy noise) are written with the expected values to
tests/reference/data/quality_<name>.safetensors (images as (C, H, W) float32, values as 1-element
float32 arrays). Run with Debian's python3-skimage: /usr/bin/python3 tests/reference/quality.py"""
import json
import os
import struct

import numpy as np
from skimage import data
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def save(path, arrays):
    header, blobs, offset = {}, [], 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name], dtype=np.float32)
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def case(name, clean):
    rng = np.random.default_rng(2004)
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape) + (rng.random(clean.shape) < 0.03), 0, 1)
    clean, noisy = clean.astype(np.float32), noisy.astype(np.float32)
    channel_axis = 2 if clean.ndim == 3 else None
    ssim = structural_similarity(clean, noisy, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=1, channel_axis=channel_axis)
    chw = lambda im: im.transpose(2, 0, 1) if im.ndim == 3 else im[None]
    values = {"mse": mean_squared_error(clean, noisy), "psnr": peak_signal_noise_ratio(clean, noisy, data_range=1),
              "ssim": ssim}
    save(os.path.join(OUT, f"quality_{name}.safetensors"),
         {"reference": chw(clean), "test": chw(noisy), **{k: np.array([v]) for k, v in values.items()}})
    print(name, values)


os.makedirs(OUT, exist_ok=True)
astronaut = data.astronaut().astype(np.float64) / 255.0
case("grey", astronaut[100:164, 180:260].mean(axis=2))
case("colour", astronaut[30:78, 150:206])
