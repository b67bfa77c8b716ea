#!/usr/bin/python3
"""Eval-mode outputs of torchvision's VGG-16 and VGG-19 and of the start of VGG-19's features
(features[:9], to relu2_2: a content loss's network) and of VGG-16's whole features, for tests/models.cpp, with the weight
formula of torchvision_resnets.py (no weight file committed) times sqrt(6) on weights of rank 2
and more (variance 2/fan_in: the activations keep their scale through 16 layers, where the plain
formula's fade to the biases). VGG-16 and VGG-19 at 32x32 (the adaptive pool repeats features'
1x1 output to 7x7), VGG-16's features at 64x64, VGG-19's first nine at 24x20; and the content
loss on those nine (losses/perceptual.hpp) with its gradient, on colour and grey images. Writes tests/reference/data/vgg.safetensors.
Run: /usr/bin/python3 tests/reference/torchvision_vgg.py"""
import os
import sys

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
sys.path.insert(0, HERE)
from safetensors_file import write_safetensors  # noqa: E402
from torchvision_resnets import formula  # noqa: E402

GAIN = np.float32(np.sqrt(6.0))


def main():
    tensors = {}
    vgg16, vgg19 = torchvision.models.vgg16(), torchvision.models.vgg19()
    cases = [("vgg16", vgg16, [1, 3, 32, 32]), ("vgg19", vgg19, [1, 3, 32, 32]),
             ("vgg16_features", torch.nn.Sequential(vgg16.features), [1, 3, 64, 64]),
             ("vgg19_features9", torch.nn.Sequential(torch.nn.Sequential(*vgg19.features[:9])), [2, 3, 24, 20])]
    for name, net, shape in cases:
        state = {}
        for k, v in net.state_dict().items():
            key = k.replace("0.", "features.", 1) if "features" in name else k  # torchvision's names
            w = formula(key, list(v.shape))
            state[k] = torch.from_numpy(w * GAIN if len(v.shape) > 1 else w)
        net.load_state_dict(state)
        net.eval()
        x = torch.from_numpy(formula("input", shape) * np.float32(16) + np.float32(0.5))
        with torch.no_grad():
            tensors[name + ".input"] = x.clone()
            tensors[name + ".output"] = net(x)
        print(name, list(tensors[name + ".output"].shape), tensors[name + ".output"].flatten()[:3].tolist())
    # The content loss mean((F(n(p)) - F(n(t)))^2), F = VGG-19's features[:9] (the weights above), n
    # torchvision's ImageNet normalisation, grey images repeated to three channels: value and dL/dp.
    f = torch.nn.Sequential(*vgg19.features[:9]).eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    for name, channels in (("perceptual", 3), ("perceptual_grey", 1)):
        shape = [2, channels, 24, 20]
        p = torch.from_numpy(formula(name + ".pred", shape) * np.float32(16) + np.float32(0.5)).requires_grad_()
        t = torch.from_numpy(formula(name + ".target", shape) * np.float32(16) + np.float32(0.5))
        def n(x):
            return (x.expand(-1, 3, -1, -1) - mean) / std
        loss = torch.nn.functional.mse_loss(f(n(p)), f(n(t)))
        loss.backward()
        tensors[name + ".loss"] = loss.detach().reshape(1)
        tensors[name + ".grad"] = p.grad
        print(name, loss.item())
    write_safetensors(os.path.join(HERE, "data", "vgg.safetensors"), tensors)


if __name__ == "__main__":
    main()
