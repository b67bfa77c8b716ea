#!/usr/bin/python3
"""Eval-mode outputs of hush's denoisers as PyTorch computes them (bench/torch_denoisers.py), for
tests/models.cpp, with the weight formula of torchvision_resnets.py (no weight file committed):
DnCNN-17 (1 channel, width 16) on a 20x24 image, the residual U-Net (width 8) and the ResNet-18
U-Net at 64x64, the ResNet-50 U-Net at 64x64 with batch 1. Stores each input and the network's
correction y - x (the residual is what the layers compute; y itself is mostly x). Convolution
weights are the formula's times sqrt(6) in float32 (variance 2/fan_in, He's), so that the deepest
stage still moves the output: with the plain formula, activations fade by half a decade per layer
and a wrong layer4 would change the correction by 1e-7 of itself. Writes
tests/reference/data/denoisers.safetensors. Run: /usr/bin/python3 tests/reference/denoisers.py"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
sys.path.insert(0, HERE)
from torch_denoisers import DnCNN, ResidualUNet, ResNetUNet  # noqa: E402
from safetensors_file import write_safetensors  # noqa: E402
from torchvision_resnets import formula  # noqa: E402


GAIN = np.float32(np.sqrt(6.0))


def weights(name, shape):
    v = formula(name, shape)
    return v * GAIN if len(shape) > 1 else v


def main():
    torch.manual_seed(0)
    tensors = {}
    cases = [("dncnn17", DnCNN(channels=1, width=16), [2, 1, 20, 24]),
             ("residual_unet", ResidualUNet(channels=3, width=8), [2, 3, 64, 64]),
             ("resnet18_unet", ResNetUNet("resnet18"), [2, 3, 64, 64]),
             ("resnet50_unet", ResNetUNet("resnet50"), [1, 3, 64, 64])]
    for name, net, shape in cases:
        state = {k: torch.from_numpy(weights(k, list(v.shape))) if v.dtype == torch.float32 else v
                 for k, v in net.state_dict().items()}
        net.load_state_dict(state)
        net.eval()
        x = torch.from_numpy(formula("input", shape) + 0.5)
        with torch.no_grad():
            tensors[name + ".input"] = x.clone()
            tensors[name + ".correction"] = net(x) - x
        print(name, sum(p.numel() for p in net.parameters()), tensors[name + ".correction"].flatten()[:3].tolist())
    write_safetensors(os.path.join(HERE, "data", "denoisers.safetensors"), tensors)


if __name__ == "__main__":
    main()
