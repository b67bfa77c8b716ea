#!/usr/bin/env bash
# The command-line tools end to end: a noisy copy, its quality, a gallery, and every bad input
# (a clear message on stderr, a non-zero exit, and no output file left behind).
set -u
bin=$1
data=$2  # tests/reference/data
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
checks=0
check() {  # check NAME EXPECTED_RC PATTERN COMMAND...
  local name=$1 want=$2 pattern=$3
  shift 3
  local out rc
  checks=$((checks + 1))
  out=$("$@" 2>&1)
  rc=$?
  if { [[ $want == 0 ]] && ((rc != 0)); } || { [[ $want != 0 ]] && ((rc == 0)); } || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $rc, output: $out"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}
# A 64×48 colour test image (binary PPM, which OpenCV reads), with a smooth gradient.
{
  printf 'P6\n64 48\n255\n'
  for ((y = 0; y < 48; y++)); do for ((x = 0; x < 64; x++)); do printf "\\$(printf %o $((x * 4)))\\$(printf %o $((y * 5)))\\$(printf %o 128)"; done; done
} >"$dir/clean.ppm"

check "noisy copy" 0 "gaussian\(sigma=0.1\)" "$bin/hush-noise" --spec "gaussian(sigma=0.1)+salt_pepper(amount=0.05)" --seed 4 "$dir/clean.ppm" "$dir/noisy.png"
check "preset" 0 "one_of" "$bin/hush-noise" --spec seed001 "$dir/clean.ppm" "$dir/seed001.png"
check "quality" 0 "^psnr=[0-9.]+ ssim=0\.[0-9]+$" "$bin/hush-quality" "$dir/clean.ppm" "$dir/noisy.png"
check "quality of identical images" 0 "^psnr=inf ssim=1\.000000$" "$bin/hush-quality" "$dir/clean.ppm" "$dir/clean.ppm"
"$bin/hush-noise" --spec "gaussian(sigma=0.1)+salt_pepper(amount=0.05)" --seed 4 "$dir/clean.ppm" "$dir/again.png" >/dev/null
check "same seed, same image" 0 "" cmp "$dir/noisy.png" "$dir/again.png"
check "gallery" 0 "10 noises x 3 intensities" "$bin/hush-noise-gallery" --tile 64 "$dir/clean.ppm" "$dir/gallery.png"
check "help lists noises and presets" 0 "bernoulli.*" "$bin/hush-noise" --help
check "help lists presets" 0 "seed004_low_res" "$bin/hush-noise" --help

check "missing file" 1 "absent.png: no such file" "$bin/hush-noise" --spec seed001 "$dir/absent.png" "$dir/out1.png"
echo "not an image" >"$dir/fake.png"
check "not an image" 1 "fake.png: not an image hush reads" "$bin/hush-noise" --spec seed001 "$dir/fake.png" "$dir/out2.png"
check "unknown noise" 1 "unknown noise 'blur'" "$bin/hush-noise" --spec "blur(size=3)" "$dir/clean.ppm" "$dir/out3.png"
check "negative sigma" 1 "sigma=-0.1 is out of range" "$bin/hush-noise" --spec "gaussian(sigma=-0.1)" "$dir/clean.ppm" "$dir/out4.png"
check "amount above 1" 1 "amount=1.5 is out of range \[0, 1\]" "$bin/hush-noise" --spec "salt_pepper(amount=1.5)" "$dir/clean.ppm" "$dir/out5.png"
check "unknown parameter" 1 "unknown parameter 'sgima'" "$bin/hush-noise" --spec "gaussian(sgima=1)" "$dir/clean.ppm" "$dir/out6.png"
check "unknown output format" 1 "cannot encode" "$bin/hush-noise" --spec seed001 "$dir/clean.ppm" "$dir/out7.nope"
{ printf 'P6\n8 8\n255\n'; head -c 192 /dev/zero; } >"$dir/small.ppm"
check "different sizes" 1 "images differ: .*clean.ppm is \(3, 48, 64\), .*small.ppm is \(3, 8, 8\)" "$bin/hush-quality" "$dir/clean.ppm" "$dir/small.ppm"
check "quality: missing file" 1 "absent.png: no such file" "$bin/hush-quality" "$dir/clean.ppm" "$dir/absent.png"
check "infer: tensor file" 0 "logits \(2, 10\)" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --input "$data/resnet20_input.safetensors" --output "$dir/logits.safetensors"
check "infer: images, top-5" 0 "clean.ppm:  class [0-9] 0\.[0-9]+  class" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm" "$dir/noisy.png"
# The device: said on the first line; HUSH_DEVICE chooses it, and a device that cannot be used is an error.
check "infer: images' logits to a file" 0 "logits \(2, 10\)" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm" "$dir/noisy.png" --output "$dir/image_logits.safetensors"
# bf16 inference runs where oneDNN sees native bf16 (AVX-512-BF16 or AMX) and is refused by name elsewhere.
if grep -qwE "avx512_bf16|amx_bf16" /proc/cpuinfo; then
  check "infer: --bf16" 0 "clean.ppm:  class [0-9] 0\.[0-9]+" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --bf16 --image "$dir/clean.ppm"
else
  check "infer: --bf16 on a CPU without bf16" 1 "needs a CPU that multiplies bf16" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --bf16 --image "$dir/clean.ppm"
fi
check "infer: says where it runs" 0 "^hush: running on the CPU \(compiled without CUDA\)" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm"
check "infer: HUSH_DEVICE=cpu" 0 "running on the CPU \(HUSH_DEVICE=cpu\)" env HUSH_DEVICE=cpu "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm"
check "infer: HUSH_DEVICE=cuda without a GPU" 1 "HUSH_DEVICE=cuda, but this program cannot use a GPU \(compiled without CUDA\)" env HUSH_DEVICE=cuda "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm"
check "infer: HUSH_DEVICE of no device" 1 "HUSH_DEVICE=tpu is not a device: use cpu or cuda" env HUSH_DEVICE=tpu "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm"
check "infer: weights of another model" 1 "missing tensor 'layer1.3.conv1.weight'" "$bin/hush-infer" --model resnet56 --weights "$data/resnet20.weights.safetensors" --input "$data/resnet20_input.safetensors" --output "$dir/out8.safetensors"
check "infer: input of the wrong shape" 1 "must be \(N, 3, H, W\)" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --input "$dir/logits.safetensors" --output "$dir/out9.safetensors"
check "infer: several tensors in the input" 1 "expected exactly one tensor, found 5" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --input "$data/quality_grey.safetensors" --output "$dir/out10.safetensors"
check "infer: a VGG given a ResNet's weights" 1 "missing tensor 'features.0.weight' \(is this a vgg16\?\)" "$bin/hush-infer" --model vgg16 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm"
check "infer: a ViT given a ResNet's weights" 1 "missing tensor 'conv_proj.weight' \(is this a vit_b_16\?\)" "$bin/hush-infer" --model vit_b_16 --weights "$data/resnet20.weights.safetensors" --image "$dir/clean.ppm"
check "infer: missing weights" 1 "absent.safetensors: no such file" "$bin/hush-infer" --model resnet20 --weights "$dir/absent.safetensors" --image "$dir/clean.ppm"
check "robustness: unknown regime" 1 "unknown regime 'fancy'" "$bin/hush-robustness" --regimes clean,fancy --out "$dir/out11"
check "robustness: unknown training noise" 1 "unknown noise 'blur'" "$bin/hush-robustness" --train-noise "blur(size=3)" --out "$dir/out12"
check "robustness: missing data" 1 "nodata/train-images-idx3-ubyte.gz: no such file" "$bin/hush-robustness" --data "$dir/nodata" --out "$dir/out13"
check "robustness: a tiny study" 0 "pivot epoch 1 \(dist/pair [0-9.]+  max\|logit\| [0-9.]+\): test accuracy clean" "$bin/hush-robustness" --regimes mixed,pivot --limit 256 --test-limit 100 --epochs 1 --out "$dir/study"
check "robustness: the table" 0 "\| pivot \| [0-9.]+ \|" cat "$dir/study/robustness.md"
check "robustness: a deeper ResNet by name" 0 "ResNet-56, clean epoch 1.*test accuracy clean [0-9.]+%" "$bin/hush-robustness" --model resnet56 --regimes clean --limit 128 --test-limit 64 --epochs 1 --batch 64 --out "$dir/study56"
check "robustness: its name in the table" 0 "^# Noise robustness: ResNet-56 on Fashion-MNIST" cat "$dir/study56/robustness.md"
# Names, not indices: a trained model carries its classes' names; --classes gives others (the
# right number of them); a 1000-class network prints ImageNet's (share/imagenet_classes.txt).
fashion="T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot"
check "infer: a trained model's class names" 0 "clean.ppm:  ($fashion) \([0-9]\) 0\.[0-9]+  ($fashion) \(" "$bin/hush-infer" --model resnet56 --weights "$dir/study56/robustness/clean/model.safetensors" --image "$dir/clean.ppm"
printf 'zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n' >"$dir/digits.txt"
check "infer: --classes" 0 "clean.ppm:  (zero|one|two|three|four|five|six|seven|eight|nine) \([0-9]\) 0\." "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --classes "$dir/digits.txt" --image "$dir/clean.ppm"
head -3 "$dir/digits.txt" >"$dir/three.txt"
check "infer: --classes of another count" 1 "three.txt: 3 class names for a network of 10 classes" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --classes "$dir/three.txt" --image "$dir/clean.ppm"
/usr/bin/python3 - "$data/resnet20.weights.safetensors" "$dir/resnet20_1000.safetensors" <<'PY'
import json, random, struct, sys  # the reference ResNet-20 with a 1000-class head: an ImageNet-sized output
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, body = json.loads(raw[8:8 + n]), raw[8 + n:]
random.seed(1)
tensors, out = {}, b""
for name, t in header.items():
    if name == "__metadata__":
        continue
    data = body[t["data_offsets"][0]:t["data_offsets"][1]]
    shape = t["shape"]
    if name in ("fc.weight", "fc.bias"):
        shape = [1000] + shape[1:]
        count = 1
        for d in shape:
            count *= d
        data = struct.pack("<%df" % count, *[random.gauss(0, 0.1) for _ in range(count)])
    tensors[name] = {"dtype": t["dtype"], "shape": shape, "data_offsets": [len(out), len(out) + len(data)]}
    out += data
head = json.dumps(tensors).encode()
head += b" " * (-len(head) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(head)) + head + out)
PY
check "infer: ImageNet's names for 1000 classes" 0 "clean.ppm:  [a-z][^()]* \([0-9]+\) 0\.[0-9]+" "$bin/hush-infer" --model resnet20 --weights "$dir/resnet20_1000.safetensors" --image "$dir/clean.ppm"
check "robustness: unknown model" 1 "resnet50 not in \{resnet20,resnet56,resnet110\}" "$bin/hush-robustness" --model resnet50 --out "$dir/out40"
check "robustness: the seed's recipe, Adam, mean subtracted" 0 "seed 000 mix [0-9.]+%" "$bin/hush-robustness" --regimes clean --limit 256 --test-limit 100 --epochs 1 --recipe seed004 --optimizer adam --lr 0.001 --subtract-mean --crop-padding 2 --out "$dir/study2"
check "robustness: the recipe in the table's notes" 0 "Adam betas \(0.9, 0.999\), weight decay 0.0001; lr 0.001 times 0.1 at steps 4000, 6000" cat "$dir/study2/robustness.md"
check "infer: a model trained with the pixel mean subtracted refuses images" 1 "per-pixel mean subtracted, which the file does not hold" "$bin/hush-infer" --model resnet20 --weights "$dir/study2/robustness/clean/model.safetensors" --image "$dir/clean.ppm"
check "robustness: a multi-step schedule without milestones" 1 "a multi-step schedule needs its milestones" "$bin/hush-robustness" --schedule multi-step --out "$dir/out36"
check "robustness: Nesterov without momentum" 1 "Nesterov momentum needs momentum > 0" "$bin/hush-robustness" --momentum 0 --out "$dir/out37"
check "robustness: per-regime files" 0 "" ls "$dir/study/robustness.png" "$dir/study/robustness/pivot/log.csv" "$dir/study/robustness/pivot/curves.png" "$dir/study/robustness/pivot/checkpoint.safetensors"
check "robustness: resume with other settings" 1 "was written by another run" "$bin/hush-robustness" --regimes pivot --limit 256 --test-limit 100 --epochs 1 --batch 64 --resume --out "$dir/study"
# Outputs never replace what they should not (issue 15): nothing at the path is changed.
ln -s "$dir/clean.ppm" "$dir/link.png"
mkfifo "$dir/fifo.png"
check "noise: output is a device" 1 "/dev/null: is a character device" "$bin/hush-noise" --spec seed001 "$dir/clean.ppm" /dev/null
check "noise: /dev/null is still a device" 0 "" test -c /dev/null
check "noise: output is a symlink" 1 "link.png: is a symbolic link" "$bin/hush-noise" --spec seed001 "$dir/clean.ppm" "$dir/link.png"
check "noise: the symlink is still one" 0 "" test -L "$dir/link.png"
check "noise: output is a FIFO" 1 "fifo.png: is a FIFO" "$bin/hush-noise" --spec seed001 "$dir/clean.ppm" "$dir/fifo.png"
check "noise: output is the input" 1 "is the input .*clean.ppm" "$bin/hush-noise" --spec seed001 "$dir/clean.ppm" "$dir/./clean.ppm"
check "noise: output folder missing" 1 "the folder .*/absent does not exist" "$bin/hush-noise" --spec seed001 "$dir/clean.ppm" "$dir/absent/out14.png"
check "noise: no folder was made" 1 "" test -e "$dir/absent"
check "gallery: output is the input" 1 "is the input" "$bin/hush-noise-gallery" "$dir/clean.ppm" "$dir/clean.ppm"
check "infer: output is the weights" 1 "is the input" "$bin/hush-infer" --model resnet20 --weights "$data/resnet20.weights.safetensors" --input "$data/resnet20_input.safetensors" --output "$data/resnet20.weights.safetensors"
echo "a file" >"$dir/outfile"
check "robustness: --out is a file, found before training" 1 "outfile: the output folder is a file" "$bin/hush-robustness" --regimes clean --limit 256 --test-limit 100 --epochs 1 --out "$dir/outfile"
rm "$dir/outfile"
# Training tools validate their options before any work (issue 15).
check "robustness: --lambda nan" 1 "\-\-lambda must be a finite number >= 0, not nan" "$bin/hush-robustness" --lambda nan --out "$dir/out15"
check "robustness: --time-steps with a batch above the data set" 1 "\-\-batch 60001 is larger than the 60000 training images" "$bin/hush-robustness" --time-steps 1 --batch 60001
if [[ -x $bin/hush-train-fashion-mnist ]]; then
  check "train example: --limit below one batch" 1 "\-\-limit 10 images do not fill one batch of 64" "$bin/hush-train-fashion-mnist" --limit 10 --batch 64 --out "$dir/out16"
fi
# Images: sized from the header before decoding; inputs named for what they are (issue 15).
{ printf 'P6\n20000 20000\n255\n'; head -c 300 /dev/zero; } >"$dir/claims-huge.ppm"
check "quality: 400 megapixels claimed by a 300-byte file" 1 "claims-huge.ppm: 20000 x 20000 pixels, above the limit of 50000000" "$bin/hush-quality" "$dir/claims-huge.ppm" "$dir/claims-huge.ppm"
{ printf 'P5\n1 20000\n255\n'; head -c 20000 /dev/zero; } >"$dir/tall.pgm"
check "gallery: a 1 x 20000 image" 1 "tall.pgm: 1 x 20000 pixels: too narrow or too flat" "$bin/hush-noise-gallery" "$dir/tall.pgm" "$dir/out17.png"
check "noise: a folder as the input" 1 "is a directory, not a file" "$bin/hush-noise" --spec seed001 "$dir" "$dir/out18.png"
check "noise: --max-pixels" 1 "64 x 48 pixels, above the limit of 1000" "$bin/hush-noise" --spec seed001 --max-pixels 1000 "$dir/clean.ppm" "$dir/out19.png"
check "infer: the weights are checked before any image is read" 1 "missing tensor 'layer1.3.conv1.weight'" "$bin/hush-infer" --model resnet56 --weights "$data/resnet20.weights.safetensors" --image "$dir/claims-huge.ppm"
check "robustness: fewer images than one batch, found before training" 1 "100 training images do not fill one batch of 128" "$bin/hush-robustness" --regimes clean --limit 100 --test-limit 100 --epochs 1 --batch 128 --out "$dir/out20"
# hush-denoise: a tiny training run on two photos, then the photo through its weights; bad inputs.
mkdir -p "$dir/photos/train" "$dir/photos/val"
"$bin/hush-noise" --spec "gaussian(sigma=0.02)" --seed 1 "$dir/clean.ppm" "$dir/photos/train/a.png" >/dev/null
"$bin/hush-noise" --spec "gaussian(sigma=0.02)" --seed 2 "$dir/clean.ppm" "$dir/photos/train/b.png" >/dev/null
cp "$dir/clean.ppm" "$dir/photos/val/c.ppm"
check "denoise: train" 0 "residual_unet epoch 2: validation PSNR [0-9.]+ dB" "$bin/hush-denoise" train --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/den" --width 4 --epochs 2 --steps 3 --batch 2 --crop 32 --noise "gaussian(sigma=0.1)"
check "denoise: its files" 0 "" ls "$dir/den/log.csv" "$dir/den/curves.png" "$dir/den/checkpoint.safetensors" "$dir/den/weights.safetensors"
check "denoise: a photo, with PSNR and SSIM" 0 "denoised: psnr=[0-9.]+ ssim=[0-9.]+" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" --reference "$dir/clean.ppm" "$dir/noisy.png" "$dir/denoised.png"
check "denoise: the noisy line" 0 "noisy: psnr=[0-9.]+ ssim=[0-9.]+" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" --reference "$dir/clean.ppm" "$dir/noisy.png" "$dir/denoised2.png"
check "denoise: side by side" 0 "compare.png: noisy \| denoised \| clean, side by side" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" --reference "$dir/clean.ppm" --compare "$dir/compare.png" "$dir/noisy.png" "$dir/denoised4.png"
png_width() { od -An -tu1 -j16 -N4 "$1" | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}'; }
check "denoise: three panels of 64 pixels side by side" 0 "^192$" png_width "$dir/compare.png"
check "denoise: the output has the photo's size" 0 "^psnr=" "$bin/hush-quality" "$dir/clean.ppm" "$dir/denoised.png"
if grep -qwE "avx512_bf16|amx_bf16" /proc/cpuinfo; then
  check "denoise: --bf16" 0 "denoised: psnr=[0-9.]+ ssim=[0-9.]+" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" --bf16 --reference "$dir/clean.ppm" "$dir/noisy.png" "$dir/denoised_bf16.png"
fi
check "denoise: a checkpoint serves as weights" 0 "denoised3.png: 64 x 48 pixels" "$bin/hush-denoise" --weights "$dir/den/checkpoint.safetensors" "$dir/noisy.png" "$dir/denoised3.png"
check "denoise: resume with other settings" 1 "was written by another run" "$bin/hush-denoise" train --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/den" --width 4 --epochs 2 --steps 3 --batch 2 --crop 32 --lr 0.01 --resume
check "denoise: not an image" 1 "fake.png: not an image hush reads" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" "$dir/fake.png" "$dir/out21.png"
check "denoise: weights of a classifier" 1 "not a denoiser's weights" "$bin/hush-denoise" --weights "$data/resnet20.weights.safetensors" "$dir/noisy.png" "$dir/out22.png"
check "denoise: output folder missing" 1 "the folder .*/absent does not exist" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" "$dir/noisy.png" "$dir/absent/out23.png"
check "denoise: output is the input" 1 "is the input" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" "$dir/noisy.png" "$dir/noisy.png"
check "denoise: a reference of another size" 1 "a reference must have the noisy photo's size" "$bin/hush-denoise" --weights "$dir/den/weights.safetensors" --reference "$dir/small.ppm" "$dir/noisy.png" "$dir/out24.png"
check "denoise: a crop above the photos" 1 "smaller than the 64-pixel crop" "$bin/hush-denoise" train --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/out25" --width 4 --epochs 1 --steps 1 --crop 64
check "denoise: masked L2 needs noise2noise" 1 "needs noise2noise pairs" "$bin/hush-denoise" train --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/out26" --loss masked_l2
check "denoise: unknown model" 1 "unknown denoiser 'vdsr'" "$bin/hush-denoise" train --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/out27" --model vdsr
# Seed 001's GAN through the same command: the generator's weights serve hush-denoise.
check "denoise: a GAN run" 0 "residual_unet gan epoch 2: validation PSNR [0-9.]+ dB" "$bin/hush-denoise" train --gan --recipe seed001 --content l1 --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/gan" --width 4 --d-width 4 --epochs 2 --steps 2 --batch 2 --crop 32 --noise "gaussian(sigma=0.1)"
check "denoise: the GAN run's files" 0 "" ls "$dir/gan/log.csv" "$dir/gan/curves.png" "$dir/gan/checkpoint.safetensors" "$dir/gan/generator.safetensors" "$dir/gan/discriminator.safetensors" "$dir/gan/grids/epoch_002.png"
check "denoise: a GAN generator's weights" 0 "denoised: psnr=[0-9.]+" "$bin/hush-denoise" --weights "$dir/gan/generator.safetensors" --reference "$dir/clean.ppm" "$dir/noisy.png" "$dir/denoised5.png"
check "denoise: GAN options need --gan" 1 "--content requires --gan" "$bin/hush-denoise" train --content vgg --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/out28"
check "denoise: a VGG file that is not one" 1 "missing tensor 'features.0.weight'" "$bin/hush-denoise" train --gan --content vgg --vgg-weights "$data/resnet20.weights.safetensors" --train "$dir/photos/train" --val "$dir/photos/val" --out "$dir/out29" --width 4 --d-width 4 --epochs 1 --steps 1 --batch 2 --crop 32
# hush-denoise-app (its page and API are tested in tests/app/): the models it offers, and how it
# refuses to start. app_run starts it on a free port, waits until it serves, then stops it.
app_run() {
  local log  # a new file each time: an earlier run's "serving" line must not be read as this one's
  log=$(mktemp "$dir/app.XXXXXX")
  "$bin/hush-denoise-app" --port 0 "$@" >"$log" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 100; i++)); do
    grep -q "serving http" "$log" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM $pid 2>/dev/null
  wait $pid
  local rc=$?
  cat "$log"
  return $rc
}
mkdir -p "$dir/models"
cp "$dir/den/weights.safetensors" "$dir/models/tiny.safetensors"
cp "$data/resnet20.weights.safetensors" "$dir/models/classifier.safetensors"
check "app: the shipped and a trained denoiser" 0 "model tiny: residual_unet channels=3 width=4" app_run --models "$dir/models"
check "app: a classifier's weights are left out, named" 0 "left out .*classifier.safetensors: not a denoiser's weights" app_run --models "$dir/models"
check "app: stopped by SIGTERM, cleanly" 0 "terminated, stopping" app_run
check "app: --models that is not a folder" 1 "noisy.png: --models is not a folder" "$bin/hush-denoise-app" --models "$dir/noisy.png"
check "app: a work folder that is a file" 1 "the output folder is a file" "$bin/hush-denoise-app" --work "$dir/noisy.png"
check "app: a tile that is not a multiple of 32" 1 "--tile must be a multiple of 32" "$bin/hush-denoise-app" --tile 100
check "app: an address it cannot listen on" 1 "cannot listen on 203.0.113.1:8080" "$bin/hush-denoise-app" --host 203.0.113.1

# Seed 002's study (hush-resgan): two tiny runs on Fashion-MNIST, their table and figure; bad inputs.
tiny=(--factor 7 --epochs 2 --steps 3 --batch 8 --width 4 --test-limit 40 --validation 20)
check "resgan: a ResGAN run" 0 "resgan x7: test PSNR [0-9.]+ dB, SSIM 0\.[0-9]+ \(nearest [0-9.]+" "$bin/hush-resgan" train --variant resgan "${tiny[@]}" --out "$dir/resgan"
check "resgan: its files" 0 "" ls "$dir/resgan/log.csv" "$dir/resgan/curves.png" "$dir/resgan/grids/epoch_002.png" "$dir/resgan/generator.safetensors" "$dir/resgan/discriminator.safetensors" "$dir/resgan/score.json"
check "resgan: a conditional GAN run" 0 "cgan x7: test PSNR" "$bin/hush-resgan" train --variant cgan "${tiny[@]}" --out "$dir/cgan"
check "resgan: the table and figure" 0 "figure: .*restorations.png" "$bin/hush-resgan" table --out "$dir/table.md" --grid "$dir/restorations.png" "$dir/resgan" "$dir/cgan"
check "resgan: the table's rows" 0 "\| resgan \| x7 \| 6 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+% / [0-9.]+% \|" cat "$dir/table.md"
check "resgan: the conditional GAN's row" 0 "\| cgan \| x7 \| 6 \| .* \| — \|" cat "$dir/table.md"
check "resgan: unknown variant" 1 "fancy not in" "$bin/hush-resgan" train --variant fancy --out "$dir/out30"
check "resgan: a classifier for colour images, found before training" 1 "conv1.weight' has shape \(16, 3, 3, 3\), expected \(16, 1, 3, 3\)" "$bin/hush-resgan" train --variant dcgan "${tiny[@]}" --classifier "$data/resnet20.weights.safetensors" --out "$dir/out31"
check "resgan: the table of a run that has not finished" 1 "out32/score.json: cannot read it" "$bin/hush-resgan" table "$dir/out32"
check "resgan: missing data" 1 "nodata/train-images-idx3-ubyte.gz: no such file" "$bin/hush-resgan" train --data "$dir/nodata" --out "$dir/out33"
# The MAE (hush-mae): tiny runs on Fashion-MNIST and on photo crops, resume, eval, figure, the
# photo MAE as hush-denoise's denoiser; bad inputs.
small=(--epochs 3 --stop-after 2 --steps 3 --batch 8 --validation 16 --test 16)
check "mae: a Fashion-MNIST run" 0 "mae \(fashion-mnist\) epoch 2: validation loss [0-9.]+, dropped patches MSE [0-9.]+, PSNR [0-9.]+ dB" "$bin/hush-mae" train --data fashion-mnist "${small[@]}" --out "$dir/mae"
check "mae: its files" 0 "" ls "$dir/mae/log.csv" "$dir/mae/curves.png" "$dir/mae/checkpoint.safetensors" "$dir/mae/weights.safetensors" "$dir/mae/reconstruction.png"
check "mae: resume" 0 "resuming after epoch 2 of 3" "$bin/hush-mae" train --data fashion-mnist --epochs 3 --steps 3 --batch 8 --validation 16 --test 16 --out "$dir/mae" --resume
check "mae: eval at two ratios" 0 "\| 0\.75 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|" "$bin/hush-mae" eval --weights "$dir/mae/weights.safetensors" --validation 16 --test 16 --ratios 0,0.75
check "mae: figure" 0 "fig.png" "$bin/hush-mae" figure --weights "$dir/mae/weights.safetensors" --validation 16 --test 16 --out "$dir/fig.png" --count 4
mkdir -p "$dir/photos/test" && cp "$dir/clean.ppm" "$dir/photos/test/d.ppm"
check "mae: a photo run" 0 "mae \(photos\) epoch 1" "$bin/hush-mae" train --data photos --dir "$dir/photos" --epochs 1 --steps 2 --batch 4 --validation 4 --test 4 --out "$dir/maep"
check "mae: as hush-denoise's denoiser" 0 "mae_small \(mask ratio 0\.75\)" "$bin/hush-denoise" --weights "$dir/maep/weights.safetensors" "$dir/clean.ppm" "$dir/mae_denoised.png"
check "mae: a Fashion-MNIST MAE cannot denoise photos" 1 "an MAE of 28-pixel images" "$bin/hush-denoise" --weights "$dir/mae/weights.safetensors" "$dir/clean.ppm" "$dir/out34.png"
check "mae: weights that are not an MAE's" 1 "no 'hush.network' in its metadata" "$bin/hush-mae" eval --weights "$data/resnet20.weights.safetensors"
check "mae: a ratio out of range" 1 "'1.2' is not a ratio in \[0, 1\)" "$bin/hush-mae" eval --weights "$dir/mae/weights.safetensors" --ratios 0.5,1.2
check "mae: photos without their folders" 1 "nodata: no val folder" "$bin/hush-mae" train --data photos --dir "$dir/nodata" --out "$dir/out35"

# Seed 000's study (hush-front-ends): every arm, tiny, the front ends trained for a few steps.
check "front ends: a tiny study" 0 "mae-tuned epoch 1: test accuracy clean [0-9.]+%, noisy \(seed000\) [0-9.]+%" "$bin/hush-front-ends" --limit 256 --test-limit 64 --epochs 1 --front-epochs 1 --front-steps 3 --batch 32 --out "$dir/fe"
check "front ends: the table" 0 "\| gan-frozen \| 1 \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \|" cat "$dir/fe/front_ends.md"
# The fine-tuned MAE's own default recipe (AdamW) when the command line names none; any recipe
# option applies to every arm.
check "front ends: the fine-tuned MAE under AdamW" 0 "one-cycle lr 0.1; the mae-tuned arm: AdamW betas \(0.9, 0.999\), weight decay 0.05; cosine lr 0.001 to 0\)" cat "$dir/fe/front_ends.md"
# --report: the arms already trained, from their checkpoints, without training.
check "front ends: a report of the arms trained" 0 "^- resnet: .*; 256 training images; 1 epochs of 8 steps, batch 32; .*seed 1$" "$bin/hush-front-ends" --report --out "$dir/fe"
check "front ends: the report's table" 0 "\| mae-tuned \| 1 \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \|" cat "$dir/fe/front_ends.md"
check "front ends: the report names the MAE arm's AdamW" 0 "^- mae-tuned: .*; AdamW betas \(0.9, 0.999\), weight decay 0.05; cosine lr 0.001 to 0;" cat "$dir/fe/front_ends.md"
"$bin/hush-front-ends" --arms mae-tuned --mae "$dir/fe/mae/weights.safetensors" --lr 0.05 --limit 64 --test-limit 16 --epochs 1 --batch 32 --out "$dir/fe_lr" >/dev/null
check "front ends: a recipe option reaches the MAE arm" 0 "^- mae-tuned: .*; SGD momentum 0.9 \(Nesterov\), weight decay 0.0005; one-cycle lr 0.05;" "$bin/hush-front-ends" --report --arms mae-tuned --out "$dir/fe_lr"
"$bin/hush-front-ends" --arms resnet --noise "gaussian(sigma=0.2)" --limit 64 --test-limit 16 --epochs 1 --batch 32 --out "$dir/fe_mixed" >/dev/null
check "front ends: a report of some arms" 0 "Not trained into .*fe_mixed: gan-tuned\." "$bin/hush-front-ends" --report --arms resnet,gan-tuned --out "$dir/fe_mixed"
cp -r "$dir/fe/mae-tuned" "$dir/fe_mixed/"
check "front ends: a report of arms tested on other noise" 1 "mae-tuned was tested on 'noisy \(seed000\)', resnet on 'noisy \(gaussian\(sigma=0.2\)\)'" "$bin/hush-front-ends" --report --out "$dir/fe_mixed"
mkdir -p "$dir/fe_empty"
check "front ends: a report of nothing" 1 "no arm has been trained into .*fe_empty" "$bin/hush-front-ends" --report --out "$dir/fe_empty"
mkdir -p "$dir/fe_cut/resnet" && head -c 100 "$dir/fe/resnet/checkpoint.safetensors" >"$dir/fe_cut/resnet/checkpoint.safetensors"
check "front ends: a report of a cut checkpoint, named" 1 "fe_cut/resnet/checkpoint.safetensors" "$bin/hush-front-ends" --report --out "$dir/fe_cut"
check "front ends: their files" 0 "" ls "$dir/fe/front_ends.png" "$dir/fe/gan/generator.safetensors" "$dir/fe/mae/weights.safetensors" "$dir/fe/mae-frozen/model.safetensors"
check "front ends: one file for both networks" 0 "classifier\.fc\.weight .*front_end\.1\.weight" python3 -c "import json,struct,sys; f=open(sys.argv[1],'rb'); n=struct.unpack('<Q',f.read(8))[0]; print(' '.join(sorted(json.loads(f.read(n)))))" "$dir/fe/gan-frozen/model.safetensors"
check "front ends: an unknown arm" 1 "unknown arm 'vae'" "$bin/hush-front-ends" --arms resnet,vae --out "$dir/out38"
check "front ends: weights that are not a generator's" 1 "saved from a different structure \(mae_small" "$bin/hush-front-ends" --arms gan-frozen --gan "$dir/mae/weights.safetensors" --limit 64 --test-limit 16 --epochs 1 --out "$dir/out39"
# The study on the user's folders: two classes of the test images above, by class folder and by
# CACD2000's naming, streamed from disk.
mkdir -p "$dir/folders/train/"{a,b} "$dir/folders/test/"{a,b} "$dir/folders/bad/"{a,c} "$dir/cacd/train" "$dir/cacd/test"
for i in 1 2 3 4 5 6 7 8; do
  cp "$dir/clean.ppm" "$dir/folders/train/a/$i.ppm"; cp "$dir/noisy.png" "$dir/folders/train/b/$i.png"
  cp "$dir/clean.ppm" "$dir/cacd/train/3${i}_Ann_Lee_000$i.ppm"; cp "$dir/noisy.png" "$dir/cacd/train/4${i}_Bo_Chan_000$i.png"
done
for d in test bad; do cp "$dir/clean.ppm" "$dir/folders/$d/a/1.ppm"; done
cp "$dir/noisy.png" "$dir/folders/test/b/1.png"; cp "$dir/noisy.png" "$dir/folders/bad/c/1.png"
cp "$dir/clean.ppm" "$dir/cacd/test/30_Ann_Lee_0009.ppm"
check "front ends: class folders, ResNet-50 by default" 0 "gan-frozen epoch 1: test accuracy clean [0-9.]+%.*waiting for data" "$bin/hush-front-ends" --folder "$dir/folders/train" --test-folder "$dir/folders/test" --size 32 --arms resnet,gan-frozen --epochs 1 --front-epochs 1 --front-steps 2 --batch 8 --out "$dir/fe_folder"
check "front ends: the folder study's table" 0 "ResNet-50 trained on 16 clean images \(class folders of .*/folders/train\)" cat "$dir/fe_folder/front_ends.md"
check "front ends: CACD2000 naming" 0 "2 classes; .*cacd/test: 1 test images" "$bin/hush-front-ends" --folder "$dir/cacd/train" --test-folder "$dir/cacd/test" --cacd --model resnet20 --size 32 --arms resnet --epochs 1 --batch 8 --out "$dir/fe_cacd"
check "front ends: a test class the training lacks" 1 "folders/bad: class 'c' is not one of the training folder's 2 classes" "$bin/hush-front-ends" --folder "$dir/folders/train" --test-folder "$dir/folders/bad" --arms resnet --out "$dir/out41"
printf 'not an image' >"$dir/folders/train/b/9.png"
check "front ends: a broken training file, named" 1 "folders/train/b/9.png" "$bin/hush-front-ends" --folder "$dir/folders/train" --test-folder "$dir/folders/test" --model resnet20 --size 32 --arms resnet --epochs 1 --batch 8 --out "$dir/out42"
check "front ends: a broken training file, skipped" 0 "skipped \(could not be decoded\): .*folders/train/b/9.png" "$bin/hush-front-ends" --folder "$dir/folders/train" --test-folder "$dir/folders/test" --skip-broken --model resnet20 --size 32 --arms resnet --epochs 1 --batch 8 --out "$dir/fe_skip"
check "front ends: --folder without --test-folder" 1 "\-\-folder and \-\-test-folder go together" "$bin/hush-front-ends" --folder "$dir/folders/train" --out "$dir/out43"
check "front ends: a size the front ends cannot take" 1 "\-\-size 30 is not a multiple of 4" "$bin/hush-front-ends" --folder "$dir/folders/train" --test-folder "$dir/folders/test" --size 30 --out "$dir/out44"
check "front ends: a folder option without --folder" 1 "\-\-cacd requires \-\-folder" "$bin/hush-front-ends" --cacd --out "$dir/out45"
left=$(ls "$dir" | grep -c '^out' || true)
if ((left != 0)); then echo "FAIL a failed run left a file behind: $(ls "$dir")"; failures=$((failures + 1)); fi
echo "$((checks - failures)) passed, $failures failed"
((failures == 0))
