#!/usr/bin/python3
"""Reference vectors from PyTorch for every hush layer and for a small residual network.

For each case it writes two files into tests/reference/data/:
  <case>.weights.safetensors  the module's state_dict, as PyTorch names and lays it out
  <case>.io.safetensors       x, dy (the upstream gradient), y, dx, grad.<parameter> and, for
                              modules with buffers, after.<buffer> (their values after forward)
tests/torch_reference.cpp loads the weights with hush::load_weights, runs forward and backward
and compares. Run with Debian's python3-torch (CI needs no PyTorch: the files are committed):
  /usr/bin/python3 tests/reference/torch_layers.py [CASE ...]
Naming cases writes only theirs (conv2d_3x3_pad1's module is built before its seed is set, so a
full run rewrites its files with other values).
"""
import os
import sys

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from safetensors_file import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def save(path, tensors):
    write_safetensors(path, tensors, {"format": "pt", "source": "tests/reference/torch_layers.py"})


def case(name, module, shape, train=True, randomise_affine=False, running=False):
    if len(sys.argv) > 1 and name not in sys.argv[1:]:
        return
    torch.manual_seed(sum(map(ord, name)))
    if randomise_affine:  # make norm layers' weight and bias non-trivial
        with torch.no_grad():
            for n, p in module.named_parameters():
                p.copy_(torch.rand_like(p) + 0.5 if n.endswith("weight") else torch.randn_like(p) * 0.5)
    if running:  # eval-mode norm: non-trivial running statistics
        with torch.no_grad():
            module.running_mean.copy_(torch.randn_like(module.running_mean) * 0.5)
            module.running_var.copy_(torch.rand_like(module.running_var) + 0.5)
    module.train(train)
    save(os.path.join(OUT, name + ".weights.safetensors"), dict(module.state_dict()))
    x = torch.randn(*shape, requires_grad=True)
    y = module(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    io = {"x": x, "dy": dy, "y": y, "dx": x.grad}
    for n, p in module.named_parameters():
        io["grad." + n] = p.grad
    for n, b in module.named_buffers():
        io["after." + n] = b
    save(os.path.join(OUT, name + ".io.safetensors"), io)


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, with a projection shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + self.downsample(x))


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.layer1 = BasicBlock(4, 8, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.layer1(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class Pooled(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return torch.flatten(self.pool(x), 1)


class ConcatSkip(nn.Module):
    """hush's concat_skip: the input, then its child's output, joined on channels (the child
    named "1", as hush's parallel<identity, Inner> names it)."""

    def __init__(self, inner):
        super().__init__()
        self.add_module("1", inner)

    def forward(self, x):
        return torch.cat([x, getattr(self, "1")(x)], 1)


def gan_trunk(cin, w):
    """models/restoration_gans.hpp's trunk: down by 4 with strided convolutions, back up with
    transposed ones."""
    return nn.Sequential(nn.Conv2d(cin, w, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
                         nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                         nn.ConvTranspose2d(w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())


class Attention(nn.Module):
    """Multi-head self-attention as the MAE code's Block uses it (timm's): one qkv projection,
    heads split as (3, heads, head_dim) along its output, softmax(q·kᵀ/√d)·v, the heads joined,
    proj. Written out, not through a fused PyTorch op, so the reference is the definition."""

    def __init__(self, dim, heads, qkv_bias=True):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, c = x.shape
        d = c // self.heads
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-2, -1) * d ** -0.5, dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(n, t, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """The MAE code's pre-norm transformer block (timm's Block, no drop path)."""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, channels, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Unpatchify(nn.Module):
    """The MAE code's unpatchify: (N, h·w, p·p·C) -> (N, C, h·p, w·p), square grids."""

    def __init__(self, patch, channels):
        super().__init__()
        self.p, self.c = patch, channels

    def forward(self, x):
        n, t, _ = x.shape
        h = int(round(t ** 0.5))
        x = x.reshape(n, h, h, self.p, self.p, self.c)
        return torch.einsum("nhwpqc->nchpwq", x).reshape(n, self.c, h * self.p, h * self.p)


class ClassToken(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)

    def forward(self, x):
        return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)


def sincos_table(grid, dim):
    """The MAE paper's fixed 2-D position embedding, from its description: half of the channels
    encode the column, half the row, each as sines then cosines of pos·10000^(-k/(dim/4)); a
    zero row in front for the class token."""
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64),
                                indexing="ij")
    col = cols.reshape(-1, 1) * omega
    row = rows.reshape(-1, 1) * omega
    table = torch.cat([col.sin(), col.cos(), row.sin(), row.cos()], dim=1)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), table]).float().unsqueeze(0)


class SincosPosition(nn.Module):
    """Adds the table's patch rows, as the MAE encoder does before masking."""

    def __init__(self, grid, dim):
        super().__init__()
        self.register_buffer("pos_embed", sincos_table(grid, dim))

    def forward(self, x):
        return x + self.pos_embed[:, 1:, :]


def with_random_norms(module):
    """Non-trivial layer norm affines (and a non-zero classifier head, which torchvision
    initialises to zero), leaving the other layers as PyTorch initialised them."""
    torch.manual_seed(7)
    with torch.no_grad():
        for name, m in module.named_modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.5)
            elif name == "heads.head":
                m.weight.copy_(torch.randn_like(m.weight) * 0.3)
    return module


def main():
    os.makedirs(OUT, exist_ok=True)
    case("conv2d_3x3_pad1", nn.Conv2d(3, 4, 3, padding=1), (2, 3, 6, 5))
    case("conv2d_strided_dilated_grouped", nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 9, 9))
    case("conv2d_1x1_no_bias", nn.Conv2d(5, 3, 1, bias=False), (2, 5, 4, 4))
    case("conv2d_7x7_stride2", nn.Conv2d(3, 4, 7, stride=2, padding=3, bias=False), (1, 3, 11, 11))
    case("conv_transpose2d", nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1), (2, 4, 3, 3))
    case("conv_transpose2d_output_padding_groups",
         nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), (1, 4, 3, 4))
    case("linear", nn.Linear(7, 5), (3, 7))
    case("batch_norm2d_train", nn.BatchNorm2d(3), (4, 3, 3, 3), randomise_affine=True)
    case("batch_norm2d_eval", nn.BatchNorm2d(3), (4, 3, 3, 3), train=False, randomise_affine=True, running=True)
    case("layer_norm", nn.LayerNorm(6), (2, 3, 6), randomise_affine=True)
    case("relu", nn.ReLU(), (2, 3, 4, 4))
    case("leaky_relu", nn.LeakyReLU(0.2), (2, 3, 4, 4))
    case("tanh", nn.Tanh(), (2, 3, 4, 4))
    case("sigmoid", nn.Sigmoid(), (2, 3, 4, 4))
    case("gelu", nn.GELU(), (2, 3, 4, 4))
    case("softmax", nn.Softmax(dim=-1), (3, 7))
    case("max_pool2d_2", nn.MaxPool2d(2), (2, 2, 6, 6))
    case("max_pool2d_3_stride2_pad1", nn.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7))
    case("avg_pool2d_3_stride2_pad1", nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 2, 7, 7))
    case("global_avg_pool", Pooled(), (2, 3, 4, 5))
    case("adaptive_avg_pool2d_overlapping", nn.AdaptiveAvgPool2d((4, 3)), (2, 3, 10, 9))
    case("adaptive_avg_pool2d_7_from_3x2", nn.AdaptiveAvgPool2d((7, 7)), (1, 2, 3, 2))
    case("upsample_nearest_2", nn.Upsample(scale_factor=2, mode="nearest"), (1, 2, 3, 4))
    case("upsample_bilinear_2", nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (1, 2, 3, 4))
    case("upsample_bilinear_4", nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False), (1, 2, 3, 3))
    case("flatten", nn.Flatten(), (2, 3, 2, 2))
    case("small_resnet_train", SmallResNet(), (2, 3, 8, 8))
    case("small_resnet_eval", SmallResNet(), (2, 3, 8, 8), train=False)
    # Seed 002's generators (models/restoration_gans.hpp) at width 3.
    case("resgan_generator_train", nn.Sequential(ConcatSkip(gan_trunk(1, 3)), nn.Conv2d(4, 1, 3, padding=1), nn.Sigmoid()),
         (2, 1, 8, 8), randomise_affine=True)
    case("conv_generator_train", nn.Sequential(gan_trunk(3, 3), nn.Conv2d(3, 1, 3, padding=1), nn.Sigmoid()), (2, 3, 8, 8),
         randomise_affine=True)
    case("conv_generator_eval", nn.Sequential(gan_trunk(3, 3), nn.Conv2d(3, 1, 3, padding=1), nn.Sigmoid()), (2, 3, 8, 8),
         train=False, randomise_affine=True)
    # Token layers, the ViT's blocks and a small torchvision VisionTransformer (models/vit.hpp).
    case("linear_tokens", nn.Linear(4, 6), (2, 3, 4))
    case("self_attention", Attention(6, 2), (2, 5, 6))
    case("patch_embed", PatchEmbed(3, 6, 2), (2, 3, 4, 6))
    case("unpatchify", Unpatchify(2, 3), (2, 4, 12))
    case("class_token", ClassToken(5), (3, 4, 5))
    case("sincos_position_embedding", SincosPosition(3, 8), (2, 9, 8))
    case("vit_block", with_random_norms(Block(8, 2, 16)), (2, 5, 8))
    case("vision_transformer",
         with_random_norms(torchvision.models.VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2,
                                                                hidden_dim=8, mlp_dim=16, num_classes=5)),
         (2, 3, 16, 16))
    print("wrote to", OUT)


if __name__ == "__main__":
    main()
