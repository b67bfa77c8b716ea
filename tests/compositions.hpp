// The composition property test's machinery (tests/compositions_*.cpp): networks built at compile
// time from the layer list and the combinators, at channel counts that take the cpu backend's
// blocked layout (16, 32, 48), run for a training step on every backend (cpu with each
// convolution algorithm and with the blocked layout switched off, thrust), and compared with
// the reference backend: output, input gradient and every parameter gradient.
//
// A composition is a type built from "atoms" (one layer with its options derived from the
// channel count c, every one keeping the shape (N, c, H, W)) and patterns (the combinators,
// nested). make<T>(c) builds any of them.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <typeinfo>
#include <vector>

#include "hush/backend/thrust.hpp"
#include "hush/hush.hpp"
#include "support.hpp"

namespace compositions {

inline constexpr std::int64_t side = 6;  // images are (2, c, 6, 6)

// ---- atoms: one layer each, (N, c, 6, 6) -> (N, c, 6, 6) ----------------------------------
struct conv3 : hush::conv2d {
  explicit conv3(std::int64_t c) : conv2d({.in = c, .out = c, .kernel = 3, .padding = 1}) {}
};
struct conv1 : hush::conv2d {  // no bias: the shortcut of a ResNet
  explicit conv1(std::int64_t c) : conv2d({.in = c, .out = c, .kernel = 1, .bias = false}) {}
};
struct conv_s2 : hush::seq<hush::conv2d, hush::upsample> {  // a strided convolution, back to size
  explicit conv_s2(std::int64_t c)
      : seq(hush::conv2d({.in = c, .out = c, .kernel = 3, .stride = 2, .padding = 1}), hush::upsample({.scale = 2})) {}
};
struct deconv : hush::conv_transpose2d {
  explicit deconv(std::int64_t c) : conv_transpose2d({.in = c, .out = c, .kernel = 3, .padding = 1}) {}
};
// Not `norm`: under nvcc that name is also CUDA's math function, and the pairs below are ambiguous.
struct bnorm : hush::batch_norm2d {
  explicit bnorm(std::int64_t c) : batch_norm2d(c) {}
};
struct leaky : hush::leaky_relu {
  explicit leaky(std::int64_t) : leaky_relu(0.2f) {}
};
struct leaky_negative : hush::leaky_relu {  // a negative slope: never in place
  explicit leaky_negative(std::int64_t) : leaky_relu(-0.3f) {}
};
struct max3 : hush::max_pool2d {
  explicit max3(std::int64_t) : max_pool2d({.kernel = 3, .stride = 1, .padding = 1}) {}
};
struct avg3 : hush::avg_pool2d {
  explicit avg3(std::int64_t) : avg_pool2d({.kernel = 3, .stride = 1, .padding = 1}) {}
};
struct down_up : hush::seq<hush::max_pool2d, hush::upsample> {  // pooling and upsampling
  explicit down_up(std::int64_t)
      : seq(hush::max_pool2d({.kernel = 2}), hush::upsample({.scale = 2, .interpolation = hush::upsample::interpolation::bilinear})) {}
};
struct drop : hush::dropout {
  explicit drop(std::int64_t) : dropout(0.25f) {}
};
/// 2c channels back to c: after a concatenation.
struct squeeze : hush::conv2d {
  explicit squeeze(std::int64_t c) : conv2d({.in = 2 * c, .out = c, .kernel = 1}) {}
};
/// flatten + linear: the classifier's head.
struct head : hush::seq<hush::flatten, hush::linear> {
  explicit head(std::int64_t c) : seq(hush::flatten{}, hush::linear({.in = c * side * side, .out = 5})) {}
};

/// The hand-written composite of docs/design.md: y = conv_a(x) · σ(conv_b(x)), a gated
/// convolution, computing on its children's outputs itself with for_each_index kernels (so it
/// runs on every backend, device memory included). It declares nothing about layouts, so it
/// receives NCHW and its children write NCHW.
struct gated_conv {
  static constexpr const char* kind = "gated_conv";
  hush::conv2d value, gate;

  explicit gated_conv(std::int64_t c)
      : value({.in = c, .out = c, .kernel = 3, .padding = 1}), gate({.in = c, .out = c, .kernel = 1}) {}

  std::int64_t parameter_count() const { return value.parameter_count() + gate.parameter_count(); }
  hush::shape output_shape(hush::shape in) const { return value.output_shape(in); }
  template <class Ctx>
  void setup(Ctx& ctx, hush::shape in) {
    hush::within("value", [&] { value.setup(ctx, in); });
    hush::within("gate", [&] { gate.setup(ctx, in); });
    const auto out = output_shape(in);
    ctx.keep(y_, out, hush::buffer_role::output);
    ctx.keep(da_, out, hush::buffer_role::saved), ctx.keep(dg_, out, hush::buffer_role::saved);
    ctx.keep(dx_, in, hush::buffer_role::input_gradient);
  }
  template <class Ctx>
  const hush::tensor_of<Ctx>& forward(Ctx& ctx, const hush::tensor_of<Ctx>& x) {
    const float* a = value.forward(ctx, x).data();
    const float* g = gate.forward(ctx, x).data();
    float* y = ctx[y_].data();
    for_each_index(ctx.backend, ctx[y_].numel(), [=] HUSH_HD(std::int64_t i) { y[i] = a[i] * sigma(g[i]); });
    return ctx[y_];
  }
  template <class Ctx>
  const hush::tensor_of<Ctx>& backward(Ctx& ctx, const hush::tensor_of<Ctx>& x, const hush::tensor_of<Ctx>& dy) {
    const float* a = value.forward(ctx, x).data();  // recomputed rather than kept
    const float* g = gate.forward(ctx, x).data();
    const float* d = dy.data();
    float *da = ctx[da_].data(), *dg = ctx[dg_].data(), *dx = ctx[dx_].data();
    for_each_index(ctx.backend, dy.numel(), [=] HUSH_HD(std::int64_t i) {
      const float s = sigma(g[i]);
      da[i] = d[i] * s, dg[i] = d[i] * a[i] * s * (1 - s);
    });
    const float* dxa = value.backward(ctx, x, ctx[da_]).data();
    for_each_index(ctx.backend, ctx[dx_].numel(), [=] HUSH_HD(std::int64_t i) { dx[i] = dxa[i]; });
    const float* dxg = gate.backward(ctx, x, ctx[dg_]).data();
    for_each_index(ctx.backend, ctx[dx_].numel(), [=] HUSH_HD(std::int64_t i) { dx[i] += dxg[i]; });
    return ctx[dx_];
  }
  template <class V>
  void visit(V&& v) {
    hush::prefixed_visitor a{v, "value."}, b{v, "gate."};
    value.visit(a), gate.visit(b);
  }
  template <class F>
  void for_each_child(F&& f, hush::shape in = {}) {
    f("value", value, in), f("gate", gate, in);
  }

 private:
  static HUSH_HD float sigma(float v) { return 1.0f / (1.0f + expf(-v)); }
  hush::kept y_, da_, dg_, dx_;
};

// ---- make<T>(c): any atom, and any combinator of makeable types --------------------------
template <class T>
T make(std::int64_t c);
template <class T>
struct maker {
  static T make(std::int64_t c) {
    if constexpr (std::is_constructible_v<T, std::int64_t>) return T(c);
    // named<N, L>: made from L. A branch, not a partial specialisation on the fixed_string:
    // nvcc 13.0 does not match one, and fell through to T{}.
    else if constexpr (requires { typename T::layer_type; }) return T(compositions::make<typename T::layer_type>(c));
    else return T{};  // relu, tanh, sigmoid, gelu, identity, flatten
  }
};
template <class T>
T make(std::int64_t c) {
  return maker<T>::make(c);
}
template <class... Ls>
struct maker<hush::seq<Ls...>> {
  static hush::seq<Ls...> make(std::int64_t c) { return hush::seq<Ls...>(compositions::make<Ls>(c)...); }
};
template <class... Ls>
struct maker<hush::parallel<Ls...>> {
  static hush::parallel<Ls...> make(std::int64_t c) { return hush::parallel<Ls...>(compositions::make<Ls>(c)...); }
};
template <class Inner>
struct maker<hush::concat_skip<Inner>> {
  static hush::concat_skip<Inner> make(std::int64_t c) { return hush::concat_skip<Inner>(compositions::make<Inner>(c)); }
};
template <class F, class S, class P>
struct maker<hush::residual<F, S, P>> {
  static hush::residual<F, S, P> make(std::int64_t c) {
    return hush::residual<F, S, P>(compositions::make<F>(c), compositions::make<S>(c), compositions::make<P>(c));
  }
};
template <std::size_t N, class L, class First>
struct maker<hush::repeat<N, L, First>> {
  static hush::repeat<N, L, First> make(std::int64_t c) {
    return hush::repeat<N, L, First>(compositions::make<First>(c), compositions::make<L>(c));
  }
};

// ---- running and comparing ----------------------------------------------------------------
/// A training step of Net (c channels) on Backend: y, dx and every parameter gradient. With
/// `twice`, the step of a second pass (whose buffers hold the first's values), then an
/// inference-mode output and an eval-mode step: every mode the buffer plan lays out.
template <class Net, class Backend>
std::vector<float> step(std::int64_t c, Backend backend = {}, bool plan_buffers = true, bool twice = false) {
  hush::model<Net, Backend> m({.seed = 7, .backend = backend, .plan_buffers = plan_buffers}, make<Net>(c));
  const hush::shape in{2, c, side, side};
  hush::tensor x(in);
  const hush::counter_rng rng{11};
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = rng.normal(1, static_cast<std::uint64_t>(i));
  const auto& xb = hush::to(backend, x);  // in the backend's memory; alive until backward
  std::vector<float> out;
  const auto append = [&](const auto& t) {
    const auto h = hush::to_host(t);
    out.insert(out.end(), h.values().begin(), h.values().end());
  };
  const auto pass = [&] {
    out.clear();
    m.zero_grad();
    const auto y = hush::to_host(m.forward(xb));
    append(y);
    hush::tensor dy(y.shape());
    for (std::int64_t i = 0; i < dy.numel(); ++i) dy[i] = rng.normal(2, static_cast<std::uint64_t>(i));
    append(m.backward(hush::to(backend, dy)));
    hush::for_each_parameter(m.net, [&](std::string_view, hush::parameter& p) { append(p.grad); });
  };
  m.train();
  pass();
  if (plan_buffers) CHECK_MESSAGE(m.arena_bytes() > 0, "no buffer plan for " << typeid(Net).name());
  if (twice) {
    pass();
    const auto trained = out;
    m.infer();
    const auto inferred = hush::to_host(m.forward(xb));
    m.eval();
    pass();
    out.insert(out.begin(), trained.begin(), trained.end());
    append(inferred);
  }
  return out;
}

/// How many compositions ran (each test file adds its own).
inline int& counted() {
  static int n = 0;
  return n;
}

/// Net on every backend against the reference, at c channels.
template <class Net>
void check(std::int64_t c) {
  ++counted();
  constexpr double tolerance = 2e-3;  // float against double accumulation through a few layers
  const auto ref = step<Net, hush::backend::reference>(c);
  const std::string name = typeid(Net).name();
  for (const auto algorithm : hush::backend::cpu_conv_algorithms()) {
    const double d = hush::test::difference(ref, step<Net>(c, hush::backend::cpu{.convolutions = algorithm}));
    CHECK_MESSAGE(d < tolerance, "cpu (" << hush::backend::name(algorithm) << ") differs from reference by " << d
                                         << " at " << c << " channels: " << name);
  }
  {
    const double d = hush::test::difference(ref, step<Net>(c, hush::backend::cpu{.blocked_layout = false}));
    CHECK_MESSAGE(d < tolerance, "cpu (NCHW between convolutions) differs by " << d << " at " << c << " channels: " << name);
  }
  const double d = hush::test::difference(ref, step<Net, hush::backend::thrust>(c));
  CHECK_MESSAGE(d < tolerance, "thrust differs from reference by " << d << " at " << c << " channels: " << name);
  // The buffer plan changes where values live, never what they are: bit for bit, over two
  // training passes, an inference and an eval pass.
  const auto planned = step<Net>(c, hush::backend::cpu{}, true, true);
  CHECK_MESSAGE(planned == step<Net>(c, hush::backend::cpu{}, false, true),
                "cpu with the buffer plan differs from cpu without at " << c << " channels: " << name);
}

/// Every composition in a list, cycling through the channel counts that take the blocked path.
template <class... Nets>
void check_all() {
  constexpr std::int64_t channels[] = {16, 32, 48};
  std::size_t i = 0;
  ((check<Nets>(channels[i++ % 3])), ...);
}

// ---- patterns: combinators over two holes A and B -----------------------------------------
using hush::concat_skip, hush::identity, hush::named, hush::parallel, hush::repeat, hush::residual, hush::seq;

template <class A, class B> using flat = seq<conv3, A, B>;
template <class A, class B> using nested = seq<conv3, seq<A, B>>;              // the producer outside
template <class A, class B> using nested_deep = seq<seq<conv3, seq<A>>, seq<seq<B>, conv1>>;
template <class A, class B> using res_post = residual<seq<conv3, A>, identity, B>;
template <class A, class B> using res_projection = seq<conv3, residual<seq<A, conv3>, seq<conv1, B>, hush::relu>>;
template <class A, class B> using unet_level = seq<conv3, concat_skip<seq<A, conv3, B>>, squeeze>;
template <class A, class B> using branches = seq<conv3, parallel<A, seq<conv3, B>>, squeeze, bnorm>;
template <class A, class B> using repeated = seq<conv3, repeat<2, seq<A, conv3>, seq<conv3, B>>>;
template <class A, class B> using names = seq<named<"stem", conv3>, named<"body", seq<A, seq<B, conv1>>>>;
template <class A, class B> using classifier = seq<conv3, bnorm, A, seq<conv3, B>, head>;

/// Pattern P over the pairs (A_i, B_i) of two equally long lists.
template <template <class, class> class P, class... Pairs>
struct over;
template <class A, class B>
struct pair {};
template <template <class, class> class P, class... As, class... Bs>
struct over<P, pair<As, Bs>...> {
  static void check() { check_all<P<As, Bs>...>(); }
};

/// 21 pairs of atoms: every atom meets several others on each side, activations after
/// convolutions and norms (the fused paths), layers that never take the blocked layout after
/// ones that write it, and the other way round.
#define HUSH_COMPOSITION_PAIRS                                                                             \
  pair<hush::relu, max3>, pair<hush::tanh, identity>, pair<bnorm, hush::relu>, pair<bnorm, leaky>,      \
      pair<leaky, conv3>, pair<leaky_negative, bnorm>, pair<hush::sigmoid, avg3>, pair<hush::gelu, conv1>,  \
      pair<identity, bnorm>, pair<deconv, bnorm>, pair<max3, hush::relu>, pair<avg3, conv3>,                 \
      pair<down_up, leaky>, pair<drop, conv3>, pair<conv_s2, hush::relu>, pair<conv3, hush::tanh>,         \
      pair<hush::relu, deconv>, pair<bnorm, drop>, pair<gated_conv, bnorm>, pair<conv1, gated_conv>,        \
      pair<hush::relu, conv_s2>

}  // namespace compositions
