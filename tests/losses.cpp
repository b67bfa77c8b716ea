// Losses: gradients against finite differences, values against PyTorch, on every backend.
#include <doctest/doctest.h>

#include <cmath>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "support.hpp"

using hush::test::on;

namespace {

hush::tensor filled(hush::shape s, std::uint64_t stream, float lo, float hi) {
  hush::tensor t(s);
  const hush::counter_rng rng{8};
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = lo + (hi - lo) * rng.uniform(stream, static_cast<std::uint64_t>(i));
  return t;
}

/// Central differences of loss.forward against loss.backward, in double.
template <class Backend, class Loss>
double worst_gradient_error(Loss loss, hush::tensor pred, const hush::tensor& target) {
  hush::context<Backend> ctx;
  loss.forward(ctx, on(ctx, pred), on(ctx, target));
  const hush::tensor analytic = hush::to_host(loss.backward(ctx));
  double worst = 0;
  for (std::int64_t i = 0; i < pred.numel(); ++i) {
    const float saved = pred[i];
    const float eps = 1e-3f;
    pred[i] = saved + eps;
    const double up = loss.forward(ctx, on(ctx, pred), on(ctx, target));
    pred[i] = saved - eps;
    const double down = loss.forward(ctx, on(ctx, pred), on(ctx, target));
    pred[i] = saved;
    worst = std::max(worst, std::abs((up - down) / (2 * eps) - analytic[i]) / std::max(1.0, std::abs(double(analytic[i]))));
  }
  return worst;
}

}  // namespace

TEST_CASE_TEMPLATE("pointwise losses: gradients match finite differences", Backend, hush::backend::reference,
                   hush::backend::cpu, hush::backend::thrust) {
  const auto pred = filled({3, 4}, 1, -2.0f, 2.0f), target = filled({3, 4}, 2, 0.0f, 1.0f);
  const auto prob = filled({3, 4}, 3, 0.05f, 0.95f);
  CHECK(worst_gradient_error<Backend>(hush::mse_loss{}, pred, target) < 2e-3);
  CHECK(worst_gradient_error<Backend>(hush::l1_loss{}, pred, target) < 2e-3);
  CHECK(worst_gradient_error<Backend>(hush::bce_with_logits_loss{}, pred, target) < 2e-3);
  CHECK(worst_gradient_error<Backend>(hush::bce_loss{}, prob, target) < 2e-3);
  CHECK(worst_gradient_error<Backend>(hush::weighted_sum<hush::mse_loss, hush::l1_loss>({0.1f, 0.01f}), pred, target) <
        2e-3);
  CHECK(worst_gradient_error<Backend>(hush::wasserstein_loss{}, pred, target) < 2e-3);
}

TEST_CASE_TEMPLATE("the WGAN critic's loss: E[D(fake)] - E[D(real)] for the critic, -E[D(G(x))] for the generator",
                   Backend, hush::backend::reference, hush::backend::cpu, hush::backend::thrust) {
  hush::context<Backend> ctx;
  const hush::tensor scores({4, 1}, std::vector<float>{-1.5f, 0.0f, 0.25f, 3.0f});
  hush::tensor real({4, 1}), fake({4, 1});
  real.fill(1.0f), fake.fill(0.0f);
  hush::wasserstein_loss w;
  CHECK(w.forward(ctx, on(ctx, scores), on(ctx, real)) == doctest::Approx(-(-1.5 + 0.0 + 0.25 + 3.0) / 4));
  for (int i = 0; i < 4; ++i) CHECK(hush::to_host(w.backward(ctx))[i] == -0.25f);
  CHECK(w.forward(ctx, on(ctx, scores), on(ctx, fake)) == doctest::Approx((-1.5 + 0.0 + 0.25 + 3.0) / 4));
  for (int i = 0; i < 4; ++i) CHECK(hush::to_host(w.backward(ctx))[i] == 0.25f);
}

TEST_CASE_TEMPLATE("weighted terms: each term on its own tensors, each gradient weighted and kept apart", Backend,
                   hush::backend::reference, hush::backend::cpu, hush::backend::thrust) {
  // Seed 001's generator loss: content on the image, BCE on the discriminator's score.
  hush::context<Backend> ctx;
  const auto image = filled({2, 3, 4, 4}, 1, 0.0f, 1.0f), clean = filled({2, 3, 4, 4}, 2, 0.0f, 1.0f);
  const auto score = filled({2, 1}, 3, -2.0f, 2.0f);
  hush::tensor ones({2, 1});
  ones.fill(1.0f);
  hush::weighted_terms<hush::mse_loss, hush::bce_with_logits_loss> loss({0.1f, 0.01f});
  const float total = loss.forward(ctx, on(ctx, image), on(ctx, clean), on(ctx, score), on(ctx, ones));

  hush::mse_loss mse;
  hush::bce_with_logits_loss bce;
  const float content = mse.forward(ctx, on(ctx, image), on(ctx, clean));
  const float adversarial = bce.forward(ctx, on(ctx, score), on(ctx, ones));
  CHECK(loss.term(0) == doctest::Approx(content));
  CHECK(loss.term(1) == doctest::Approx(adversarial));
  CHECK(total == doctest::Approx(0.1 * content + 0.01 * adversarial));
  const auto d_image = hush::to_host(loss.backward<0>(ctx)), d_score = hush::to_host(loss.backward<1>(ctx));
  CHECK(d_image.shape() == image.shape());
  CHECK(d_score.shape() == score.shape());
  const auto plain_image = hush::to_host(mse.backward(ctx)), plain_score = hush::to_host(bce.backward(ctx));
  for (std::int64_t i = 0; i < d_image.numel(); ++i) CHECK(d_image[i] == doctest::Approx(0.1 * plain_image[i]));
  for (std::int64_t i = 0; i < d_score.numel(); ++i) CHECK(d_score[i] == doctest::Approx(0.01 * plain_score[i]));

  // Finite differences of the total in the score, through the second term only.
  auto moved = score;
  const float eps = 1e-2f;
  moved[1] += eps;
  const float up = loss.forward(ctx, on(ctx, image), on(ctx, clean), on(ctx, moved), on(ctx, ones));
  moved[1] -= 2 * eps;
  const float down = loss.forward(ctx, on(ctx, image), on(ctx, clean), on(ctx, moved), on(ctx, ones));
  CHECK((up - down) / (2 * eps) == doctest::Approx(d_score[1]).epsilon(1e-2));
}

TEST_CASE_TEMPLATE("pointwise losses: values from torch.nn", Backend, hush::backend::reference, hush::backend::cpu,
                   hush::backend::thrust) {
  // Values printed by tests/reference/losses.py (torch 1.13, reduction 'mean').
  hush::context<Backend> ctx;
  const hush::tensor pred({1, 4}, std::vector<float>{-1.5f, 0.0f, 0.25f, 3.0f});
  const hush::tensor target({1, 4}, std::vector<float>{0.0f, 1.0f, 0.5f, 1.0f});
  hush::mse_loss mse;
  hush::l1_loss l1;
  hush::bce_with_logits_loss bcel;
  hush::bce_loss bce;
  CHECK(mse.forward(ctx, on(ctx, pred), on(ctx, target)) == doctest::Approx(1.828125));
  CHECK(l1.forward(ctx, on(ctx, pred), on(ctx, target)) == doctest::Approx(1.1875));
  CHECK(bcel.forward(ctx, on(ctx, pred), on(ctx, target)) == doctest::Approx(0.4110218286514282).epsilon(1e-6));
  hush::tensor prob({1, 4});
  for (int i = 0; i < 4; ++i) prob[i] = 1.0f / (1.0f + std::exp(-pred[i]));
  CHECK(bce.forward(ctx, on(ctx, prob), on(ctx, target)) == doctest::Approx(0.41102179884910583).epsilon(1e-5));
  const hush::tensor certain({1, 2}, std::vector<float>{0.0f, 1.0f}), wrong({1, 2}, std::vector<float>{1.0f, 0.0f});
  CHECK(bce.forward(ctx, on(ctx, certain), on(ctx, wrong)) == doctest::Approx(100.0));
  hush::weighted_sum<hush::mse_loss, hush::l1_loss> both({0.5f, 2.0f});
  CHECK(both.forward(ctx, on(ctx, pred), on(ctx, target)) == doctest::Approx(0.5 * 1.828125 + 2.0 * 1.1875));
}

TEST_CASE_TEMPLATE("the denoising losses: annealed L0 and masked L2, values and gradients from torch", Backend,
                   hush::backend::reference, hush::backend::cpu, hush::backend::thrust) {
  // tests/reference/losses.py: p = (-1.5, 0, 0.25, 3), t = (0, 1, 0.5, 1).
  hush::context<Backend> ctx;
  const hush::tensor pred({1, 4}, std::vector<float>{-1.5f, 0.0f, 0.25f, 3.0f});
  const hush::tensor target({1, 4}, std::vector<float>{0.0f, 1.0f, 0.5f, 1.0f});
  const auto check_grad = [&](const hush::tensor& got, std::vector<double> want) {
    for (int i = 0; i < 4; ++i) CHECK(got[i] == doctest::Approx(want[std::size_t(i)]).epsilon(1e-5));
  };
  hush::l0_loss l0;
  l0.anneal(0.25);  // gamma = 1.5
  CHECK(l0.op.gamma == 1.5f);
  CHECK(l0.forward(ctx, on(ctx, pred), on(ctx, target)) == doctest::Approx(1.4476361274719238).epsilon(1e-6));
  check_grad(hush::to_host(l0.backward(ctx)), {-0.4592794, -0.375, -0.1875, 0.5303301});
  l0.anneal(0.75);  // gamma = 0.5
  CHECK(l0.forward(ctx, on(ctx, pred), on(ctx, target)) == doctest::Approx(1.03473961353302).epsilon(1e-6));
  check_grad(hush::to_host(l0.backward(ctx)), {-0.1020621, -0.125, -0.25, 0.0883883});
  l0.anneal(0.0);  // gamma = 2: the L2 loss
  CHECK(l0.forward(ctx, on(ctx, pred), on(ctx, target)) == doctest::Approx(1.828125).epsilon(1e-6));

  hush::masked_mse_loss masked;
  const hush::tensor mask({1, 4}, std::vector<float>{1.0f, 0.0f, 1.0f, 1.0f});
  CHECK(masked.forward(ctx, on(ctx, pred), on(ctx, target), on(ctx, mask)) == doctest::Approx(1.578125));
  check_grad(hush::to_host(masked.backward(ctx)), {-0.75, 0.0, -0.125, 1.0});
  CHECK_THROWS_AS(masked.forward(ctx, on(ctx, pred), on(ctx, target), on(ctx, hush::tensor({1, 3}))), hush::shape_error);

  // Finite differences, away from p = t where |p - t|^gamma has no derivative.
  const auto p2 = filled({3, 4}, 1, -2.0f, 2.0f), t2 = filled({3, 4}, 2, 0.0f, 1.0f);
  hush::l0_loss annealed;
  annealed.anneal(0.4);
  CHECK(worst_gradient_error<Backend>(annealed, p2, t2) < 2e-3);
}

TEST_CASE("losses: shapes must agree") {
  hush::context<hush::backend::cpu> ctx;
  hush::mse_loss mse;
  CHECK_THROWS_WITH(mse.forward(ctx, on(ctx, hush::tensor({2, 3})), on(ctx, hush::tensor({3, 2}))),
                    "loss: prediction (2, 3) and target (3, 2) differ in shape");
  static_assert(hush::loss<hush::mse_loss> && hush::loss<hush::cross_entropy> &&
                hush::loss<hush::weighted_sum<hush::mse_loss, hush::bce_loss>>);
}

TEST_CASE("classification losses: a label that is not a class is refused, not read past the logits") {
  hush::context<hush::backend::cpu> ctx;
  const hush::tensor logits({3, 4});
  hush::cross_entropy ce;
  CHECK_THROWS_WITH_AS(ce.forward(ctx, on(ctx, logits), hush::index_tensor({3}, {0, 4, 1})),
                       "cross_entropy: label 4 (sample 1) is not one of the 4 classes 0..3", hush::error);
  CHECK_THROWS_WITH_AS(ce.forward(ctx, on(ctx, logits), hush::index_tensor({3}, {0, 1, -1})),
                       "cross_entropy: label -1 (sample 2) is not one of the 4 classes 0..3", hush::error);
  hush::pivot_loss pivot({.perturbed = 1});
  CHECK_THROWS_WITH_AS(pivot.forward(ctx, on(ctx, logits), hush::index_tensor({3}, {9, 1, 2})),
                       "pivot_loss: label 9 (sample 0) is not one of the 4 classes 0..3", hush::error);
  CHECK(ce.forward(ctx, on(ctx, logits), hush::index_tensor({3}, {0, 3, 1})) == doctest::Approx(std::log(4.0)));
}

TEST_CASE_TEMPLATE("pivot loss: value and gradient from torch autograd", Backend, hush::backend::reference,
                   hush::backend::cpu, hush::backend::thrust) {
  // tests/reference/losses.py: m = 6, K = 4, k = 2, λ = 0.3, λ2 = 0.05, clean logits detached.
  hush::tensor z({6, 4});
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) z[i * 4 + j] = 0.5f * float((3 * i + j) % 7) - 1.0f + 0.1f * float(i);
  const hush::index_tensor y({6}, {1, 3, 1, 3, 0, 2});
  const std::vector<double> torch_grad{-0.3133781, -0.0242997, 0.0480003, 0.0596775, 0.0366219, 0.0409177,
                                       0.0480003,  -0.00554,   0.1715515, -0.2088503, 0.0140818, 0.023217,
                                       0.0220731,  0.0363924,  0.0600009, -0.1184665, -0.1415432, 0.1250523,
                                       0.006226,   0.0102649,  0.0220731, 0.0363924,  -0.1573904, 0.0989248};
  hush::context<Backend> ctx;
  hush::pivot_loss loss({.perturbed = 2, .lambda = 0.3f, .lambda2 = 0.05f});
  CHECK(loss.forward(ctx, on(ctx, z), hush::to(ctx.backend, y)) == doctest::Approx(2.094992160797119).epsilon(1e-6));
  for (int i = 0; i < 24; ++i) CHECK(hush::to_host(loss.backward(ctx))[i] == doctest::Approx(torch_grad[std::size_t(i)]).epsilon(1e-5));
}

TEST_CASE("pivot loss: the perturbed rows' gradient is the full derivative, the clean rows' omits the distance") {
  // Finite differences see the distance term through both E' and E; the pivot stops it at E.
  hush::context<hush::backend::cpu> ctx;
  const auto z = filled({8, 5}, 4, -2.0f, 2.0f);
  const hush::index_tensor y({8}, {0, 1, 2, 3, 0, 1, 2, 4});
  const float lambda2 = 0.1f;
  hush::pivot_loss loss({.perturbed = 3, .lambda = 0.3f, .lambda2 = lambda2});
  loss.forward(ctx, on(ctx, z), hush::to(ctx.backend, y));
  const hush::tensor analytic = hush::to_host(loss.backward(ctx));
  hush::tensor probe = z;
  for (std::int64_t i = 0; i < z.numel(); ++i) {
    const float eps = 1e-3f;
    probe[i] = z[i] + eps;
    const double up = loss.forward(ctx, on(ctx, probe), hush::to(ctx.backend, y));
    probe[i] = z[i] - eps;
    const double down = loss.forward(ctx, on(ctx, probe), hush::to(ctx.backend, y));
    probe[i] = z[i];
    double numeric = (up - down) / (2 * eps);
    const auto row = i / 5;
    if (row >= 3 && row < 6) numeric += 2.0 * lambda2 * (z[i - 15] - z[i]);  // remove d/dE of the distance
    CHECK(analytic[i] == doctest::Approx(numeric).epsilon(2e-3));
  }
  CHECK_THROWS_WITH(loss.forward(ctx, on(ctx, hush::tensor({5, 5})), hush::index_tensor({5})),
                    "pivot_loss: 3 perturbed rows need k <= m/2, got a batch of 5");
  static_assert(hush::loss<hush::pivot_loss>);
}
