// hush-denoise: cleans a photo with a trained denoiser, and trains one.
//   hush-denoise noisy.jpg clean.png                        the shipped blind denoiser
//   hush-denoise --weights run/weights.safetensors --reference original.png noisy.jpg out.png
//   hush-denoise train --train photos/train --val photos/val --out run --noise seed001
//   hush-denoise train --gan --recipe seed001 --content vgg --vgg-weights vgg19.safetensors ...   seed 001's GAN
//   hush-denoise table --val photos/val --set test=photos/test --weights blind=run/weights.safetensors --out t.md
// A weights file says which network it holds (its "hush.denoiser" metadata, written by
// `train`); a checkpoint.safetensors serves too, and so do hush-mae's weights (an MAE trained on
// 32-pixel photo crops, run as models/mae.hpp's mae_reconstruction in 32-pixel tiles at
// --mae-ratio). Photos of any size: padded to the network's
// multiple, cut into overlapping tiles above --tile pixels a side (memory is one tile's).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "hush/backend/devices.hpp"
#include "hush/denoise/apply.hpp"
#include "hush/denoise/models.hpp"
#include "hush/hush.hpp"
#include "hush/io/opencv.hpp"
#include "hush/metrics/quality.hpp"
#include "hush/losses/perceptual.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/models/vgg.hpp"
#include "hush/distributed/launch.hpp"
#include "hush/train/denoiser.hpp"
#include "hush/train/gan_denoiser.hpp"
#include "denoise_table.hpp"
#include "denoisers.hpp"

namespace fs = std::filesystem;

namespace {

struct apply_args {
  std::string input, output, weights, reference, compare;
  std::int64_t tile = 512, overlap = 32, max_pixels = hush::io::default_max_pixels;
};

/// NAME=VALUE, split; `what` names the option in errors.
std::pair<std::string, std::string> named_value(const std::string& text, const char* what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw hush::error(std::string(what) + " '" + text + "' is not NAME=VALUE");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

/// The photo through the denoiser; the output, its speed, and with a reference PSNR and SSIM.
int apply(const hush::tools::loaded_denoiser& d, const apply_args& a) {
  const auto channels = d.choice.channels;
  cv::Mat raw = hush::io::read_image(a.input, channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE, a.max_pixels);
  const hush::tensor noisy = hush::io::to_tensor(raw);
  const auto& s = noisy.shape();
  hush::tensor clean;
  if (!a.reference.empty()) {  // read before the work, so a bad reference fails fast
    clean = hush::io::to_tensor(hush::io::read_image(a.reference, channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE, a.max_pixels));
    if (clean.shape() != noisy.shape())
      throw hush::shape_error(a.reference + " is " + clean.shape().str() + ", " + a.input + " is " + noisy.shape().str() +
                              ": a reference must have the noisy photo's size");
  }
  const auto start = std::chrono::steady_clock::now();
  hush::denoise::apply_options how;
  how.tile = a.tile, how.overlap = a.overlap, how.progress = true;
  hush::tensor y = d.run(noisy, how);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto& v : y.values()) v = std::clamp(v, 0.0f, 1.0f);
  hush::io::write_image(a.output, hush::io::to_image(y, CV_8U));
  std::printf("%s: %lld x %lld pixels in %.2f s (%.2f megapixels/s)\n", a.output.c_str(), static_cast<long long>(s[2]),
              static_cast<long long>(s[1]), seconds, double(s[1] * s[2]) / seconds / 1e6);
  std::string noisy_text = "noisy", denoised_text = "denoised";
  if (!a.reference.empty()) {
    char line[96];
    std::snprintf(line, sizeof line, "psnr=%.2f ssim=%.4f", hush::metrics::psnr(clean, noisy), hush::metrics::ssim(clean, noisy));
    std::printf("noisy: %s\n", line);
    noisy_text += ": " + std::string(line);
    std::snprintf(line, sizeof line, "psnr=%.2f ssim=%.4f", hush::metrics::psnr(clean, y), hush::metrics::ssim(clean, y));
    std::printf("denoised: %s\n", line);
    denoised_text += ": " + std::string(line);
  }
  if (!a.compare.empty()) {  // noisy | denoised (| clean), each under its caption
    std::vector<cv::Mat> panels;
    const auto panel = [&](const hush::tensor& t, const std::string& caption) {
      const cv::Mat image = hush::io::to_image(t, CV_8U);
      const int band = std::max(24, image.rows / 16);
      const double scale = band / 40.0;
      cv::Mat p(image.rows + band, image.cols, image.type(), cv::Scalar::all(255));
      image.copyTo(p(cv::Rect(0, band, image.cols, image.rows)));
      cv::putText(p, caption, {band / 4, band * 3 / 4}, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar::all(0),
                  std::max(1, int(2 * scale)), cv::LINE_AA);
      panels.push_back(p);
    };
    panel(noisy, noisy_text);
    panel(y, denoised_text);
    if (!a.reference.empty()) panel(clean, "clean");
    cv::Mat side;
    cv::hconcat(panels, side);
    hush::io::write_image(a.compare, side);
    std::printf("%s: noisy | denoised%s, side by side\n", a.compare.c_str(), a.reference.empty() ? "" : " | clean");
  }
  return 0;
}

struct train_args {
  std::string train, val, out, noise = "seed001", pairs = "supervised", loss = "l2";
  hush::denoise::model_choice model;
  hush::train::denoiser_options o;
  std::int64_t max_side = 0;
  // Against a discriminator (--gan): seed 001's DCGAN-style one, `d_width` channels at its first block.
  bool gan = false;
  std::string content = "l2", vgg_weights, adversarial = "bce", critic = "separate", schedule = "cosine";
  std::int64_t d_width = 16;
  float beta1 = 0.9f;
  hush::train::adversarial_options recipe;
  double bucket_mb = 4;
};

/// The generator's content term, chosen at run time: L2, L1, or VGG features up to relu2_1.
/// Seed 001 uses "the 4th layer of a VGG network": read as Keras's VGG19 layers[4], block2_conv1
/// with its ReLU, which is torchvision's features[:7].
template <class Backend>
class content_loss {
 public:
  using vgg_relu2_1 = hush::perceptual_loss<hush::models::vgg_features<64, 64, 0, 128>, Backend>;
  content_loss(const std::string& kind, const std::string& vgg_weights, Backend backend, hush::shape batch) : kind_(kind) {
    if (kind_ != "vgg") return;
    vgg_ = std::make_shared<vgg_relu2_1>(typename vgg_relu2_1::options{.weights = vgg_weights, .seed = 1, .backend = backend});
    vgg_->setup(batch);  // a bad weights file stops the run before it starts
  }
  template <class Ctx>
  float forward(Ctx& ctx, const hush::tensor_of<Ctx>& pred, const hush::tensor_of<Ctx>& target) {
    if (kind_ == "vgg") return vgg_->forward(ctx, pred, target);
    return kind_ == "l1" ? l1_.forward(ctx, pred, target) : l2_.forward(ctx, pred, target);
  }
  template <class Ctx>
  const hush::tensor_of<Ctx>& backward(const Ctx& ctx) const {
    if (kind_ == "vgg") return vgg_->backward(ctx);
    return kind_ == "l1" ? l1_.backward(ctx) : l2_.backward(ctx);
  }

 private:
  std::string kind_;
  hush::mse_loss l2_;
  hush::l1_loss l1_;
  std::shared_ptr<vgg_relu2_1> vgg_;
};

template <class Net, class Backend>
int train(Backend backend, Net net, train_args& a) {
  hush::model<Net, Backend> m({.seed = a.o.seed, .backend = backend}, std::move(net));
  const hush::data::photos_options po{.channels = int(a.model.channels), .max_side = a.max_side};
  const auto train = hush::data::photos::from_folder(a.train, po), val = hush::data::photos::from_folder(a.val, po);
  std::printf("%s: %lld training photos (%s), %lld validation photos (%s)\n", a.o.title.c_str(),
              static_cast<long long>(train.size()), a.train.c_str(), static_cast<long long>(val.size()), a.val.c_str());
  if (!a.gan) {
    hush::train::fit_denoiser(m, train, val, a.o);
    std::printf("%s: weights in %s\n", a.o.title.c_str(), (fs::path(a.out) / "weights.safetensors").c_str());
    return 0;
  }
  using discriminator = hush::models::dcgan_discriminator;
  if (a.o.crop % 32 != 0) throw hush::error("--gan: the crop must be a multiple of 32 (the discriminator halves it five times)");
  hush::model<discriminator, Backend> d({.seed = a.o.seed + 1, .backend = backend},
                                        discriminator({.channels = a.model.channels, .size = a.o.crop, .width = a.d_width}));
  content_loss<Backend> content(a.content, a.vgg_weights, backend, {a.o.batch, a.model.channels, a.o.crop, a.o.crop});
  hush::train::fit_gan_denoiser(m, d, train, val, a.o, a.recipe, std::move(content));
  std::printf("%s: weights in %s (hush-denoise --weights reads them)\n", a.o.title.c_str(),
              (fs::path(a.out) / "generator.safetensors").c_str());
  return 0;
}

}  // namespace

int run(int argc, char** argv, hush::distributed::communicator* world) {
  CLI::App app{"Clean a photo with a trained denoiser (hush-denoise IN OUT), or train one (hush-denoise train ...)"};
  app.require_subcommand(0, 1);
  apply_args a;
  app.add_option("input", a.input, "the noisy photo (PNG, JPEG, BMP, PNM, TIFF or WebP)");
  app.add_option("output", a.output, "where to write the denoised photo (its extension names the format)");
  app.add_option("--weights", a.weights, "a weights file written by 'hush-denoise train' (default: the shipped blind denoiser)");
  float mae_ratio = 0.75f;
  app.add_option("--mae-ratio", mae_ratio, "an MAE's mask ratio when it denoises (0: one pass, every patch seen)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 0.99f));
  app.add_option("--reference", a.reference, "the clean original: prints PSNR and SSIM of the noisy and denoised photos");
  app.add_option("--compare", a.compare, "also write noisy | denoised (| clean) side by side, captioned, to this file");
  app.add_option("--tile", a.tile, "the largest side run at once (a multiple of the network's size multiple)")->capture_default_str();
  app.add_option("--overlap", a.overlap, "context around each tile, computed and discarded")->capture_default_str();
  app.add_option("--max-pixels", a.max_pixels, "refuse photos above this many pixels")->capture_default_str()->check(CLI::PositiveNumber);
  bool bf16 = false;
  app.add_flag("--bf16", bf16, "convolutions in bf16 (CPUs with AVX-512-BF16 or AMX)");

  train_args t;
  auto* tr = app.add_subcommand("train", "train a denoiser on crops of a folder of photos");
  tr->add_option("--train", t.train, "folder of training photos")->required();
  tr->add_option("--val", t.val, "folder of validation photos (scored whole after every epoch; never trained on)")->required();
  tr->add_option("--out", t.out, "folder for log.csv, curves.png, checkpoint.safetensors and weights.safetensors")->required();
  tr->add_option("--model", t.model.name, "dncnn17, residual_unet, noise2noise_unet, resnet18_unet or resnet50_unet")->capture_default_str();
  tr->add_option("--width", t.model.width, "channels of the network's first level (not for the ResNet U-Nets)")->capture_default_str();
  tr->add_option("--channels", t.model.channels, "3 for colour, 1 for grey")->capture_default_str();
  tr->add_option("--noise", t.noise, "the noise spec or preset (hush-noise --help lists them)")->capture_default_str();
  tr->add_option("--pairs", t.pairs, "supervised (noisy -> clean) or noise2noise (noisy -> noisy, the target unclipped)")
      ->capture_default_str()->check(CLI::IsMember({"supervised", "noise2noise"}));
  tr->add_option("--loss", t.loss, "l2, l1, l0 (annealed) or masked_l2 (Bernoulli noise, noise2noise)")
      ->capture_default_str()->check(CLI::IsMember({"l2", "l1", "l0", "masked_l2"}));
  tr->add_option("--epochs", t.o.epochs)->capture_default_str();
  tr->add_option("--steps", t.o.steps, "steps per epoch")->capture_default_str();
  tr->add_option("--batch", t.o.batch)->capture_default_str();
  tr->add_option("--crop", t.o.crop, "side of the random training crops")->capture_default_str();
  auto* o_lr = tr->add_option("--lr", t.o.lr, "Adam's learning rate (cosine decay to a hundredth)")->capture_default_str();
  tr->add_option("--seed", t.o.seed)->capture_default_str();
  tr->add_option("--max-side", t.max_side, "shrink photos whose longer side is above this (0: keep)")->capture_default_str();
  tr->add_flag("--resume", t.o.resume, "continue from OUT/checkpoint.safetensors");
  tr->add_option("--stop-after", t.o.stop_after, "stop after this epoch (resume later)");
  // Adversarial training (train/adversarial.hpp): supervised pairs, the clean crops are D's real images.
  auto* o_gan = tr->add_flag("--gan", t.gan, "train against seed 001's discriminator (writes generator.safetensors and grids/)");
  std::string recipe;
  const auto gan_option = [&](const std::string& name, auto& value, const std::string& help) {
    return tr->add_option(name, value, help)->capture_default_str()->needs(o_gan);
  };
  gan_option("--recipe", recipe,
             "seed001: seed 001's recipe (generator lr 0.005 beta1 0.5, discriminator lr 0.009 beta1 0.9, content weight 0.1, "
             "adversarial weight 0.01, VGG content, constant rates); options given beside it win")
      ->check(CLI::IsMember({"seed001"}));
  auto* o_content = gan_option("--content", t.content, "the generator's content term: l2, l1 or vgg (VGG features to relu2_1)")
                        ->check(CLI::IsMember({"l2", "l1", "vgg"}));
  gan_option("--vgg-weights", t.vgg_weights,
             "a torchvision VGG-16 or VGG-19 state_dict as safetensors (scripts/torchvision_weights.py); without it the VGG is "
             "randomly initialised");
  auto* o_cw = gan_option("--content-weight", t.recipe.content_weight, "lambda_g, the content term's weight");
  auto* o_aw = gan_option("--adversarial-weight", t.recipe.adversarial_weight, "lambda_d, the adversarial term's weight");
  auto* o_beta1 = gan_option("--beta1", t.beta1, "the generator's Adam beta1 (its learning rate is --lr)");
  auto* o_dlr = gan_option("--d-lr", t.recipe.discriminator.lr, "the discriminator's Adam learning rate");
  auto* o_db1 = gan_option("--d-beta1", t.recipe.discriminator.beta1, "the discriminator's Adam beta1");
  gan_option("--d-width", t.d_width, "the discriminator's channels at its first block (the seed's is 64)");
  gan_option("--adversarial", t.adversarial, "bce (on a logit) or wasserstein (the WGAN critic's)")
      ->check(CLI::IsMember({"bce", "wasserstein"}));
  gan_option("--critic", t.critic, "the discriminator's update: separate (real, then generated) or joint (their sum)")
      ->check(CLI::IsMember({"separate", "joint"}));
  gan_option("--critic-steps", t.recipe.critic_steps, "discriminator updates per generator update");
  gan_option("--clip", t.recipe.clip, "clip the discriminator's weights to [-clip, clip] (WGAN; 0: no)");
  auto* o_schedule = gan_option("--schedule", t.schedule, "both networks' rates: cosine (to a hundredth) or constant")
                         ->check(CLI::IsMember({"cosine", "constant"}));

  hush::tools::table_args ta;
  std::vector<std::string> sets, noises, models;
  auto* tb = app.add_subcommand("table", "seed 001's tables: PSNR and SSIM per noise and set, noisy vs non-local means vs denoisers");
  tb->add_option("--val", ta.val, "photos to tune non-local means' strength on (never scored)")->required();
  tb->add_option("--set", sets, "NAME=FOLDER of photos to score (repeat: train, test, holdout, ...)")->required();
  tb->add_option("--noise", noises, "NAME=SPEC (repeat; default: seed 001's three at their ranges' mean intensity)");
  tb->add_option("--weights", models, "NAME=FILE of a trained denoiser (repeat)");
  tb->add_option("--out", ta.out, "the Markdown file to write")->required();
  tb->add_option("--mae-ratio", mae_ratio, "an MAE's mask ratio when it denoises (0: one pass, every patch seen)")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 0.99f));
  tb->add_option("--seed", ta.seed, "keys the noise")->capture_default_str();
  tr->add_option("--bucket-mb", t.bucket_mb,
                 "under mpirun: gradients summed in buckets of this many MB while backward runs (0: in one, after it)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1024.0));
  CLI11_PARSE(app, argc, argv);

  if (world && world->size() > 1 && !tr->parsed())
    throw hush::error("only 'hush-denoise train' runs as several processes (mpirun); clean photos or make tables with one");
  const auto choice = hush::choose_device();
  std::printf("%s\n", choice.line().c_str());
  if (tr->parsed()) {
    t.model.check("--model");
    t.o.noise = hush::noise::parse_spec(t.noise);
    t.o.pairs = t.pairs == "supervised" ? hush::train::pairing::supervised : hush::train::pairing::noise2noise;
    t.o.loss = t.loss == "l2" ? hush::train::image_loss::l2
             : t.loss == "l1" ? hush::train::image_loss::l1
             : t.loss == "l0" ? hush::train::image_loss::l0
                              : hush::train::image_loss::masked_l2;
    if (recipe == "seed001") {  // what the seed's Table 3 and section 3.6 give, where not given here
      if (!o_lr->count()) t.o.lr = 0.005f;
      if (!o_beta1->count()) t.beta1 = 0.5f;
      if (!o_dlr->count()) t.recipe.discriminator.lr = 0.009f;
      if (!o_db1->count()) t.recipe.discriminator.beta1 = 0.9f;
      if (!o_cw->count()) t.recipe.content_weight = 0.1f;
      if (!o_aw->count()) t.recipe.adversarial_weight = 0.01f;
      if (!o_content->count()) t.content = "vgg";
      if (!o_schedule->count()) t.schedule = "constant";
    }
    t.recipe.generator = {.lr = t.o.lr, .beta1 = t.beta1, .cosine = t.schedule == "cosine"};
    t.recipe.discriminator.cosine = t.schedule == "cosine";
    t.recipe.adversarial = t.adversarial == "bce" ? hush::train::adversarial_kind::bce : hush::train::adversarial_kind::wasserstein;
    t.recipe.update = t.critic == "separate" ? hush::train::critic_update::separate : hush::train::critic_update::joint;
    if (t.gan && t.content == "vgg" && t.vgg_weights.empty())
      std::printf("note: --content vgg without --vgg-weights: the VGG's features are random, not ImageNet's\n");
    t.o.out = t.out;
    t.o.comm = world;
    t.o.bucket_bytes = static_cast<std::size_t>(t.bucket_mb * 1024 * 1024);
    t.o.title = t.gan ? t.model.name + " gan" : t.model.name;
    t.o.metadata = {{"hush.denoiser", t.model.text()}, {"hush.noise", t.o.noise.describe()}};
    return hush::with_device(choice, [&](auto backend) {
      return hush::denoise::with_model(t.model, [&](auto net) { return train(backend, std::move(net), t); });
    });
  }
  if (tb->parsed()) {
    for (const auto& text : sets) ta.sets.push_back(named_value(text, "--set"));
    for (const auto& text : noises) ta.noises.push_back(named_value(text, "--noise"));
    for (const auto& text : models) ta.models.push_back(named_value(text, "--weights"));
    if (ta.noises.empty())  // seed 001's ranges (variances for Gaussian and speckle), at their means
      ta.noises = {{"Gaussian", "gaussian(var=0.0425)"}, {"salt and pepper", "salt_pepper(amount=0.045)"},
                   {"speckle", "speckle(var=0.1025)"}};
    return hush::tools::run_table(ta, [&](const std::string& path) -> hush::tools::denoiser_fn {
      return [d = hush::tools::load_denoiser(choice, path, mae_ratio)](const hush::tensor& noisy) { return d.run(noisy, {}); };
    });
  }
  if (a.input.empty() || a.output.empty()) {
    std::fprintf(stderr, "hush-denoise: give a noisy photo and an output path (hush-denoise IN OUT), or 'train'\n");
    return 2;
  }
  if (a.weights.empty()) {
    a.weights = hush::tools::shipped_weights(argv[0]).string();
    if (!fs::exists(a.weights))
      throw hush::io_error("no shipped denoiser at " + a.weights + ": give --weights, or train one with 'hush-denoise train'");
  }
  hush::io::check_output_path(a.output);  // before any work, and never over an input
  hush::io::check_not_input(a.output, a.input);
  hush::io::check_not_input(a.output, a.weights);
  if (!a.reference.empty()) hush::io::check_not_input(a.output, a.reference);
  if (!a.compare.empty()) {
    hush::io::check_output_path(a.compare);
    hush::io::check_not_input(a.compare, a.input);
    if (!a.reference.empty()) hush::io::check_not_input(a.compare, a.reference);
  }
  const auto d = hush::tools::load_denoiser(choice, a.weights, mae_ratio, bf16);
  std::printf("%s: %s\n", a.weights.c_str(), d.choice.text().c_str());
  return apply(d, a);
}

// `mpirun -np N hush-denoise train ...`: N processes share each batch (docs/distributed.md).
int main(int argc, char** argv) { return hush::distributed::launched_main(argc, argv, "hush-denoise", run); }
