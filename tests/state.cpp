// State owned by layers: a model's kernels, inference weights and buffers are its own, freed with
// it, sized through its context, and never shared with another model, whatever the allocator
// reuses. Small networks on purpose: these tests run under the sanitizers too (the model zoo's
// numeric checks, tests/models.cpp, run in the Release build).
#include <doctest/doctest.h>

#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "hush/hush.hpp"

TEST_CASE("inference mode: a new model never runs on weights a freed one left behind") {
  // The cpu backend once kept inference weights in oneDNN's layout in a cache keyed by their
  // address; a model built where a freed one lived (the allocator reuses its buffers) ran on the
  // old weights (a flaky resume test found it). They now belong to the layer (its kernel_state).
  using net = hush::seq<hush::conv2d, hush::relu, hush::conv2d>;
  const auto make = [] {
    return net(hush::conv2d({.in = 16, .out = 32, .kernel = 3, .padding = 1}), {},
               hush::conv2d({.in = 32, .out = 4, .kernel = 1}));
  };
  hush::tensor x({2, 16, 8, 8});
  hush::init_uniform(x, hush::counter_rng(5), 0, 1.0f);
  std::optional<hush::model<net, hush::backend::cpu>> model;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    model.emplace(hush::model<net, hush::backend::cpu>::options{.seed = seed}, make());
    model->eval();
    const hush::tensor eval = model->forward(x);
    model->infer();
    const hush::tensor& fused = model->forward(x);
    for (std::int64_t i = 0; i < eval.numel(); ++i) REQUIRE(fused[i] == doctest::Approx(eval[i]).epsilon(1e-5));
    model.reset();
  }
}

namespace {
/// This process's resident memory in MB (/proc/self/statm).
double resident_mb() {
  std::ifstream statm("/proc/self/statm");
  double pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * double(sysconf(_SC_PAGESIZE)) / 1e6;
}
using state_net = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d, hush::relu, hush::conv_transpose2d>;
state_net make_state_net() {
  return state_net(hush::conv2d({.in = 16, .out = 32, .kernel = 3, .padding = 1}), hush::batch_norm2d(32), {},
                   hush::conv2d({.in = 32, .out = 16, .kernel = 3, .padding = 1}), {},
                   hush::conv_transpose2d({.in = 16, .out = 8, .kernel = 4, .stride = 2, .padding = 1}));
}
/// A training step and an inference forward of a fresh model: its output and input gradient.
std::vector<float> use_once(hush::backend::cpu backend, std::uint64_t seed, const hush::tensor& x) {
  hush::model<state_net, hush::backend::cpu> model({.seed = seed, .backend = backend}, make_state_net());
  const hush::tensor& y = model.forward(x);
  std::vector<float> out(y.values().begin(), y.values().end());
  const hush::tensor& dx = model.backward(hush::tensor(y.shape(), 1.0f));
  out.insert(out.end(), dx.values().begin(), dx.values().end());
  model.infer();
  const hush::tensor& z = model.forward(x);
  out.insert(out.end(), z.values().begin(), z.values().end());
  return out;
}
}  // namespace

TEST_CASE("state owned by layers: building and freeing models does not grow resident memory") {
  // Each model's oneDNN primitives and inference weights are its layers' (kernel_state), freed
  // with it: nothing accumulates in the process, whatever addresses the allocator hands out.
  // One-time growth (allocator arenas, OpenMP pools, oneDNN's bounded primitive cache) is allowed
  // to settle over 120 models; the next 200 must then add nothing a leak of even 10 KB per model
  // would show. malloc_trim hands freed pages back so that the figure is what is held.
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer's allocator keeps freed memory in quarantine (the resident set swings by tens
  // of MB either way): there LeakSanitizer, run at exit, is the leak check instead.
  MESSAGE("resident-memory check skipped under AddressSanitizer; LeakSanitizer checks for leaks");
  return;
#endif
  hush::tensor x({2, 16, 8, 8});
  hush::init_uniform(x, hush::counter_rng(5), 0, 1.0f);
  const auto held_mb = [] {
    malloc_trim(0);
    return resident_mb();
  };
  for (std::uint64_t seed = 1; seed <= 120; ++seed) use_once({}, seed, x);
  const double before = held_mb();
  std::vector<double> after;
  for (std::uint64_t seed = 121; seed <= 320; ++seed) {
    use_once({}, seed, x);
    if ((seed - 120) % 50 == 0) after.push_back(held_mb() - before);
  }
  for (std::size_t i = 0; i < after.size(); ++i) MESSAGE("resident memory after " << 50 * (i + 1) << " more models: " << after[i] << " MB more");
  CHECK(after.back() < 2.0);
}

TEST_CASE("buffers: every buffer a layer keeps is sized through the context and counted by role") {
  using net = hush::seq<hush::conv2d, hush::relu, hush::residual<hush::seq<hush::conv2d, hush::batch_norm2d>>>;
  hush::model<net, hush::backend::cpu> model(
      {.seed = 1}, net(hush::conv2d({.in = 3, .out = 8, .kernel = 3, .padding = 1}), {},
                       hush::residual<hush::seq<hush::conv2d, hush::batch_norm2d>>(
                           hush::seq<hush::conv2d, hush::batch_norm2d>(hush::conv2d({.in = 8, .out = 8, .kernel = 1}), hush::batch_norm2d(8)))));
  const auto counted = [&](std::int64_t n) {
    model.setup({n, 3, 8, 8});
    const std::int64_t x = n * 3 * 64 * 4, a = n * 8 * 64 * 4;  // bytes of the input, of an 8-channel map
    const hush::buffer_ledger b = model.buffers();
    CHECK(b.output == 5 * a);           // conv, relu, conv, batch norm; the residual's sum
    CHECK(b.input_gradient == x + 4 * a);  // conv, relu; conv, batch norm; the residual's
    CHECK(b.saved == 0);
    CHECK(b.total() == b.output + b.input_gradient);
  };
  counted(2);
  counted(5);  // a new input shape: counted afresh, not added to the last
}

TEST_CASE("state owned by layers: two models with different convolution algorithms side by side") {
  hush::tensor x({2, 16, 8, 8});
  hush::init_uniform(x, hush::counter_rng(5), 0, 1.0f);
  for (const auto a : hush::backend::cpu_conv_algorithms())
    for (const auto b : hush::backend::cpu_conv_algorithms()) {
      // Alone, then interleaved step by step in one thread: each model keeps its own algorithm.
      const auto alone_a = use_once({.convolutions = a}, 3, x), alone_b = use_once({.convolutions = b}, 3, x);
      hush::model<state_net, hush::backend::cpu> ma({.seed = 3, .backend = {.convolutions = a}}, make_state_net());
      hush::model<state_net, hush::backend::cpu> mb({.seed = 3, .backend = {.convolutions = b}}, make_state_net());
      const hush::tensor ya = ma.forward(x);
      const hush::tensor yb = mb.forward(x);
      const hush::tensor dxa = ma.backward(hush::tensor(ya.shape(), 1.0f));
      const hush::tensor dxb = mb.backward(hush::tensor(yb.shape(), 1.0f));
      for (std::int64_t i = 0; i < ya.numel(); ++i) {
        REQUIRE(ya[i] == alone_a[std::size_t(i)]);  // bit for bit: the same kernels ran
        REQUIRE(yb[i] == alone_b[std::size_t(i)]);
        REQUIRE(ya[i] == doctest::Approx(yb[i]).epsilon(1e-4));  // and the two algorithms agree
      }
      for (std::int64_t i = 0; i < dxa.numel(); ++i) {
        REQUIRE(dxa[i] == alone_a[std::size_t(ya.numel() + i)]);
        REQUIRE(dxb[i] == alone_b[std::size_t(yb.numel() + i)]);
      }
    }
}

TEST_CASE("inference mode: blocked activations between convolutions, NCHW out of the model") {
  using net = hush::seq<hush::conv2d, hush::relu, hush::conv2d, hush::relu>;
  const auto conv = [](std::int64_t in, std::int64_t out) { return hush::conv2d({.in = in, .out = out, .kernel = 3, .padding = 1}); };
  // Its layers are also run by hand below, which a model with a buffer plan refuses.
  hush::model<net, hush::backend::cpu> model({.seed = 2, .plan_buffers = false}, net(conv(16, 32), {}, conv(32, 32), {}));
  hush::tensor x({2, 16, 9, 9});
  hush::init_uniform(x, hush::counter_rng(5), 0, 1.0f);
  model.eval();
  const hush::tensor eval = model.forward(x);
  model.infer();
  const hush::tensor& fused = model.forward(x);
  CHECK(fused.layout() == hush::layout::nchw);
  for (std::int64_t i = 0; i < eval.numel(); ++i) REQUIRE(fused[i] == doctest::Approx(eval[i]).epsilon(1e-5));
  // The first convolution's output, read by the second, stays blocked when the CPU has blocks
  // (planned at setup: core/layout.hpp).
  const bool blocks = hush::backend::blocked_layout_fits(hush::backend::cpu{}, 32);
  const hush::tensor& inner = model.net.get<0>().infer_fused(model.ctx, x, model.net.get<1>());
  CHECK((inner.layout() == hush::layout::blocked) == blocks);
  hush::kept plain, plain2;
  const hush::tensor back = hush::as_nchw(model.ctx, inner, plain);
  model.eval();
  const hush::tensor& conv_relu = model.net.get<1>().forward(model.ctx, model.net.get<0>().forward(model.ctx, x));
  const hush::tensor& reference = hush::as_nchw(model.ctx, conv_relu, plain2);
  for (std::int64_t i = 0; i < reference.numel(); ++i) REQUIRE(back[i] == doctest::Approx(reference[i]).epsilon(1e-5));
}

