#!/usr/bin/python3
"""A committed PyTorch trace of adversarial training, for tests/gan_reference.cpp's known-answer check of
hush::train::adversarial_training: seed 001's residual U-Net generator (bench/torch_denoisers.py,
1 channel, width 2) against the DCGAN discriminator (bench/torch_peer.py, width 2), on 32x32
images, batch 4, three generator updates, written here from the algorithm as PyTorch users write
it (not from hush's code):

  separate  seed 001's recipe: BCE on logits, D updated on the real batch then on the generated
            one (two Adam steps, as Keras's train_on_batch twice), MSE content loss, lambda_g
            0.1 and lambda_d 0.5 (not 0.01: so the adversarial path moves G by more than
            rounding), Adam D lr 0.009 beta1 0.9, G lr 0.005 beta1 0.5, constant rates
  wgan      the WGAN critic loss, D updated once on the sum, 2 critic updates per G update, each
            on its own batch, weights clipped to [-0.05, 0.05], L1 content, lambda 1 and 0.1,
            Adam beta1 0.5 for both, lr 0.002 (D) and 0.001 (G), both decayed by a cosine to
            lr/100 over the run (hush's network_recipe.cosine)
  conditional  a conditional GAN (Mirza & Osindero): image k of batch b has class (4b + k) mod 3,
            one-hot, joined to the generator's input and to every image the discriminator
            scores as 3 constant planes; the generator is a small nn.Sequential (conv 3x3
            4->8, leaky ReLU 0.2, conv 3x3 8->1); otherwise as `separate` with lambda_g 1,
            lambda_d 0.5, Adam lr 0.002 beta1 0.5 for both
  classifier  a classifier in the discriminator (AC-GAN, Odena et al.; seed 002's ResGAN): D gives
            1 + 3 scores, the real/generated logit and class logits; D's loss on each batch is
            BCE on the logit + cross-entropy of the classes against the batch's labels (class
            (4b + k) mod 3), on the real and the generated batch; G's adversarial term is BCE
            toward real + that cross-entropy on its images; otherwise as `conditional` with
            seed 001's generator. Its losses have two more columns: D's cross-entropy on the
            real batch, G's on its images

D's batch norm is in training mode throughout, also while G learns through it. Initial weights
come from torchvision_resnets.py's formula (tests/support.hpp's formula() in C++), at the scale
of PyTorch's default initialisation; batch k's real images are formula("<case>.real.<k>") x 16
+ 0.5 (uniform in [0, 1)), its inputs those plus 0.4 x 16 x formula("<case>.noise.<k>"), clamped
to [0, 1]. Stores each case's final state_dicts and its losses per step (D real, D fake, G
content, G adversarial; D's from the last critic update). Writes tests/reference/data/gan.safetensors.
Run: /usr/bin/python3 tests/reference/gan.py"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from safetensors_file import write_safetensors  # noqa: E402
from torch_denoisers import ResidualUNet  # noqa: E402
from torch_peer import make_discriminator  # noqa: E402
from torchvision_resnets import formula  # noqa: E402

STEPS, BATCH, SIZE = 3, 4, 32

CASES = {
    "separate": dict(adversarial="bce", separate=True, critic_steps=1, clip=0.0, content="mse", lambda_g=0.1,
                     lambda_d=0.5, d=(0.009, 0.9), g=(0.005, 0.5), cosine=False),
    "wgan": dict(adversarial="wasserstein", separate=False, critic_steps=2, clip=0.05, content="l1", lambda_g=1.0,
                 lambda_d=0.1, d=(0.002, 0.5), g=(0.001, 0.5), cosine=True),
    "conditional": dict(adversarial="bce", separate=True, critic_steps=1, clip=0.0, content="mse", lambda_g=1.0,
                        lambda_d=0.5, d=(0.002, 0.5), g=(0.002, 0.5), cosine=False, classes=3),
    "classifier": dict(adversarial="bce", separate=True, critic_steps=1, clip=0.0, content="mse", lambda_g=1.0,
                       lambda_d=0.5, d=(0.002, 0.5), g=(0.002, 0.5), cosine=False, embedded=3),
}


def planes(condition):
    """(N, K) -> (N, K, SIZE, SIZE): each value as a constant plane."""
    return condition[:, :, None, None].expand(-1, -1, SIZE, SIZE)


def adversarial(kind, score, real):
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(score, torch.full_like(score, 1.0 if real else 0.0))
    return -score.mean() if real else score.mean()  # E[D(fake)] - E[D(real)], split by batch


def cosine(lr, t, total):
    return lr / 100 + (lr - lr / 100) * 0.5 * (1 + math.cos(math.pi * min(t, total) / total))


def run(name, c, out):
    k_classes = c.get("classes", 0)
    if k_classes:
        g = torch.nn.Sequential(torch.nn.Conv2d(1 + k_classes, 8, 3, padding=1), torch.nn.LeakyReLU(0.2),
                                torch.nn.Conv2d(8, 1, 3, padding=1))
    else:
        g = ResidualUNet(channels=1, width=2)
    embedded = c.get("embedded", 0)
    d = make_discriminator(SIZE, channels=1 + k_classes, width=2, outputs=1 + embedded)
    for net in (g, d):
        net.load_state_dict({k: torch.from_numpy(formula(k, list(v.shape))) if v.dtype == torch.float32 else v
                             for k, v in net.state_dict().items()})
    batches = []
    shape = [BATCH, 1, SIZE, SIZE]
    for k in range(STEPS * c["critic_steps"]):
        real = formula(f"{name}.real.{k}", shape) * np.float32(16) + np.float32(0.5)
        noisy = np.clip(real + np.float32(0.4) * (formula(f"{name}.noise.{k}", shape) * np.float32(16)), 0, 1)
        noisy, real = torch.from_numpy(noisy), torch.from_numpy(real)
        labels = torch.tensor([(4 * k + n) % max(k_classes, embedded, 1) for n in range(BATCH)])
        if k_classes:
            condition = torch.nn.functional.one_hot(labels, k_classes).float()
            noisy = torch.cat([noisy, planes(condition)], 1)
        else:
            condition = None
        batches.append((noisy, real, condition, labels))

    opt_g = torch.optim.Adam(g.parameters(), lr=c["g"][0], betas=(c["g"][1], 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=c["d"][0], betas=(c["d"][1], 0.999))
    d_updates = STEPS * c["critic_steps"] * (2 if c["separate"] else 1)
    content = F.mse_loss if c["content"] == "mse" else F.l1_loss
    losses = []

    def d_step():
        if c["cosine"]:
            opt_d.param_groups[0]["lr"] = cosine(c["d"][0], opt_d_steps[0], d_updates)
        opt_d.step()
        opt_d_steps[0] += 1
        if c["clip"] > 0:
            with torch.no_grad():
                for p in d.parameters():
                    p.clamp_(-c["clip"], c["clip"])

    opt_d_steps = [0]
    for step in range(STEPS):
        for i in range(c["critic_steps"]):
            x, real, condition, labels = batches[step * c["critic_steps"] + i]

            def scored(images):  # what D sees: the images, joined to the condition's planes
                return d(images if condition is None else torch.cat([images, planes(condition)], 1))

            def judged(images, real_or_not):  # D's loss: the logit's and, with a classifier, the classes'
                s = scored(images)
                adv = adversarial(c["adversarial"], s[:, :1], real_or_not)
                if not embedded:
                    return adv, adv, None
                ce = F.cross_entropy(s[:, 1:], labels)
                return adv + ce, adv, ce

            g.train(), d.train()
            fake = g(x)
            opt_d.zero_grad()
            total_real, l_real, ce_real = judged(real, True)
            if c["separate"]:
                total_real.backward()
                d_step()
                opt_d.zero_grad()
                total_fake, l_fake, _ = judged(fake.detach(), False)
                total_fake.backward()
            else:
                total_fake, l_fake, _ = judged(fake.detach(), False)
                (total_real + total_fake).backward()
            d_step()
        if c["cosine"]:
            opt_g.param_groups[0]["lr"] = cosine(c["g"][0], step, STEPS)
        opt_g.zero_grad()
        l_content = content(fake, real)
        total_adv, l_adv, ce_g = judged(fake, True)
        (c["lambda_g"] * l_content + c["lambda_d"] * total_adv).backward()
        opt_g.step()
        losses.append([l_real.item(), l_fake.item(), l_content.item(), l_adv.item()]
                      + ([ce_real.item(), ce_g.item()] if embedded else []))
        print(name, step, ["%.6f" % v for v in losses[-1]])
    out[f"{name}.losses"] = torch.tensor(losses, dtype=torch.float32)
    for prefix, net in (("g", g), ("d", d)):
        for k, v in net.state_dict().items():
            out[f"{name}.{prefix}.{k}"] = v.clone()


def main():
    torch.set_num_threads(1)
    out = {}
    for name, c in CASES.items():
        run(name, c, out)
    write_safetensors(os.path.join(HERE, "data", "gan.safetensors"), out)


if __name__ == "__main__":
    main()
