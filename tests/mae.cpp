// The masked autoencoder (models/mae.hpp): gradients against finite differences, every backend
// against the reference, what its mask promises (evaluate_mae's per image), the named
// configurations' sizes, and a tiny MAE learning. Its agreement with PyTorch is in tests/torch_reference.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "hush/losses/masked_patch_mse.hpp"
#include "hush/models/mae.hpp"
#include "hush/testing/gradcheck.hpp"
#include "hush/train/mae.hpp"
#include "support.hpp"

namespace {

using hush::test::difference;

namespace m = hush::models;
using tiny_mae = m::masked_autoencoder<1, 1>;

constexpr m::mae_options tiny{.image = 8, .patch = 2, .channels = 2, .dim = 8, .heads = 2, .mlp = 12,
                              .decoder_dim = 4, .decoder_heads = 1, .decoder_mlp = 8, .mask_ratio = 0.5f};

hush::tensor images(hush::shape s, std::uint64_t stream) {
  hush::tensor x(s);
  hush::init_uniform(x, hush::counter_rng(5), stream, 1.0f);
  return x;
}

/// Prediction, input gradient and parameter gradients on Backend, for fixed x and dy.
template <class Backend>
std::vector<float> run(hush::shape in, std::uint64_t step) {
  tiny_mae net(tiny);
  hush::context<Backend> ctx(3);
  ctx.step = step;
  net.setup(ctx, in);
  hush::zero_grad(net);
  const auto x = images(in, 1);
  const auto dy = images(net.output_shape(in), 2);
  const auto& xb = hush::to(ctx.backend, x);
  const auto& dyb = hush::to(ctx.backend, dy);
  const auto y = hush::to_host(net.forward(ctx, xb));
  std::vector<float> out(y.values().begin(), y.values().end());
  const auto mask = hush::to_host(net.mask(ctx));
  out.insert(out.end(), mask.values().begin(), mask.values().end());
  const auto dx = hush::to_host(net.backward(ctx, xb, dyb));
  out.insert(out.end(), dx.values().begin(), dx.values().end());
  hush::for_each_parameter(net, [&](std::string_view, hush::parameter& p) {
    const auto g = hush::to_host(p.grad);
    out.insert(out.end(), g.values().begin(), g.values().end());
  });
  return out;
}

}  // namespace

TEST_CASE("masked autoencoder: gradients against finite differences, every backend against the reference") {
  // The class token starts at N(0, 0.02²): its row's layer norm divides by a spread of about
  // 0.02, so the default step of 1e-2 is far outside the linear range there (13.7% off); at 1e-3
  // the worst of the 824 derivatives is 0.2% off.
  const auto r = hush::testing::gradcheck(tiny_mae(tiny), {2, 2, 8, 8}, {.eps = 1e-3});
  CHECK_MESSAGE(r.ok(), r.report());
  const auto ref = run<hush::backend::reference>({2, 2, 8, 8}, 4);
  CHECK(difference(ref, run<hush::backend::cpu>({2, 2, 8, 8}, 4)) < 1e-4);
  CHECK(difference(ref, run<hush::backend::thrust>({2, 2, 8, 8}, 4)) < 1e-4);
}

TEST_CASE("masked autoencoder: the mask keeps (1 - ratio)·T tokens per image, per seed and step") {
  tiny_mae net(tiny);
  hush::context<hush::backend::cpu> ctx(3);
  const hush::shape in{6, 2, 8, 8};
  const auto x = images(in, 1);
  const auto mask_at = [&](std::uint64_t step) {
    ctx.step = step;
    net.forward(ctx, x);
    const auto& mk = net.mask(ctx);
    return std::vector<float>(mk.values().begin(), mk.values().end());
  };
  const auto first = mask_at(0);
  REQUIRE(first.size() == 6 * 16u);
  for (int b = 0; b < 6; ++b) {
    float dropped = 0;
    for (int t = 0; t < 16; ++t) dropped += first[std::size_t(b * 16 + t)];
    CHECK(dropped == 8.0f);  // ratio 0.5 of 16 tokens
  }
  CHECK(std::vector<float>(first.begin(), first.begin() + 16) != std::vector<float>(first.begin() + 16, first.begin() + 32));
  CHECK(mask_at(1) != first);   // another step, another mask
  CHECK(mask_at(0) == first);   // the same step, the same mask
  {  // images 2..5 as a batch of their own, told where they start, draw the same masks
    const hush::shape part{4, 2, 8, 8};
    const hush::tensor tail(part, x.values().subspan(2 * 128));
    net.opt.first_image = 2;
    ctx.step = 0;
    net.forward(ctx, tail);
    const auto& mk = net.mask(ctx);
    CHECK(std::vector<float>(mk.values().begin(), mk.values().end()) == std::vector<float>(first.begin() + 32, first.end()));
    net.opt.first_image = 0;
  }
  net.opt.mask_ratio = 0.0f;    // every patch seen: a plain autoencoder, buffers resized on the way
  const auto none = mask_at(0);
  CHECK(std::all_of(none.begin(), none.end(), [](float v) { return v == 0.0f; }));
  net.opt.mask_ratio = 0.75f;
  const auto most = mask_at(0);
  CHECK(std::count(most.begin(), most.end(), 1.0f) == 6 * 12);
  // The ratio is how a trained MAE is run, not what it is: weights saved at one load at another.
  auto other = tiny;
  other.mask_ratio = 0.9f;
  CHECK(hush::structure_hash(tiny_mae(tiny)) == hush::structure_hash(tiny_mae(other)));
  net.opt.mask_ratio = 1.0f;
  CHECK_THROWS_WITH(net.output_shape(in), "masked_autoencoder: mask ratio 1.000000 leaves no token of 16 visible");
  CHECK_THROWS_WITH(tiny_mae(tiny).output_shape({1, 3, 8, 8}),
                    "masked_autoencoder: expected (N, 2, 8, 8) images in patches of 2, got (1, 3, 8, 8)");
}

TEST_CASE("evaluate_mae: each image keeps its mask whatever the batch size, so the score does too") {
  hush::model<tiny_mae, hush::backend::cpu> model({.seed = 2}, tiny_mae(tiny));
  const auto x = images({6, 2, 8, 8}, 1);
  const auto whole = hush::train::evaluate_mae(model, x, 0.5f, 6);
  CHECK(whole.images == 6);
  for (const std::int64_t batch : {1, 4}) {
    CAPTURE(batch);
    const auto parts = hush::train::evaluate_mae(model, x, 0.5f, batch);
    CHECK(parts.loss == doctest::Approx(whole.loss).epsilon(1e-5));
    CHECK(parts.mse == doctest::Approx(whole.mse).epsilon(1e-5));
    CHECK(parts.psnr == doctest::Approx(whole.psnr).epsilon(1e-5));
    CHECK(parts.pasted_psnr == doctest::Approx(whole.pasted_psnr).epsilon(1e-5));
  }
  CHECK(model.net.opt.first_image == 0);  // restored, as the ratio and step are
}

TEST_CASE("masked autoencoder: the named configurations have the MAE code's parameter counts") {
  // Counted by tests/reference/mae.py's MAE (the position tables are buffers, not parameters).
  CHECK(m::mae_vit_b16{}.parameter_count() == 111'655'680);
  CHECK(m::mae_small{}.parameter_count() == 2'926'320);
  CHECK(m::mae_small{}.opt.visible() == 16);
}

TEST_CASE("masked autoencoder: a tiny one learns to fill in smooth images (the masked loss falls)") {
  // Images of two smooth ramps: the dropped patches follow from the visible ones.
  const hush::shape in{16, 2, 8, 8};
  hush::tensor x(in);
  for (std::int64_t b = 0; b < 16; ++b)
    for (std::int64_t i = 0; i < 128; ++i) {
      const auto c = i / 64, y = (i / 8) % 8, xx = i % 8;
      const float slope = 0.05f + 0.01f * float(b);
      x[b * 128 + i] = c == 0 ? slope * float(y) : slope * float(xx) + 0.1f * float(b % 3);
    }
  hush::model<tiny_mae, hush::backend::cpu> model({.seed = 2}, tiny_mae(tiny));
  model.setup(in);
  hush::adam opt(model.net, {.lr = 3e-3f});
  hush::masked_patch_mse loss;
  hush::tensor patches;
  hush::patchify(model.ctx.backend, x, 2, patches);
  std::vector<float> losses;
  for (std::uint64_t step = 0; step < 150; ++step) {
    model.ctx.step = step;
    model.zero_grad();
    const auto& y = model.forward(x);
    losses.push_back(loss.forward(model.ctx, y, patches, model.net.mask(model.ctx)));
    model.backward(loss.backward(model.ctx));
    opt.step(model.ctx.backend);
  }
  const auto mean = [&](std::size_t from) {
    double s = 0;
    for (std::size_t i = from; i < from + 10; ++i) s += losses[i];
    return s / 10;
  };
  INFO("first ten steps " << mean(0) << ", last ten " << mean(losses.size() - 10));
  CHECK(mean(losses.size() - 10) < 0.2 * mean(0));
}

namespace {
/// mae_reconstruction's passes by hand (shifts 0, stride, 2·stride ...): each patch's mean
/// prediction over the passes that masked it, as an image; `masked` counts those passes.
hush::tensor masked_means_by_hand(tiny_mae same, const hush::tensor& x, int stride, int passes, std::vector<double>& masked) {
  hush::context<hush::backend::cpu> ctx(3);
  same.setup(ctx, x.shape());
  std::vector<double> sum(2 * 16 * 8, 0.0);
  masked.assign(2 * 16, 0.0);
  for (int pass = 0; pass < passes; ++pass) {
    same.opt.mask_shift = pass * stride;
    const auto& pred = same.forward(ctx, x);
    const auto& mask = same.mask(ctx);
    for (int r = 0; r < 32; ++r) {
      if (mask[r] == 0.0f) continue;
      masked[std::size_t(r)] += 1;
      for (int j = 0; j < 8; ++j) sum[std::size_t(r * 8 + j)] += pred[r * 8 + j];
    }
  }
  hush::tensor mean({2, 16, 8});
  for (int i = 0; i < 256; ++i) mean[i] = float(sum[std::size_t(i)] / masked[std::size_t(i / 8)]);
  hush::unpatchify back({.patch = 2, .channels = 2});
  back.setup(ctx, mean.shape());
  return back.forward(ctx, mean);
}
}  // namespace

TEST_CASE("mae_reconstruction: one pass at ratio 0; at ratio r each patch is the mean of its masked predictions") {
  const hush::shape in{2, 2, 8, 8};
  const auto x = images(in, 3);
  SUBCASE("ratio 0: the MAE's prediction as an image") {
    auto o = tiny;
    o.mask_ratio = 0.0f;
    hush::models::mae_reconstruction<tiny_mae> rec(tiny_mae{o});
    hush::context<hush::backend::cpu> ctx(3);
    rec.setup(ctx, in);
    const auto y = rec.forward(ctx, x);
    tiny_mae same(o);
    hush::context<hush::backend::cpu> ctx2(3);
    same.setup(ctx2, in);
    hush::unpatchify back({.patch = 2, .channels = 2});
    back.setup(ctx2, same.output_shape(in));
    const auto& want = back.forward(ctx2, same.forward(ctx2, x));
    CHECK(std::equal(y.values().begin(), y.values().end(), want.values().begin()));
    // One differentiable pass: it can be fine-tuned in front of a classifier.
    const auto r = hush::testing::gradcheck(hush::models::mae_reconstruction<tiny_mae>(tiny_mae{o}), in, {.eps = 1e-3});
    CHECK_MESSAGE(r.ok(), r.report());
  }
  SUBCASE("ratio 0.75: four passes over disjoint windows, each patch masked in three") {
    auto o = tiny;
    o.mask_ratio = 0.75f;  // 4 of 16 visible
    hush::models::mae_reconstruction<tiny_mae> rec(tiny_mae{o});
    hush::context<hush::backend::cpu> ctx(3);
    rec.setup(ctx, in);
    const auto y = rec.forward(ctx, x);
    // The same passes by hand: disjoint visible windows, so each patch is masked in three of four.
    std::vector<double> masked;
    const auto want = masked_means_by_hand(tiny_mae(o), x, 4, 4, masked);
    for (int r = 0; r < 32; ++r) CHECK(masked[std::size_t(r)] == 3.0);
    double worst = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) worst = std::max(worst, double(std::abs(y[i] - want[i])));
    CHECK(worst < 1e-6);
    CHECK_THROWS_WITH(rec.backward(ctx, x, y), doctest::Contains("backward only with every patch visible"));
    // The same on the thrust backend.
    hush::models::mae_reconstruction<tiny_mae> on_thrust(tiny_mae{o});
    hush::context<hush::backend::thrust> ctx3(3);
    on_thrust.setup(ctx3, in);
    const auto t = hush::to_host(on_thrust.forward(ctx3, hush::to(ctx3.backend, x)));
    worst = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) worst = std::max(worst, double(std::abs(y[i] - t[i])));
    CHECK(worst < 1e-4);
  }
  SUBCASE("ratio 0.25: more than half visible, the masked windows tile the order (no patch left unmasked)") {
    auto o = tiny;
    o.mask_ratio = 0.25f;  // 12 of 16 visible: windows of 12 at shifts 0, 12 would both show ranks 0-7
    hush::models::mae_reconstruction<tiny_mae> rec(tiny_mae{o});
    hush::context<hush::backend::cpu> ctx(3);
    rec.setup(ctx, in);
    const auto y = rec.forward(ctx, x);
    CHECK(std::all_of(y.values().begin(), y.values().end(), [](float v) { return std::isfinite(v); }));
    std::vector<double> masked;
    const auto want = masked_means_by_hand(tiny_mae(o), x, 4, 4, masked);  // shifts 0, 4, 8, 12
    for (int r = 0; r < 32; ++r) CHECK(masked[std::size_t(r)] == 1.0);     // each patch masked exactly once
    double worst = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) worst = std::max(worst, double(std::abs(y[i] - want[i])));
    CHECK(worst < 1e-6);
  }
}
