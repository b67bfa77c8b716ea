#pragma once
// parallel<Ls...>: every branch gets x; y = cat(L_1(x), ..., L_n(x)) along the channels
// (dimension 1; the other extents must agree). Backward splits dy by channels and sums the
// branches' input gradients.
// concat_skip<Inner>: y = cat(x, Inner(x)), the U-Net level (Ronneberger et al. 2015), recursive
// as deep as the U-Net has levels, as pix2pix's UnetSkipConnectionBlock.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "hush/core/concepts.hpp"
#include "hush/core/layout.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/tuple_n.hpp"
#include "hush/graph/visit.hpp"
#include "hush/layers/identity.hpp"

namespace hush {

/// `parallel<Ls...>`: branches side by side, each run on the same input, their outputs joined
/// along dimension 1 (channels; the other extents must agree). Backward hands each branch its
/// channels of dy and sums the branches' input gradients.
template <class... Ls>
struct parallel {
  static_assert(sizeof...(Ls) > 0, "hush::parallel: needs at least one branch");
  static_assert((check_layer<Ls>() && ...));
  static constexpr const char* kind = "parallel";
  static constexpr std::size_t size = sizeof...(Ls);

  constexpr parallel() requires(std::default_initializable<Ls> && ...) = default;
  constexpr explicit parallel(Ls... ls) : branches(std::move(ls)...) {}

  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    each([&]<std::size_t I>(auto& b) { f(name<I>(), b, in); });
  }
  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) const {
    const_cast<parallel*>(this)->for_each_child(
        [&](const std::string& n, const auto& b, shape s) { f(n, b, s); }, in);
  }

  constexpr std::int64_t parameter_count() const {
    std::int64_t n = 0;
    std::apply([&](const auto&... b) { ((n += b.parameter_count()), ...); }, branches);
    return n;
  }

  shape output_shape(shape in) const {
    shape out{};
    const_cast<parallel*>(this)->each([&]<std::size_t I>(auto& b) {
      const auto s = within(name<I>(), [&] { return b.output_shape(in); });
      if (s.rank < 2) throw shape_error(std::string(kind) + ": branch " + name<I>() + " gives " + s.str() + ", no channels");
      if (I == 0) return void(out = s);
      auto a = out, c = s;
      a[1] = c[1] = 0;
      if (a != c)
        throw shape_error(std::string(kind) + ": branch " + name<I>() + " gives " + s.str() + ", which cannot join " +
                          out.str() + " along the channels");
      out[1] += s[1];
    });
    return out;
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    const auto out = output_shape(in);
    each([&]<std::size_t I>(auto& b) {
      within(name<I>(), [&] { b.setup(ctx, in); });
      const auto s = b.output_shape(in);
      channels_[I] = s[1];
      ctx.keep(dys_[I], s, buffer_role::saved);
    });
    inner_ = out.per_sample() / out[1];
    ctx.keep(y_, out, buffer_role::output);
    ctx.keep(dx_, in, buffer_role::input_gradient);
    ins_ = {}, outs_ = {};  // all NCHW until planned
  }

  /// Each branch reads x as it comes; their outputs are copied out as NCHW planes.
  template <class Ctx>
  layout plan_layout(Ctx& ctx, layout in, bool) {
    each([&]<std::size_t I>(auto& b) {
      const auto out = within(name<I>(), [&] { return plan_child(ctx, b, std::get<I>(ins_), in, false); });
      std::get<I>(outs_).plan(out, layout::nchw);
    });
    return layout::nchw;
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const auto n = x.shape()[0], total = ctx[y_].shape()[1];
    std::int64_t offset = 0;
    each([&]<std::size_t I>(auto& b) {
      const tensor_of<Ctx>& part = within([] { return name<I>(); }, [&]() -> const tensor_of<Ctx>& {
        ctx.begin_call({&x});
        xs_[I] = &std::get<I>(ins_).forward(ctx, x);
        return ctx.end_call(std::get<I>(outs_).forward(ctx, b.forward(ctx, ctx[xs_[I]])));
      });
      copy_blocks(ctx.backend, n, channels_[I] * inner_, part.data(), channels_[I] * inner_,
                  ctx[y_].data() + offset * inner_, total * inner_);
      offset += channels_[I];
    });
    return ctx[y_];
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const auto n = x.shape()[0], total = ctx[y_].shape()[1];
    std::int64_t offset = 0;
    each([&]<std::size_t I>(auto& b) {
      copy_blocks(ctx.backend, n, channels_[I] * inner_, dy.data() + offset * inner_, total * inner_, ctx[dys_[I]].data(),
                  channels_[I] * inner_);
      offset += channels_[I];
      const tensor_of<Ctx>& g = within([] { return name<I>(); }, [&]() -> const tensor_of<Ctx>& {
        ctx.begin_call({});
        return ctx.end_call(std::get<I>(ins_).backward(ctx, b.backward(ctx, ctx[xs_[I]], std::get<I>(outs_).backward(ctx, ctx[dys_[I]]))));
      });
      if (I == 0) copy_blocks(ctx.backend, 1, g.numel(), g.data(), 0, ctx[dx_].data(), 0);
      else axpy(ctx.backend, g.numel(), 1.0f, g.data(), ctx[dx_].data());
    });
    ctx[dx_].set_layout(x.layout());
    return ctx[dx_];
  }

  template <class V>
  void visit(V&& v) {
    visit_children(*this, v);
  }

  std::tuple<Ls...> branches;

 private:
  template <class F>
  constexpr void each(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(std::get<I>(branches)), ...);
    }(std::make_index_sequence<size>{});
  }
  template <std::size_t I>
  static std::string name() {
    return child_name<std::tuple_element_t<I, std::tuple<Ls...>>>(I);
  }

  std::array<std::int64_t, size> channels_{};
  std::int64_t inner_ = 1;
  std::array<kept, size> dys_{};
  kept y_, dx_;
  detail::tuple_n<layout_adapter, size> ins_{}, outs_{};  // each branch's edges
  std::array<tensor_ptr, size> xs_{};            // each branch's input in the last forward
};

/// `concat_skip<Inner>`: x joined with Inner(x) along the channels, a parallel of identity and
/// `Inner`; nested, it builds a U-Net's levels (pix2pix's UnetSkipConnectionBlock). flat_skip
/// keeps PyTorch's flat parameter names.
template <class Inner>
struct concat_skip : parallel<identity, Inner> {
  static constexpr const char* kind = "concat_skip";
  constexpr concat_skip() requires std::default_initializable<Inner> = default;
  constexpr explicit concat_skip(Inner inner) : parallel<identity, Inner>(identity{}, std::move(inner)) {}
};

/// A concat_skip that adds nothing to parameter names (it and its child unnamed), so the nested
/// levels of a U-Net keep the flat names a PyTorch module gives them: `dec_conv3a.weight`, not
/// `1.1.0.dec_conv3a.weight`.
template <class Inner>
using flat_skip = named<"", concat_skip<named<"", Inner>>>;
/// The flat_skip around `inner`: how models/resnet_unet.hpp nests a U-Net's levels, the innermost
/// first.
template <class Inner>
constexpr flat_skip<Inner> flat_skip_over(Inner inner) {
  return flat_skip<Inner>(concat_skip<named<"", Inner>>(std::move(inner)));
}

}  // namespace hush
