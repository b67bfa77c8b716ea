// Optimizers and learning-rate schedules against torch.optim.
#include <doctest/doctest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"

namespace {
using points = std::vector<std::pair<std::int64_t, double>>;
template <class Schedule>
void check_schedule(const Schedule& s, const points& torch_values) {
  for (const auto& [t, lr] : torch_values) {
    INFO("step " << t);
    CHECK(s(t) == doctest::Approx(lr).epsilon(1e-5));
  }
}
}  // namespace

// Values printed by tests/reference/schedules.py (torch 1.13, Debian's python3-torch).
TEST_CASE("schedules follow torch.optim.lr_scheduler") {
  check_schedule(hush::one_cycle_schedule{0.1f, 100},
                 {{0, 0.0040000000000000036}, {1, 0.004281378056590748}, {29, 0.1}, {30, 0.09994965352845243},
                  {31, 0.09979871550490317}, {50, 0.0793893450575732}, {99, 4e-07}});
  check_schedule(hush::cosine_schedule{0.1f, 100, 0.001f},
                 {{0, 0.1}, {1, 0.09997557473810371}, {29, 0.08083889915582233}, {30, 0.07959536998847742},
                  {31, 0.07832312720368047}, {50, 0.050499999999999975}, {99, 0.0010244252618962857}});
  check_schedule(hush::step_schedule{0.1f, 30, 0.1f},
                 {{0, 0.1}, {1, 0.1}, {29, 0.1}, {30, 0.010000000000000002}, {31, 0.010000000000000002},
                  {50, 0.010000000000000002}, {99, 0.00010000000000000003}});
  check_schedule(hush::multi_step_schedule{0.1f, {30, 50}, 0.1f},
                 {{0, 0.1}, {1, 0.1}, {29, 0.1}, {30, 0.010000000000000002}, {31, 0.010000000000000002},
                  {50, 0.0010000000000000002}, {99, 0.0010000000000000002}});
}

namespace {
/// Three steps of `Optimizer` on a 3-weight linear layer with fixed gradients, as
/// tests/reference/optimizers.py does in PyTorch.
template <class Optimizer, class Backend>
std::vector<float> three_steps(typename Optimizer::options o) {
  hush::linear net({.in = 3, .out = 1, .bias = false});
  hush::context<Backend> ctx;
  net.setup(ctx, {1, 3});
  const float start[] = {1.0f, -2.0f, 0.5f};
  const float grads[3][3] = {{0.5f, -1.0f, 2.0f}, {0.1f, 0.3f, -0.7f}, {-0.4f, 0.2f, 0.9f}};
  hush::assign(net.weight.value, hush::tensor({1, 3}, start));  // into the backend's memory
  Optimizer opt(net, o);
  for (const auto& g : grads) {
    hush::assign(net.weight.grad, hush::tensor({1, 3}, g));
    opt.step(ctx.backend);
  }
  const auto w = hush::to_host(net.weight.value);
  return {w[0], w[1], w[2]};
}
void check_weights(const std::vector<float>& got, std::vector<double> torch_values) {
  for (std::size_t i = 0; i < 3; ++i) CHECK(got[i] == doctest::Approx(torch_values[i]).epsilon(2e-6));
}
}  // namespace

TEST_CASE_TEMPLATE("sgd, adam and adamw match torch.optim after three steps", Backend, hush::backend::reference,
                   hush::backend::cpu, hush::backend::thrust) {
  // Values printed by tests/reference/optimizers.py.
  check_weights(three_steps<hush::sgd, Backend>({.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f, .nesterov = true}),
                {0.86946553, -1.76025069, -0.171312049});
  check_weights(three_steps<hush::sgd, Backend>({.lr = 0.1f, .momentum = 0.8f, .dampening = 0.3f}),
                {0.893400013, -1.80779994, 0.0372000076});
  check_weights(
      three_steps<hush::adam, Backend>({.lr = 0.01f, .beta1 = 0.8f, .beta2 = 0.95f, .eps = 1e-6f, .weight_decay = 0.05f}),
      {0.980489433, -1.98229647, 0.48128137});
  check_weights(
      three_steps<hush::adamw, Backend>({.lr = 0.01f, .beta1 = 0.8f, .beta2 = 0.95f, .eps = 1e-6f, .weight_decay = 0.05f}),
      {0.980717659, -1.98184419, 0.480817825});
}

TEST_CASE("sgd: Nesterov without momentum is refused, as in PyTorch") {
  hush::linear net({.in = 1, .out = 1});
  CHECK_THROWS_WITH(hush::sgd(net, {.lr = 0.1f, .nesterov = true}),
                    "sgd: Nesterov momentum requires momentum > 0 and dampening = 0");
}
