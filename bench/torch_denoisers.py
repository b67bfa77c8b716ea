#!/usr/bin/python3
"""hush's denoisers written in PyTorch, layer for layer and name for name, so that a state_dict of
one loads into the other: DnCNN (include/hush/models/dncnn.hpp), seed 001's residual U-Net
(models/residual_unet.hpp) and the ResNet-backbone U-Net (models/resnet_unet.hpp, whose trunk is
torchvision's resnet18 or resnet50). Used by tests/reference/denoisers.py (reference outputs),
the PyTorch cross-check of a training recipe and the speed comparison. Run with Debian's
/usr/bin/python3 (python3-torch, python3-torchvision)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


def _block(**named):
    """A module holding the given children under those names (a block hush names the same)."""
    m = nn.Module()
    for k, v in named.items():
        setattr(m, k, v)
    return m


class DnCNN(nn.Module):
    """Zhang et al. 2017: y = x - tail(body(relu(head(x)))); body = (depth-2) x conv-bn-relu."""

    def __init__(self, channels=3, width=64, depth=17):
        super().__init__()
        self.head = nn.Conv2d(channels, width, 3, padding=1)
        self.body = nn.ModuleList([_block(conv=nn.Conv2d(width, width, 3, padding=1, bias=False),
                                          bn=nn.BatchNorm2d(width)) for _ in range(depth - 2)])
        self.tail = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, x):
        t = F.relu(self.head(x))
        for b in self.body:
            t = F.relu(b.bn(b.conv(t)))
        return x - self.tail(t)


class ResidualUNet(nn.Module):
    """Seed 001's generator: pix2pix's U-Net cut to five levels, output added to the input."""

    def __init__(self, channels=3, width=64):
        super().__init__()
        w = width
        def enc(cin, cout):
            return _block(conv=nn.Conv2d(cin, cout, 4, 2, 1, bias=False), bn=nn.BatchNorm2d(cout))
        def dec(cin, cout):
            return _block(conv=nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), bn=nn.BatchNorm2d(cout))
        self.enc1 = _block(conv=nn.Conv2d(channels, w, 4, 2, 1))
        self.enc2, self.enc3, self.enc4, self.enc5 = enc(w, 2 * w), enc(2 * w, 4 * w), enc(4 * w, 8 * w), enc(8 * w, 8 * w)
        self.dec5, self.dec4 = dec(8 * w, 8 * w), dec(16 * w, 4 * w)
        self.dec3, self.dec2, self.dec1 = dec(8 * w, 2 * w), dec(4 * w, w), dec(2 * w, w)
        self.out = nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, x):
        def down(b, t):
            t = b.conv(t)
            return F.leaky_relu(b.bn(t) if hasattr(b, "bn") else t, 0.2)
        def up(b, t):
            return F.relu(b.bn(b.conv(t)))
        e1 = down(self.enc1, x)
        e2 = down(self.enc2, e1)
        e3 = down(self.enc3, e2)
        e4 = down(self.enc4, e3)
        d5 = up(self.dec5, down(self.enc5, e4))
        d4 = up(self.dec4, torch.cat([e4, d5], 1))
        d3 = up(self.dec3, torch.cat([e3, d4], 1))
        d2 = up(self.dec2, torch.cat([e2, d3], 1))
        d1 = up(self.dec1, torch.cat([e1, d2], 1))
        return x + self.out(d1)


class ResNetUNet(nn.Module):
    """A torchvision ResNet trunk (conv1 ... layer4, torchvision's names) and a U-Net decoder."""

    WIDTH = [16, 32, 64, 128, 256]  # decoder0 ... decoder4

    def __init__(self, trunk="resnet18", channels=3):
        super().__init__()
        r = getattr(torchvision.models, trunk)()
        if channels != 3:
            r.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        self.conv1, self.bn1, self.maxpool = r.conv1, r.bn1, r.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = r.layer1, r.layer2, r.layer3, r.layer4
        c = [64] + [self._out(getattr(r, f"layer{i}")) for i in range(1, 5)]
        w = self.WIDTH
        def dec(cin, cout):
            return _block(conv1=nn.Conv2d(cin, cout, 3, padding=1, bias=False), bn1=nn.BatchNorm2d(cout),
                          conv2=nn.Conv2d(cout, cout, 3, padding=1, bias=False), bn2=nn.BatchNorm2d(cout))
        self.decoder4 = dec(c[3] + c[4], w[4])
        self.decoder3 = dec(c[2] + w[4], w[3])
        self.decoder2 = dec(c[1] + w[3], w[2])
        self.decoder1 = dec(c[0] + w[2], w[1])
        self.decoder0 = dec(channels + w[1], w[0])
        self.out = nn.Conv2d(w[0], channels, 3, padding=1)

    @staticmethod
    def _out(stage):
        last = stage[-1]
        return (last.conv3 if hasattr(last, "conv3") else last.conv2).out_channels

    def forward(self, x):
        def dec(b, t):
            return F.relu(b.bn2(b.conv2(F.relu(b.bn1(b.conv1(t))))))
        def up(t):
            return F.interpolate(t, scale_factor=2, mode="nearest")
        s1 = F.relu(self.bn1(self.conv1(x)))
        s2 = self.layer1(self.maxpool(s1))
        s3 = self.layer2(s2)
        s4 = self.layer3(s3)
        s5 = self.layer4(s4)
        d = up(dec(self.decoder4, torch.cat([s4, up(s5)], 1)))
        d = up(dec(self.decoder3, torch.cat([s3, d], 1)))
        d = up(dec(self.decoder2, torch.cat([s2, d], 1)))
        d = up(dec(self.decoder1, torch.cat([s1, d], 1)))
        return x + self.out(dec(self.decoder0, torch.cat([x, d], 1)))
