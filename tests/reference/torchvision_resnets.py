#!/usr/bin/python3
"""Eval-mode logits of torchvision's resnet18/34/50 and of the CIFAR ResNet-20/56/110, and eval-mode
outputs of the Noise2Noise U-Net and the DCGAN discriminator (as bench/torch_peer.py defines them,
at 64x64), for tests/models.cpp, with weights that both sides compute from a formula (so no 100 MB weight file
is committed): every value of tensor `name` at flat index i is
    u = ((i * 2654435761 + fnv1a32(name)) mod 2^32) / 2^32 - 0.5
scaled by kind: conv/linear weights 2u/sqrt(fan_in); batch-norm weight 1 + 0.4u, bias 0.2u,
running_mean 0.2u, running_var 1 + u; linear bias 0.2u. The input image at index i is u of the
name "input" + 0.5. Writes tests/reference/data/resnets.safetensors. Run with Debian's
python3-torch and python3-torchvision: /usr/bin/python3 tests/reference/torchvision_resnets.py"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from safetensors_file import write_safetensors  # noqa: E402
from torch_peer import N2NUNet, make_discriminator  # noqa: E402  (the harness's definitions)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def fnv1a32(text):
    h = 0x811C9DC5
    for c in text.encode():
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h


def formula(name, shape):
    n = int(np.prod(shape)) if shape else 1
    i = np.arange(n, dtype=np.uint64)
    u = ((i * np.uint64(2654435761) + np.uint64(fnv1a32(name))) % np.uint64(2**32)).astype(np.float64) / 2**32 - 0.5
    if name.endswith("running_mean") or name.endswith(".bias") and len(shape) == 1:
        v = 0.2 * u
    elif name.endswith("running_var"):
        v = 1.0 + u
    elif len(shape) == 1:  # batch-norm weight
        v = 1.0 + 0.4 * u
    else:
        v = 2.0 * u / np.sqrt(n / shape[0])
    return v.astype(np.float32).reshape(shape)


def cifar_resnet(blocks=3, classes=10):
    """He et al. §4.2 with projection shortcuts, torchvision-style names: `blocks` per stage, 3 for
    hush::models::resnet20, 9 for resnet56, 18 for resnet110."""
    from torchvision.models.resnet import BasicBlock

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.relu = nn.ReLU()
            def stage(cin, cout, stride):
                down = None
                if stride != 1 or cin != cout:
                    down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                return nn.Sequential(BasicBlock(cin, cout, stride, down), *[BasicBlock(cout, cout) for _ in range(blocks - 1)])
            self.layer1, self.layer2, self.layer3 = stage(16, 16, 1), stage(16, 32, 2), stage(32, 64, 2)
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(64, classes)

        def forward(self, x):
            x = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net()


def main():
    tensors = {}
    for name, net, size in [("resnet18", torchvision.models.resnet18(), 64), ("resnet34", torchvision.models.resnet34(), 64),
                            ("resnet50", torchvision.models.resnet50(), 64), ("resnet20", cifar_resnet(3), 32),
                            ("resnet56", cifar_resnet(9), 32), ("resnet110", cifar_resnet(18), 32),
                            ("unet", N2NUNet(), 64), ("dcgan_discriminator", make_discriminator(64), 64)]:
        state = {k: torch.from_numpy(formula(k, list(v.shape))) if v.dtype == torch.float32 else v
                 for k, v in net.state_dict().items()}
        net.load_state_dict(state)
        net.eval()
        x = torch.from_numpy(formula("input", [2, 3, size, size]) + 0.5)
        with torch.no_grad():
            tensors[name + ".input"] = x.clone()
            tensors[name + ".logits"] = net(x)
        print(name, tensors[name + ".logits"].flatten()[:4].tolist())
        if name == "resnet20":  # a real PyTorch state_dict file (1 MB) and a one-tensor input file
            write_safetensors(os.path.join(OUT, "resnet20.weights.safetensors"), dict(net.state_dict()))
            write_safetensors(os.path.join(OUT, "resnet20_input.safetensors"), {"images": x})
    write_safetensors(os.path.join(OUT, "resnets.safetensors"), tensors)


if __name__ == "__main__":
    main()
