#!/usr/bin/python3
"""PyTorch side of the hush-vs-PyTorch benchmark harness.

bench/peer.cpp runs the same workloads (same names, same shapes) with hush; a
driver runs both programs interleaved and prints time ratios.  This script
only measures PyTorch.

Run (Debian's python, which sees the Debian torch/torchvision packages):

    /usr/bin/python3 bench/torch_peer.py --workloads NAME[,NAME...] \
        [--reps R=5] [--warmup W=2] [--threads T=2] [--list]

--list prints every workload name, one per line, and exits.  Otherwise, for
each workload in order: build model/data/optimizer, run W untimed warm-up
iterations, then R timed iterations (time.perf_counter around each one), and
print one JSON line to stdout:

    {"framework": "torch", "workload": NAME, "ms": [t1, ..., tR],
     "peak_rss_mb": X, "baseline_rss_mb": B[, "flop": F]}

peak_rss_mb is ru_maxrss/1024 after the workload (a process-wide high-water
mark, so it never decreases across workloads); baseline_rss_mb is the same
value taken once after imports and thread set-up.  "flop" (floating-point
operations of one iteration) is given for conv_ and sgemm_ workloads only.
Progress goes to stderr; stdout carries only the JSON lines.  An unknown
workload name exits with status 2.  torch is seeded with 0 and uses T threads.

Models
  ResNet-50: torchvision.models.resnet50(num_classes=1000), random init.
  N2N U-Net (Lehtinen et al. 2018, appendix): 3 -> 3 channels, 48 features;
    all convs 3x3, padding 1, with bias; LeakyReLU(0.1) after every conv but
    the last; max pool 2x2/2; nearest upsampling x2; skip tensor first in
    every concatenation:
      e0 = lrelu(enc_conv0(x))                      3->48
      p1..p5 = pool(lrelu(enc_convK(prev)))         48->48, K = 1..5
      u = up(lrelu(enc_conv6(p5)))                  48->48
      u = cat(p4, u); u = up(lrelu(dec_conv5b(lrelu(dec_conv5a(u)))))  96->96->96
      u = cat(p3, u); u = up(lrelu(dec_conv4b(lrelu(dec_conv4a(u)))))  144->96->96
      u = cat(p2, u); u = up(lrelu(dec_conv3b(lrelu(dec_conv3a(u)))))  144->96->96
      u = cat(p1, u); u = up(lrelu(dec_conv2b(lrelu(dec_conv2a(u)))))  144->96->96
      u = cat(x, u);  y = dec_conv1c(lrelu(dec_conv1b(lrelu(dec_conv1a(u)))))
                                                    99->64->32->3, no final activation
  DCGAN-style discriminator: five blocks Conv2d(k4, s2, p1, bias=False) ->
    BatchNorm2d -> LeakyReLU(0.2), channels 3->64->128->256->512->1024
    (1024x8x8 at 256x256 input), then Flatten and Linear(1024*8*8 -> 1).

Workloads (inputs uniform random in [0, 1))
  resnet50_fwd_b1, resnet50_fwd_b8   eval + inference_mode, (1|8, 3, 224, 224)
  resnet50_fwd_b32_64                same, (32, 3, 64, 64)
  resnet50_train_b8                  train mode, (8, 3, 224, 224), labels in
      [0, 1000); SGD(lr=0.01, momentum=0.9); iteration = zero_grad + forward +
      cross_entropy + backward + step
  unet_fwd_b4                        U-Net eval + inference_mode, (4, 3, 256, 256)
  unet_train_b4                      U-Net train step, input and target
      (4, 3, 256, 256), mean MSE, Adam(lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
  disc_train_b8                      discriminator train step, (8, 3, 256, 256),
      targets 1.0 for the first half, 0.0 for the second, mean
      BCEWithLogitsLoss, Adam(lr=2e-4, betas=(0.5, 0.999))
  gan_train_b8                       seed 001's GAN step, (8, 3, 256, 256): the
      residual U-Net generator (bench/torch_denoisers.py, width 64) and the
      discriminator above; D: BCEWithLogits on the real batch toward 1, an Adam
      step (lr 0.009, betas (0.9, 0.999)), then on G(x).detach() toward 0, a
      step; G: 0.1 * MSE of VGG-19 features[:7] (to relu2_1, frozen, ImageNet-
      normalised input) of G(x) and of the real batch + 0.01 * BCEWithLogits of
      D(G(x)) toward 1, Adam (lr 0.005, betas (0.5, 0.999))
  vit_b16_fwd_b8                     torchvision's vit_b_16, eval + inference_mode,
      (8, 3, 224, 224)
  mae_train_b64                      the MAE step (tests/reference/mae.py's MAE, as
      hush's mae_small): (64, 3, 32, 32), 75% of the 64 patches masked by
      torch.rand and a sort, norm_pix loss on the masked patches, Adam (lr
      1.5e-4, betas (0.9, 0.95))
  conv_<name>                        one F.conv2d forward of one of ResNet-50's
      23 distinct convolutions (CONV_SHAPES below), N=8, no bias,
      padding kernel//2, inference_mode; flop = 2*N*K*P*Q*C*R*S
  sgemm_1024, sgemm_2048             torch.mm(a, b, out=c), square float32;
      flop = 2*n^3
"""

import argparse
import gc
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


# ResNet-50's distinct convolutions: (name, C_in, H_in, C_out, kernel, stride).
# The single source of the conv_ workload names.
CONV_SHAPES = [
    ("conv1_7x7s2", 3, 224, 64, 7, 2),
    ("l1_1x1_64_64", 64, 56, 64, 1, 1),
    ("l1_3x3_64", 64, 56, 64, 3, 1),
    ("l1_1x1_64_256", 64, 56, 256, 1, 1),
    ("l1_1x1_256_64", 256, 56, 64, 1, 1),
    ("l2_1x1_256_128", 256, 56, 128, 1, 1),
    ("l2_3x3s2_128", 128, 56, 128, 3, 2),
    ("l2_1x1_128_512", 128, 28, 512, 1, 1),
    ("l2_ds_256_512", 256, 56, 512, 1, 2),
    ("l2_1x1_512_128", 512, 28, 128, 1, 1),
    ("l2_3x3_128", 128, 28, 128, 3, 1),
    ("l3_1x1_512_256", 512, 28, 256, 1, 1),
    ("l3_3x3s2_256", 256, 28, 256, 3, 2),
    ("l3_1x1_256_1024", 256, 14, 1024, 1, 1),
    ("l3_ds_512_1024", 512, 28, 1024, 1, 2),
    ("l3_1x1_1024_256", 1024, 14, 256, 1, 1),
    ("l3_3x3_256", 256, 14, 256, 3, 1),
    ("l4_1x1_1024_512", 1024, 14, 512, 1, 1),
    ("l4_3x3s2_512", 512, 14, 512, 3, 2),
    ("l4_1x1_512_2048", 512, 7, 2048, 1, 1),
    ("l4_ds_1024_2048", 1024, 14, 2048, 1, 2),
    ("l4_1x1_2048_512", 2048, 7, 512, 1, 1),
    ("l4_3x3_512", 512, 7, 512, 3, 1),
]
CONV_BATCH = 8

SGEMM_SIZES = [1024, 2048]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def rss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- models


class N2NUNet(nn.Module):
    """Noise2Noise U-Net; layer names follow the paper's appendix table."""

    def __init__(self, in_ch=3, out_ch=3, feat=48):
        super().__init__()

        def conv(cin, cout):
            return nn.Conv2d(cin, cout, 3, padding=1, bias=True)

        wide = 2 * feat  # decoder width (96)
        self.enc_conv0 = conv(in_ch, feat)
        self.enc_conv1 = conv(feat, feat)
        self.enc_conv2 = conv(feat, feat)
        self.enc_conv3 = conv(feat, feat)
        self.enc_conv4 = conv(feat, feat)
        self.enc_conv5 = conv(feat, feat)
        self.enc_conv6 = conv(feat, feat)
        self.dec_conv5a = conv(feat + feat, wide)
        self.dec_conv5b = conv(wide, wide)
        self.dec_conv4a = conv(feat + wide, wide)
        self.dec_conv4b = conv(wide, wide)
        self.dec_conv3a = conv(feat + wide, wide)
        self.dec_conv3b = conv(wide, wide)
        self.dec_conv2a = conv(feat + wide, wide)
        self.dec_conv2b = conv(wide, wide)
        self.dec_conv1a = conv(in_ch + wide, 64)
        self.dec_conv1b = conv(64, 32)
        self.dec_conv1c = conv(32, out_ch)

    def forward(self, x):
        def lrelu(t):
            return F.leaky_relu(t, 0.1)

        def pool(t):
            return F.max_pool2d(t, 2, 2)

        def up(t):
            return F.interpolate(t, scale_factor=2, mode="nearest")

        e0 = lrelu(self.enc_conv0(x))
        p1 = pool(lrelu(self.enc_conv1(e0)))
        p2 = pool(lrelu(self.enc_conv2(p1)))
        p3 = pool(lrelu(self.enc_conv3(p2)))
        p4 = pool(lrelu(self.enc_conv4(p3)))
        p5 = pool(lrelu(self.enc_conv5(p4)))
        u = up(lrelu(self.enc_conv6(p5)))
        # Skip tensor first in every concatenation, to match the C++ side.
        u = torch.cat((p4, u), dim=1)
        u = up(lrelu(self.dec_conv5b(lrelu(self.dec_conv5a(u)))))
        u = torch.cat((p3, u), dim=1)
        u = up(lrelu(self.dec_conv4b(lrelu(self.dec_conv4a(u)))))
        u = torch.cat((p2, u), dim=1)
        u = up(lrelu(self.dec_conv3b(lrelu(self.dec_conv3a(u)))))
        u = torch.cat((p1, u), dim=1)
        u = up(lrelu(self.dec_conv2b(lrelu(self.dec_conv2a(u)))))
        u = torch.cat((x, u), dim=1)
        u = lrelu(self.dec_conv1a(u))
        u = lrelu(self.dec_conv1b(u))
        return self.dec_conv1c(u)


def make_discriminator(image_size=256, channels=3, width=64, outputs=1):
    # One nn.Sequential per block, so the state_dict names ("0.0.weight" ... "6.weight") are
    # hush::models::dcgan_discriminator's.
    channels = [channels] + [width * 2 ** k for k in range(5)]
    blocks = [nn.Sequential(nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(cout),
                            nn.LeakyReLU(0.2))
              for cin, cout in zip(channels[:-1], channels[1:])]
    final_size = image_size // 2 ** (len(channels) - 1)  # 8 at 256x256
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(channels[-1] * final_size * final_size, outputs))


def param_count(model):
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------- workloads
# Each builder returns (step, flop): step() runs one iteration, flop is the
# floating-point operation count of one iteration or None.  All state lives in
# the step closure, so dropping it frees the workload.


# --mode tuned: what a practitioner does to PyTorch on a CPU. Convolutional models and their
# inputs go channels_last (oneDNN's native layout); ResNet-50 and U-Net inference are also
# TorchScript-traced, frozen and optimised for inference (torch.jit.optimize_for_inference:
# batch norm folded, oneDNN fusions). ViT and MAE (no convolutions but the patch embedding) are
# left as they are. The default mode is PyTorch as it comes: NCHW, eager.
MODE = "default"
# --bf16: inference workloads under CPU autocast to bfloat16 (torch.autocast("cpu", torch.bfloat16):
# convolutions and matrix products in bf16), the counterpart of hush's cpu_precision::bf16. In
# tuned mode the model is still channels_last and traced and frozen, traced under autocast.
BF16 = False


def channels_last(model, *tensors):
    """In tuned mode: the model and tensors in channels_last; otherwise as they are."""
    if MODE != "tuned":
        return (model, *tensors)
    return (model.to(memory_format=torch.channels_last),
            *(t.contiguous(memory_format=torch.channels_last) for t in tensors))


def autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=BF16)


def inference_step(model, x, freeze=False):
    model.eval()
    if MODE == "tuned":
        model, x = channels_last(model, x)
        if freeze:
            with torch.no_grad(), autocast():
                # Under autocast the trace's own re-trace check sees renamed modules and fails.
                traced = torch.jit.trace(model, x, check_trace=not BF16)
                model = torch.jit.optimize_for_inference(torch.jit.freeze(traced))

    def step():
        with torch.inference_mode(), autocast():
            model(x)

    return step


def train_step(model, optimizer, loss_fn, x, target):
    model.train()
    model, x = channels_last(model, x)  # the optimizer's parameters are the same tensors, converted in place

    def step():
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()

    return step


def resnet50_fwd(batch, size):
    def build():
        model = torchvision.models.resnet50(num_classes=1000)
        x = torch.rand(batch, 3, size, size)
        return inference_step(model, x, freeze=True), None

    return build


def build_resnet50_train_b8():
    model = torchvision.models.resnet50(num_classes=1000)
    x = torch.rand(8, 3, 224, 224)
    labels = torch.randint(0, 1000, (8,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return train_step(model, opt, F.cross_entropy, x, labels), None


def build_unet():
    model = N2NUNet()
    log(f"N2N U-Net parameters: {param_count(model)}")
    return model


def build_unet_fwd_b4():
    model = build_unet()
    x = torch.rand(4, 3, 256, 256)
    return inference_step(model, x, freeze=True), None


def build_unet_train_b4():
    model = build_unet()
    x = torch.rand(4, 3, 256, 256)
    target = torch.rand(4, 3, 256, 256)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.99), eps=1e-8)
    return train_step(model, opt, F.mse_loss, x, target), None


def build_disc_train_b8():
    model = make_discriminator(256)
    log(f"discriminator parameters: {param_count(model)}")
    batch = 8
    x = torch.rand(batch, 3, 256, 256)
    target = torch.cat((torch.ones(batch // 2, 1), torch.zeros(batch - batch // 2, 1)))
    opt = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return train_step(model, opt, nn.BCEWithLogitsLoss(), x, target), None


def build_gan_train_b8():
    from torch_denoisers import ResidualUNet
    g, d = ResidualUNet(channels=3, width=64), make_discriminator(256)
    vgg = torchvision.models.vgg19().features[:7].eval()
    for p in vgg.parameters():
        p.requires_grad_(False)  # frozen, as a content loss's network is
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    opt_g = torch.optim.Adam(g.parameters(), lr=0.005, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=0.009, betas=(0.9, 0.999))
    bce = nn.BCEWithLogitsLoss()
    x, real = torch.rand(8, 3, 256, 256), torch.rand(8, 3, 256, 256)
    g, x, real = channels_last(g, x, real)
    d, vgg = channels_last(d)[0], channels_last(vgg)[0]
    ones, zeros = torch.ones(8, 1), torch.zeros(8, 1)

    def step():
        g.train(), d.train()
        fake = g(x)
        opt_d.zero_grad()
        bce(d(real), ones).backward()
        opt_d.step()
        opt_d.zero_grad()
        bce(d(fake.detach()), zeros).backward()
        opt_d.step()
        opt_g.zero_grad()
        with torch.no_grad():
            target = vgg((real - mean) / std)
        content = F.mse_loss(vgg((fake - mean) / std), target)
        (0.1 * content + 0.01 * bce(d(fake), ones)).backward()
        opt_g.step()

    return step, None


def build_vit_b16_fwd_b8():
    return inference_step(torchvision.models.vit_b_16(), torch.rand(8, 3, 224, 224)), None


def build_mae_train_b64():
    """The MAE of tests/reference/mae.py (written from He et al. 2022, the timm block), hush's
    mae_small: 32x32 RGB, patch 4, encoder 192 x 6 x 3 heads, decoder 96 x 2 x 3 heads, 75%
    masked by torch.rand + sort as the MAE code does; the norm_pix loss; Adam (0.9, 0.95)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
    from mae import MAE, loss_fn
    model = MAE(image=32, patch=4, channels=3, dim=192, heads=3, mlp=768, depth=6, ddim=96, dheads=3, dmlp=384,
                ddepth=2, ratio=0.75)
    opt = torch.optim.Adam(model.parameters(), lr=1.5e-4, betas=(0.9, 0.95))
    x = torch.rand(64, 3, 32, 32)
    target = model.patchify(x)
    model.train()

    def step():
        opt.zero_grad(set_to_none=False)
        pred, mask = model(x, torch.rand(64, 64))
        loss_fn(pred, target, mask).backward()
        opt.step()

    return step, None


def conv_workload(c_in, h_in, c_out, kernel, stride):
    def build():
        pad = kernel // 2
        x = torch.rand(CONV_BATCH, c_in, h_in, h_in)
        w = torch.rand(c_out, c_in, kernel, kernel)
        h_out = (h_in + 2 * pad - kernel) // stride + 1
        flop = 2 * CONV_BATCH * c_out * h_out * h_out * c_in * kernel * kernel

        def step():
            with torch.inference_mode():
                F.conv2d(x, w, stride=stride, padding=pad)

        return step, flop

    return build


def sgemm_workload(n):
    def build():
        a = torch.rand(n, n)
        b = torch.rand(n, n)
        c = torch.empty(n, n)

        def step():
            torch.mm(a, b, out=c)

        return step, 2 * n ** 3

    return build


def all_workloads():
    """Ordered mapping: workload name -> builder."""
    table = {
        "resnet50_fwd_b1": resnet50_fwd(1, 224),
        "resnet50_fwd_b8": resnet50_fwd(8, 224),
        "resnet50_fwd_b32_64": resnet50_fwd(32, 64),
        "resnet50_train_b8": build_resnet50_train_b8,
        "unet_fwd_b4": build_unet_fwd_b4,
        "unet_train_b4": build_unet_train_b4,
        "disc_train_b8": build_disc_train_b8,
        "gan_train_b8": build_gan_train_b8,
        "vit_b16_fwd_b8": build_vit_b16_fwd_b8,
        "mae_train_b64": build_mae_train_b64,
    }
    for name, c_in, h_in, c_out, kernel, stride in CONV_SHAPES:
        table["conv_" + name] = conv_workload(c_in, h_in, c_out, kernel, stride)
    for n in SGEMM_SIZES:
        table[f"sgemm_{n}"] = sgemm_workload(n)
    return table


# ---------------------------------------------------------------- driver


def run_workload(name, builder, reps, warmup, baseline_rss):
    log(f"[torch] {name}: build")
    step, flop = builder()
    for _ in range(warmup):
        step()
    times_ms = []
    for _ in range(reps):
        start = time.perf_counter()
        step()
        times_ms.append((time.perf_counter() - start) * 1e3)
    record = {
        "framework": ("torch" if MODE == "default" else "torch-tuned") + ("-bf16" if BF16 else ""),
        "workload": name,
        "ms": times_ms,
        "peak_rss_mb": rss_mb(),
        "baseline_rss_mb": baseline_rss,
    }
    if flop is not None:
        record["flop"] = flop
    print(json.dumps(record), flush=True)
    log(f"[torch] {name}: median {sorted(times_ms)[len(times_ms) // 2]:.3f} ms")
    # Drop everything the workload holds before building the next one.
    del step, flop
    gc.collect()


def main():
    parser = argparse.ArgumentParser(description="PyTorch benchmark peer of bench/peer.cpp")
    parser.add_argument("--workloads", default="", help="comma-separated workload names")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="print workload names and exit")
    parser.add_argument("--mode", choices=["default", "tuned"], default="default",
                        help="default: eager NCHW; tuned: channels_last, and TorchScript frozen for inference")
    parser.add_argument("--bf16", action="store_true", help="inference under CPU autocast to bfloat16")
    args = parser.parse_args()
    global MODE, BF16
    MODE, BF16 = args.mode, args.bf16

    # Thread count first: it must be fixed before any op runs.
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    workloads = all_workloads()
    if args.list:
        for name in workloads:
            print(name)
        return 0

    names = [n for n in args.workloads.split(",") if n]
    unknown = [n for n in names if n not in workloads]
    if unknown:
        log(f"unknown workload(s): {', '.join(unknown)}")
        log("valid workloads: " + ", ".join(workloads))
        return 2
    if not names:
        log("no workloads given (use --workloads NAME[,NAME...] or --list)")
        return 2

    baseline_rss = rss_mb()
    log(f"[torch] {torch.__version__}, mode {MODE}, threads={torch.get_num_threads()}, "
        f"baseline rss {baseline_rss:.1f} MB")
    for name in names:
        run_workload(name, workloads[name], args.reps, args.warmup, baseline_rss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
