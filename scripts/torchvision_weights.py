#!/usr/bin/python3
"""A torchvision model's state_dict as safetensors, the file hush reads (hush-infer --weights,
hush::load_weights, a content loss's feature network):

  /usr/bin/python3 scripts/torchvision_weights.py MODEL OUT.safetensors [--state-dict FILE.pth] [--check]

MODEL is any torchvision.models name (vgg16, vgg19, resnet50, ...). With --state-dict, the
weights are that file's (torchvision's pretrained files, e.g. vgg19-dcbb9e9d.pth, downloaded
where a network is at hand); without it, the model's own random initialisation (seed 0): no
pretrained weights can be downloaded on this machine. --check also runs build/bin/hush-infer on a
random batch (2, 3, 224, 224) and prints the largest difference between its logits and
PyTorch's (eval mode)."""
import argparse
import os
import subprocess
import sys
import tempfile

import torch
import torchvision

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from safetensors_file import read_safetensors, write_safetensors  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--state-dict", help="a torchvision .pth file to convert (default: random initialisation)")
    p.add_argument("--check", action="store_true", help="compare hush-infer's logits with PyTorch's")
    p.add_argument("--hush-infer", default=os.path.join(ROOT, "build", "bin", "hush-infer"))
    a = p.parse_args()
    if not hasattr(torchvision.models, a.model):
        sys.exit(f"torchvision_weights.py: torchvision has no model '{a.model}'")
    torch.manual_seed(0)
    net = getattr(torchvision.models, a.model)()
    if a.state_dict:
        net.load_state_dict(torch.load(a.state_dict, map_location="cpu"))
    else:  # torchvision starts vit_b_16's head at zero: every logit would be 0 and --check would check nothing
        with torch.no_grad():
            for name, p in net.named_parameters():
                if p.dim() >= 2 and not p.any():
                    p.normal_(0, 0.02)
                    print(f"{name}: all zeros at initialisation, drawn from N(0, 0.02^2) instead")
    state = {k: v.float() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    write_safetensors(a.out, state, {"format": "pt", "source": f"torchvision.models.{a.model}"
                                     + (f" from {os.path.basename(a.state_dict)}" if a.state_dict else ", random init, seed 0")})
    print(f"{a.out}: {len(state)} tensors, {sum(v.numel() for v in state.values())} values")
    if not a.check:
        return
    net.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        want = net(x)
    with tempfile.TemporaryDirectory() as tmp:
        write_safetensors(os.path.join(tmp, "x.safetensors"), {"x": x})
        subprocess.run([a.hush_infer, "--model", a.model, "--weights", a.out, "--input", os.path.join(tmp, "x.safetensors"),
                        "--output", os.path.join(tmp, "y.safetensors")], check=True)
        got = read_safetensors(os.path.join(tmp, "y.safetensors"))[0]["logits"]
    diff = (got - want).abs().max().item()
    print(f"{a.model}: logits of 2 random 224x224 images, largest |hush - PyTorch| = {diff:.3g} "
          f"(largest logit {want.abs().max().item():.3g})")


if __name__ == "__main__":
    main()
