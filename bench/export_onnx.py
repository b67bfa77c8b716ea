#!/usr/bin/python3
"""Exports the inference workloads' models to ONNX for bench/ort_peer.mjs (ONNX Runtime), with
Debian's torch.onnx: torchvision's ResNet-50 and torch_peer.py's Noise2Noise U-Net, random
weights (speed does not depend on them), batch, height and width left dynamic.

    /usr/bin/python3 bench/export_onnx.py build/onnx     # resnet50.onnx, unet.onnx (~105 MB)
"""
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_peer import N2NUNet  # noqa: E402


def export(model, example, path, output_axes):
    model.eval()
    with torch.no_grad():
        torch.onnx.export(model, example, path, opset_version=17, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch", 2: "height", 3: "width"}, "y": output_axes})
    print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "onnx")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    export(torchvision.models.resnet50(num_classes=1000), torch.rand(1, 3, 224, 224), os.path.join(out, "resnet50.onnx"),
           {0: "batch"})
    export(N2NUNet(), torch.rand(1, 3, 256, 256), os.path.join(out, "unet.onnx"),
           {0: "batch", 2: "height", 3: "width"})


if __name__ == "__main__":
    main()
