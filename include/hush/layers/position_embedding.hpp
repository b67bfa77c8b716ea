#pragma once
// Where each token sits, added to it:
//   sincos_position_embedding<Name>: the MAE's fixed 2-D sine-cosine table (He et al. 2022, after
//     Vaswani et al.'s 1-D one): for the patch in row r and column c of a g×g grid, the first
//     half of the channels encode c and the second half r, each half as sin(pos·ω_k) then
//     cos(pos·ω_k), ω_k = 10000^(-k/(C/4)), k < C/4. Stored as the MAE code stores it, (1, 1 + g², C)
//     with a zero row for the class token, as a buffer (saved, never trained). The input is
//     either the g² patch tokens (rows 1.. are added: the MAE's encoder adds them before masking)
//     or the class token and the patches (every row: its decoder).
//   position_embedding<Name>: a learned (1, T, C) table, N(0, 0.02²) (torchvision's ViT:
//     encoder.pos_embedding).
#include <cmath>
#include <cstdint>
#include <string>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/fixed_string.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/random.hpp"  // HUSH_HD
#include "hush/core/tensor.hpp"
#include "hush/layers/init.hpp"

namespace hush {

/// The MAE's table for a g×g grid and C channels (C a multiple of 4), class-token row first.
inline tensor sincos_table(std::int64_t grid, std::int64_t dim) {
  if (dim % 4) throw shape_error("sincos_position_embedding: channels must be a multiple of 4, got " + std::to_string(dim));
  tensor t({1, 1 + grid * grid, dim}, 0.0f);
  const std::int64_t quarter = dim / 4;
  for (std::int64_t r = 0; r < grid; ++r)
    for (std::int64_t c = 0; c < grid; ++c) {
      float* row = t.data() + (1 + r * grid + c) * dim;
      for (std::int64_t k = 0; k < quarter; ++k) {
        const double omega = 1.0 / std::pow(10000.0, double(k) / double(quarter));
        row[k] = static_cast<float>(std::sin(double(c) * omega));
        row[quarter + k] = static_cast<float>(std::cos(double(c) * omega));
        row[2 * quarter + k] = static_cast<float>(std::sin(double(r) * omega));
        row[3 * quarter + k] = static_cast<float>(std::cos(double(r) * omega));
      }
    }
  return t;
}

namespace detail {
/// y = x + table[offset + ...], the table broadcast over the batch; `table` holds t·c values
/// from `offset` on. Backward is the identity for x.
template <class Ctx>
void add_table(Ctx& ctx, const tensor_of<Ctx>& x, const float* table, float* y) {
  const std::int64_t per_sample = x.shape().per_sample();
  const float* in = x.data();
  for_each_index(ctx.backend, x.numel(), [=] HUSH_HD(std::int64_t i) { y[i] = in[i] + table[i % per_sample]; });
}
}  // namespace detail

/// The MAE's fixed 2-D sine-cosine position embedding, added to the tokens of a g×g patch grid:
/// x (N, g², C), or (N, 1 + g², C) with the class token first -> the same shape. The table
/// (see sincos_table) is a buffer saved as `Name`, never trained.
template <fixed_string Name = "pos_embed">
struct sincos_position_embedding {
  /// sincos_position_embedding's settings, both required: the side g of the square patch grid and
  /// the width C (dim), which must be a multiple of 4.
  struct options {
    std::int64_t grid, dim;
  };
  static constexpr const char* kind = "sincos_position_embedding";
  constexpr explicit sincos_position_embedding(options o) : opt(o) {}
  constexpr std::int64_t parameter_count() const { return 0; }

  shape output_shape(shape in) const {
    const auto patches = opt.grid * opt.grid;
    if (in.rank != 3 || in[2] != opt.dim || (in[1] != patches && in[1] != patches + 1))
      throw shape_error("sincos_position_embedding: expected (N, " + std::to_string(patches) + " or " +
                        std::to_string(patches + 1) + ", " + std::to_string(opt.dim) + "), got " + in.str());
    return in;
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    if (ctx[table_].shape() != shape{1, 1 + opt.grid * opt.grid, opt.dim}) {
      ctx.keep(table_, {1, 1 + opt.grid * opt.grid, opt.dim}, buffer_role::saved);
      assign(table_, sincos_table(opt.grid, opt.dim));
    }
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    const bool patches_only = x.shape()[1] == opt.grid * opt.grid;
    detail::add_table(ctx, x, ctx[table_].data() + (patches_only ? opt.dim : 0), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx&, const tensor_of<Ctx>&, const tensor_of<Ctx>& dy) {
    return dy;
  }
  template <class V>
  void visit(V&& v) {
    v.buffer(std::string_view(Name), table_);
  }
  std::string describe() const { return std::to_string(opt.grid) + "x" + std::to_string(opt.grid) + ", " + std::to_string(opt.dim); }

  options opt;

 private:
  kept table_, y_;
};

/// A learned position embedding: x (N, T, C) -> y = x + table, the (1, T, C) table broadcast over
/// the batch and drawn from N(0, 0.02²), as torchvision's ViT's encoder.pos_embedding. `Name` is
/// the parameter's name in saved weights.
template <fixed_string Name = "pos_embedding">
struct position_embedding {
  /// position_embedding's settings, both required: the number of tokens T the input has (the class
  /// token included, if any) and the width C (dim).
  struct options {
    std::int64_t tokens, dim;
  };
  static constexpr const char* kind = "position_embedding";
  constexpr explicit position_embedding(options o) : opt(o) {}
  constexpr std::int64_t parameter_count() const { return opt.tokens * opt.dim; }

  shape output_shape(shape in) const {
    if (in.rank != 3 || in[1] != opt.tokens || in[2] != opt.dim)
      throw shape_error("position_embedding: expected (N, " + std::to_string(opt.tokens) + ", " + std::to_string(opt.dim) +
                        "), got " + in.str());
    return in;
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    ctx.keep(y_, output_shape(in), buffer_role::output);
    if (table.allocate(ctx, {1, opt.tokens, opt.dim})) init_normal(ctx, table.value, ctx.next_stream(), 0.02f);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    detail::add_table(ctx, x, ctx[table.value].data(), ctx[y_].data());
    return ctx[y_];
  }
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    sum_into_bias(ctx.backend, x.shape()[0], opt.tokens * opt.dim, 1, dy.data(), ctx[table.grad].data());
    return dy;
  }
  template <class V>
  void visit(V&& v) {
    v.parameter(std::string_view(Name), table);
  }
  std::string describe() const { return std::to_string(opt.tokens) + " tokens, " + std::to_string(opt.dim); }

  options opt;
  parameter table;

 private:
  kept y_;
};

}  // namespace hush
