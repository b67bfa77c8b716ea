#pragma once
// A public gradient checker: compares a layer's backward with central finite differences of its
// forward, for the input and for every parameter. Users check their own layers with it.
//
//   auto r = hush::testing::gradcheck(hush::conv2d({.in = 3, .out = 4, .kernel = 3}), {2, 3, 5, 5});
//   CHECK_MESSAGE(r.ok(), r.report());
//
// The scalar checked is L = Σ g ⊙ f(x) for a fixed random g, summed in double. Each derivative
// is compared as |analytic - numeric| / max(1, |analytic|, |numeric|) against `tolerance`.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "hush/backend/reference.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/graph/visit.hpp"

namespace hush::testing {

/// Settings of gradcheck: the finite-difference step and tolerance (both 1e-2, suited to a
/// float32 forward), how many elements of each tensor to check, the seed and the mode.
struct gradcheck_options {
  double eps = 1e-2;           // finite-difference step (float32 forward: not too small)
  double tolerance = 1e-2;     // on the relative error above
  std::int64_t max_checks = 64;  // at most this many elements checked per tensor, spread evenly
  std::uint64_t seed = 7;
  hush::mode mode = mode::train;
  /// Moves inputs at least 3·eps away from 0, for layers with a kink there (ReLU), where a finite
  /// difference across the kink measures neither one-sided derivative.
  bool away_from_zero = false;
};

/// What gradcheck found: the worst relative error, where, and over how many derivatives; ok()
/// when it is within the tolerance and at least one derivative was checked.
struct gradcheck_result {
  double worst = 0;        // largest relative error seen
  std::string where;       // "input[12]" or "weight[3]"
  double tolerance = 0;
  std::int64_t checked = 0;
  bool ok() const { return worst <= tolerance && checked > 0; }
  std::string report() const {
    return "gradcheck: worst relative error " + std::to_string(worst) + " at " + where + " over " +
           std::to_string(checked) + " derivatives (tolerance " + std::to_string(tolerance) + ")";
  }
};

namespace detail {
inline void fill_normal(tensor& t, const counter_rng& rng, std::uint64_t stream) {
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = rng.normal(stream, static_cast<std::uint64_t>(i));
}
}  // namespace detail

/// Checks `layer` on a random input of shape `in`, with kernels from Backend.
template <class Backend = backend::reference, class L>
gradcheck_result gradcheck(L layer, shape in, gradcheck_options opt = {}) {
  static_assert(memory_of<Backend>::host_accessible,
                "gradcheck perturbs values one by one from host code: check a host backend (reference, cpu)");
  if (opt.max_checks < 1 || !(opt.eps > 0))
    throw error("gradcheck: max_checks must be at least 1 and eps above 0 (given " + std::to_string(opt.max_checks) +
                " and " + std::to_string(opt.eps) + ")");
  context<Backend> ctx(opt.seed);
  ctx.mode = opt.mode;
  layer.setup(ctx, in);
  tensor x(in), g(layer.output_shape(in));
  const counter_rng rng{opt.seed + 1};
  detail::fill_normal(x, rng, 1);
  detail::fill_normal(g, rng, 2);
  if (opt.away_from_zero)
    for (auto& v : x.values()) v += static_cast<float>(v < 0 ? -3 * opt.eps : 3 * opt.eps);

  auto loss = [&](const tensor& input) {
    const tensor& y = layer.forward(ctx, input);
    double s = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) s += double(g[i]) * double(y[i]);
    return s;
  };

  // Analytic gradients.
  zero_grad(layer);
  layer.forward(ctx, x);
  const tensor dx = layer.backward(ctx, x, g);

  gradcheck_result r{0, "nothing", opt.tolerance, 0};
  auto compare = [&](const std::string& name, float& value, float analytic, std::int64_t i) {
    const float saved = value;
    value = static_cast<float>(saved + opt.eps);
    const double up = loss(x);
    value = static_cast<float>(saved - opt.eps);
    const double down = loss(x);
    value = saved;
    const double numeric = (up - down) / (2 * opt.eps);
    const double err = std::abs(analytic - numeric) / std::max({1.0, std::abs(double(analytic)), std::abs(numeric)});
    ++r.checked;
    if (err > r.worst) {
      r.worst = err;
      r.where = name + "[" + std::to_string(i) + "] (analytic " + std::to_string(analytic) + ", numeric " +
                std::to_string(numeric) + ")";
    }
  };
  auto each_checked = [&](std::int64_t n, auto&& f) {
    const std::int64_t step = (n + opt.max_checks - 1) / opt.max_checks;  // at most max_checks of n
    for (std::int64_t i = 0; i < n; i += step) f(i);
  };

  each_checked(x.numel(), [&](std::int64_t i) { compare("input", x[i], dx[i], i); });
  // Gradients of parameters, copied first: the perturbed forwards below do not touch them.
  for_each_parameter(layer, [&](std::string_view name, parameter& p) {
    const tensor analytic = p.grad.host();
    each_checked(p.value.numel(), [&](std::int64_t i) { compare(std::string(name), p.value.host()[i], analytic[i], i); });
  });
  return r;
}

}  // namespace hush::testing
