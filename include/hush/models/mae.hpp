#pragma once
// The Masked Autoencoder (He et al. 2022), as a type: masked_autoencoder<EncoderDepth,
// DecoderDepth>, with the MAE code's parameter names.
//
//   image (N, C, H, W) -> patch_embed -> + pos_embed (fixed sine-cosine) -> keep a random
//   (1 - mask_ratio) of the tokens per image -> cls_token in front -> blocks -> norm ->
//   decoder_embed -> mask_token in every dropped place, order restored -> + decoder_pos_embed ->
//   decoder_blocks -> decoder_norm -> decoder_pred -> class token dropped: (N, T, p·p·C), a
//   prediction of every patch's pixels in unpatchify's layout.
//
// The encoder sees only the visible tokens: at ratio 0.75 it costs a quarter of a full ViT's
// MLP and a sixteenth of its attention. The mask is drawn per image from (the model's seed,
// mask_seed, ctx.step, image, token): token t of image b draws ctx.rng.uniform(key, (f + b)·T + t)
// with key = counter_rng::mix(mask_seed ^ counter_rng::mix(step)) and f = opt.first_image (0
// but in evaluation), the same on every backend and thread count, another one each step;
// `mask()` gives it ((N, T), 1 where a patch was dropped) for the loss (losses/masked_patch_mse.hpp).
// Which tokens stay is decided by rank: token t's rank is the number of tokens whose draw is
// smaller (ties by index), the lowest (1 - ratio)·T ranks stay, as the MAE code's argsort of
// noise does, but in one pass a token per thread with no sort, on every backend.
// mask_ratio may be changed between calls (evaluation at several ratios; mae_reconstruction
// below, the MAE as a denoising front end); the buffers follow on the next forward.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/index_tensor.hpp"
#include "hush/core/parameter.hpp"
#include "hush/core/random.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/repeat.hpp"
#include "hush/graph/seq.hpp"
#include "hush/graph/visit.hpp"
#include "hush/layers/class_token.hpp"
#include "hush/layers/init.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/norm.hpp"
#include "hush/layers/position_embedding.hpp"
#include "hush/layers/tokens.hpp"
#include "hush/models/vit.hpp"

namespace hush::models {

namespace detail {
/// Each image's token ranks by draw (ties by index, rotated by `shift`), the k lowest kept in
/// rank order, and the loss's mask (1 where dropped): a token per thread, no sort.
template <class Backend>
void draw_token_mask(Backend backend, counter_rng rng, std::uint64_t key, std::int64_t first, std::int64_t n,
                     std::int64_t t, std::int64_t k, std::int64_t shift, std::int32_t* rank, std::int32_t* keep,
                     float* mask) {
  shift = ((shift % t) + t) % t;
  for_each_index(backend, n * t, [=] HUSH_HD(std::int64_t i) {
    const std::int64_t b = i / t, s = i % t;
    const std::int64_t stream = (first + b) * t;  // this image's draws
    const float mine = rng.uniform(key, static_cast<std::uint64_t>(stream + s));
    std::int64_t r = 0;
    for (std::int64_t u = 0; u < t; ++u) {
      const float other = rng.uniform(key, static_cast<std::uint64_t>(stream + u));
      r += other < mine || (other == mine && u < s);
    }
    r = (r + shift) % t;
    rank[i] = static_cast<std::int32_t>(r);
    mask[i] = r < k ? 0.0f : 1.0f;
    if (r < k) keep[b * k + r] = static_cast<std::int32_t>(s);
  });
}
}  // namespace detail

/// A masked_autoencoder's image and patch sides, channels, encoder and decoder sizes and masking.
/// The defaults are mae_small's: 32×32 images in 4×4 patches, three quarters of them masked.
struct mae_options {
  std::int64_t image = 32, patch = 4, channels = 3;
  std::int64_t dim = 192, heads = 3, mlp = 768;                         // encoder
  std::int64_t decoder_dim = 96, decoder_heads = 3, decoder_mlp = 384;  // decoder
  float mask_ratio = 0.75f;
  /// With the model's seed and ctx.step, what the masks are drawn from (give two MAEs in one
  /// network different ones).
  std::uint64_t mask_seed = 0x6d61736b;  // "mask"
  /// Rotates every rank by this much (mod T): shifts of 0, k, 2k, ... (k visible tokens) show
  /// the encoder disjoint windows of one random order (mae_reconstruction's passes).
  std::int64_t mask_shift = 0;
  /// Where the batch starts in the mask stream: image b draws image first_image + b's mask, so
  /// a pass over a data set in batches gives each image the same mask whatever the batch size
  /// (evaluate_mae). Training leaves it 0: ctx.step alone tells the batches apart.
  std::int64_t first_image = 0;
  constexpr std::int64_t grid() const { return image / patch; }
  constexpr std::int64_t tokens() const { return grid() * grid(); }
  /// Tokens the encoder sees: the MAE code's int(T·(1 - ratio)).
  constexpr std::int64_t visible() const { return static_cast<std::int64_t>(double(tokens()) * (1.0 - double(mask_ratio))); }
};

/// The Masked Autoencoder (He et al. 2022) with `EncoderDepth` and `DecoderDepth` blocks, under the
/// MAE code's names: the encoder sees a random (1 - mask_ratio) of the patches, the decoder predicts
/// every patch. x (N,C,H,W) -> (N,T,p·p·C), unpatchify's layout; mask() tells which were dropped.
template <std::size_t EncoderDepth, std::size_t DecoderDepth>
struct masked_autoencoder {
  using embed_type = seq<named<"patch_embed", patch_embed>, named<"", sincos_position_embedding<"pos_embed">>>;
  using encoder_type =
      seq<named<"", class_token<"cls_token">>, named<"blocks", repeat<EncoderDepth, vit_block>>, named<"norm", layer_norm>>;
  using decoder_type = seq<named<"", sincos_position_embedding<"decoder_pos_embed">>,
                           named<"decoder_blocks", repeat<DecoderDepth, vit_block>>, named<"decoder_norm", layer_norm>,
                           named<"decoder_pred", linear>>;
  static constexpr const char* kind = "masked_autoencoder";
  /// The configuration a default-built model of this kind has (mae_reconstruction's tile side).
  static constexpr mae_options defaults{};

  constexpr explicit masked_autoencoder(mae_options o)
      : opt(o),
        embed(patch_embed({.channels = o.channels, .dim = o.dim, .patch = o.patch}),
              sincos_position_embedding<"pos_embed">({.grid = o.grid(), .dim = o.dim})),
        encoder(class_token<"cls_token">(o.dim),
                repeat<EncoderDepth, vit_block>(vit_block({.dim = o.dim, .heads = o.heads, .mlp = o.mlp})),
                layer_norm({.features = o.dim, .eps = 1e-6f})),
        decoder_embed({.in = o.dim, .out = o.decoder_dim}),
        decoder(sincos_position_embedding<"decoder_pos_embed">({.grid = o.grid(), .dim = o.decoder_dim}),
                repeat<DecoderDepth, vit_block>(
                    vit_block({.dim = o.decoder_dim, .heads = o.decoder_heads, .mlp = o.decoder_mlp})),
                layer_norm({.features = o.decoder_dim, .eps = 1e-6f}),
                linear({.in = o.decoder_dim, .out = o.patch * o.patch * o.channels})) {}

  constexpr std::int64_t parameter_count() const {
    return embed.parameter_count() + encoder.parameter_count() + decoder_embed.parameter_count() +
           decoder.parameter_count() + opt.decoder_dim;  // + mask_token
  }

  shape output_shape(shape in) const {
    if (in.rank != 4 || in.c() != opt.channels || in.h() != opt.image || in.w() != opt.image || opt.image % opt.patch)
      throw shape_error("masked_autoencoder: expected (N, " + std::to_string(opt.channels) + ", " + std::to_string(opt.image) +
                        ", " + std::to_string(opt.image) + ") images in patches of " + std::to_string(opt.patch) + ", got " +
                        in.str());
    if (!(opt.mask_ratio >= 0.0f && opt.mask_ratio < 1.0f) || opt.visible() < 1)
      throw shape_error("masked_autoencoder: mask ratio " + std::to_string(opt.mask_ratio) + " leaves no token of " +
                        std::to_string(opt.tokens()) + " visible");
    return {in[0], opt.tokens(), opt.patch * opt.patch * opt.channels};
  }

  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    const bool sized = !in.empty();
    const auto n = sized ? in[0] : 0, t = opt.tokens(), k = opt.visible();
    f(std::string(), embed, in);
    f(std::string(), encoder, sized ? shape{n, k, opt.dim} : shape{});
    f(std::string("decoder_embed"), decoder_embed, sized ? shape{n, k + 1, opt.dim} : shape{});
    f(std::string(), decoder, sized ? shape{n, t + 1, opt.decoder_dim} : shape{});
  }

  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    const auto out = output_shape(in);
    const auto n = in[0], t = opt.tokens(), k = opt.visible();
    within("", [&] { embed.setup(ctx, in); });
    within("", [&] { encoder.setup(ctx, {n, k, opt.dim}); });
    within("decoder_embed", [&] { decoder_embed.setup(ctx, {n, k + 1, opt.dim}); });
    within("", [&] { decoder.setup(ctx, {n, t + 1, opt.decoder_dim}); });
    if (mask_token.allocate(ctx, {1, 1, opt.decoder_dim})) init_normal(ctx, mask_token.value, ctx.next_stream(), 0.02f);
    ctx.keep(rank_, {n, t});
    ctx.keep(keep_, {n, k});
    ctx.keep(mask_, {n, t}, buffer_role::saved);
    ctx.keep(visible_, {n, k, opt.dim}, buffer_role::saved);
    ctx.keep(full_, {n, t + 1, opt.decoder_dim}, buffer_role::saved);
    ctx.keep(y_, out, buffer_role::output);
    ctx.keep(dpred_, {n, t + 1, out[2]}, buffer_role::saved);
    ctx.keep(dshort_, {n, k + 1, opt.decoder_dim}, buffer_role::saved);
    ctx.keep(dtokens_, {n, t, opt.dim}, buffer_role::saved);
    set_up_for_ = {in, k};
  }

  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    if (set_up_for_.in != x.shape() || set_up_for_.visible != opt.visible()) setup(ctx, x.shape());
    const std::int64_t n = x.shape()[0], t = opt.tokens(), k = opt.visible(), c = opt.dim, cd = opt.decoder_dim;
    const auto& tokens = within("", [&]() -> const tensor_of<Ctx>& { return embed.forward(ctx, x); });
    draw_mask(ctx, n);
    {  // the visible tokens, in the order of their ranks
      const float* in = tokens.data();
      const std::int32_t* keep = ctx[keep_].data();
      float* out = ctx[visible_].data();
      for_each_index(ctx.backend, n * k * c, [=] HUSH_HD(std::int64_t i) {
        const std::int64_t ch = i % c, r = (i / c) % k, b = i / (c * k);
        out[i] = in[(b * t + keep[b * k + r]) * c + ch];
      });
    }
    const auto& encoded = within("", [&]() -> const tensor_of<Ctx>& { return encoder.forward(ctx, ctx[visible_]); });
    encoded_ = &encoded;
    const auto& short_seq = within("decoder_embed", [&]() -> const tensor_of<Ctx>& { return decoder_embed.forward(ctx, encoded); });
    {  // every token back in place: the class token, then each patch's encoding or the mask token
      const float *in = short_seq.data(), *mtok = ctx[mask_token.value].data();
      const std::int32_t* rank = ctx[rank_].data();
      float* out = ctx[full_].data();
      for_each_index(ctx.backend, n * (t + 1) * cd, [=] HUSH_HD(std::int64_t i) {
        const std::int64_t ch = i % cd, s = (i / cd) % (t + 1), b = i / (cd * (t + 1));
        if (s == 0) out[i] = in[b * (k + 1) * cd + ch];
        else {
          const std::int32_t r = rank[b * t + s - 1];
          out[i] = r < k ? in[(b * (k + 1) + 1 + r) * cd + ch] : mtok[ch];
        }
      });
    }
    const auto& pred = within("", [&]() -> const tensor_of<Ctx>& { return decoder.forward(ctx, ctx[full_]); });
    {  // without the class token
      const std::int64_t p = ctx[y_].shape()[2];
      const float* in = pred.data();
      float* out = ctx[y_].data();
      for_each_index(ctx.backend, n * t * p, [=] HUSH_HD(std::int64_t i) {
        const std::int64_t b = i / (t * p);
        out[i] = in[i + (b + 1) * p];
      });
    }
    return ctx[y_];
  }

  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    const std::int64_t n = x.shape()[0], t = opt.tokens(), k = opt.visible(), c = opt.dim, cd = opt.decoder_dim;
    const std::int64_t p = dy.shape()[2];
    {  // the class token's prediction was dropped: zero gradient
      const float* g = dy.data();
      float* out = ctx[dpred_].data();
      for_each_index(ctx.backend, n * (t + 1) * p, [=] HUSH_HD(std::int64_t i) {
        const std::int64_t s = (i / p) % (t + 1), b = i / (p * (t + 1));
        out[i] = s == 0 ? 0.0f : g[i - (b + 1) * p];
      });
    }
    const auto& dfull =
        within("", [&]() -> const tensor_of<Ctx>& { return decoder.backward(ctx, ctx[full_], ctx[dpred_]); });
    {  // back to the short sequence; the mask token collects the gradient of every place it filled
      const float* g = dfull.data();
      const std::int32_t *keep = ctx[keep_].data(), *rank = ctx[rank_].data();
      float *out = ctx[dshort_].data(), *dmask = ctx[mask_token.grad].data();
      for_each_index(ctx.backend, n * (k + 1) * cd, [=] HUSH_HD(std::int64_t i) {
        const std::int64_t ch = i % cd, s = (i / cd) % (k + 1), b = i / (cd * (k + 1));
        out[i] = g[(b * (t + 1) + (s == 0 ? 0 : 1 + keep[b * k + s - 1])) * cd + ch];
      });
      for_each_index(ctx.backend, cd, [=] HUSH_HD(std::int64_t ch) {
        double sum = 0;
        for (std::int64_t b = 0; b < n; ++b)
          for (std::int64_t s = 0; s < t; ++s)
            if (rank[b * t + s] >= k) sum += g[(b * (t + 1) + 1 + s) * cd + ch];
        dmask[ch] += static_cast<float>(sum);
      });
    }
    const auto& dencoded = within("decoder_embed", [&]() -> const tensor_of<Ctx>& {
      return decoder_embed.backward(ctx, ctx[encoded_], ctx[dshort_]);
    });
    const auto& dvisible = within("", [&]() -> const tensor_of<Ctx>& { return encoder.backward(ctx, ctx[visible_], dencoded); });
    {  // dropped tokens get no gradient
      const float* g = dvisible.data();
      const std::int32_t* rank = ctx[rank_].data();
      float* out = ctx[dtokens_].data();
      for_each_index(ctx.backend, n * t * c, [=] HUSH_HD(std::int64_t i) {
        const std::int64_t ch = i % c, s = (i / c) % t, b = i / (c * t);
        const std::int32_t r = rank[b * t + s];
        out[i] = r < k ? g[(b * k + r) * c + ch] : 0.0f;
      });
    }
    return within("", [&]() -> const tensor_of<Ctx>& { return embed.backward(ctx, x, ctx[dtokens_]); });
  }

  template <class V>
  void visit(V&& v) {
    visit_children(*this, v);
    v.parameter("mask_token", mask_token);
  }

  /// (N, T): 1 where the last forward dropped the patch, 0 where the encoder saw it.
  template <class Ctx>
  const tensor_of<Ctx>& mask(Ctx& ctx) const {
    return ctx[mask_];
  }
  /// The structure (what the weights' structure hash covers): not the mask ratio, which a trained
  /// MAE is run at as its user likes.
  std::string describe() const {
    return std::to_string(opt.image) + "px, patch " + std::to_string(opt.patch) + ", encoder " + std::to_string(opt.dim) +
           " x " + std::to_string(EncoderDepth) + ", decoder " + std::to_string(opt.decoder_dim) + " x " +
           std::to_string(DecoderDepth);
  }

  mae_options opt;
  embed_type embed;
  encoder_type encoder;
  linear decoder_embed;
  decoder_type decoder;
  parameter mask_token;

 private:
  template <class Ctx>
  void draw_mask(Ctx& ctx, std::int64_t n) {
    detail::draw_token_mask(ctx.backend, ctx.rng, counter_rng::mix(opt.mask_seed ^ counter_rng::mix(ctx.step)),
                            opt.first_image, n, opt.tokens(), opt.visible(), opt.mask_shift, ctx[rank_].data(),
                            ctx[keep_].data(), ctx[mask_].data());
  }

  struct setup_key {
    shape in{};
    std::int64_t visible = -1;
  };
  setup_key set_up_for_;
  kept_indices rank_, keep_;
  kept mask_, visible_, full_, y_, dpred_, dshort_, dtokens_;
  tensor_ptr encoded_;
};

/// The MAE as an image-to-image network (a denoising front end): x (N, C, H, W) -> the MAE's
/// reconstruction (N, C, H, W).
///   mask ratio 0: one pass with every patch visible (the prediction of patches the encoder
///     saw, which the masked loss never trained);
///   mask ratio r > 0: passes over windows of one random order (mask_shift), so every patch is
///     predicted from the others; each patch is the mean of its predictions while masked. With
///     k visible tokens of T: ⌈T/k⌉ passes of disjoint visible windows when k ≤ T/2 (each patch
///     masked in all but one), else ⌈T/(T-k)⌉ passes whose masked windows tile the order (each
///     patch masked at least once). Inference only: backward throws.
/// At ratio 0 it has a backward (fine-tuning it end to end in front of a classifier).
/// size_multiple is the configuration's image side: hush::denoise::apply runs it on photos of
/// any size in tiles of exactly that side (apply_options::tile = the image side).
template <class Mae>
struct mae_reconstruction {
  static constexpr const char* kind = "mae_reconstruction";
  static constexpr std::int64_t size_multiple = Mae::defaults.image;
  constexpr mae_reconstruction() = default;
  constexpr explicit mae_reconstruction(Mae m) : mae(std::move(m)) {}

  constexpr std::int64_t parameter_count() const { return mae.parameter_count(); }
  shape output_shape(shape in) const {
    mae.output_shape(in);
    return in;
  }
  template <class F>
  constexpr void for_each_child(F&& f, shape in = {}) {
    f(std::string(), mae, in);
  }
  template <class Ctx>
  void setup(Ctx& ctx, shape in) {
    within("", [&] { mae.setup(ctx, in); });
    const auto p = mae.output_shape(in);
    ctx.keep(sum_, p, buffer_role::saved);
    ctx.keep(count_, {p[0], p[1]}, buffer_role::saved);
    images_ = unpatchify({.patch = mae.opt.patch, .channels = in.c(), .rows = in.h() / mae.opt.patch});
    images_.setup(ctx, p);
  }
  template <class Ctx>
  const tensor_of<Ctx>& forward(Ctx& ctx, const tensor_of<Ctx>& x) {
    if (one_pass()) {
      pred_ = &within("", [&]() -> const tensor_of<Ctx>& { return mae.forward(ctx, x); });
      return images_.forward(ctx, ctx[pred_]);
    }
    // Every patch must be masked in some pass, or its mean is 0/0. Up to half visible, windows
    // of k visible tokens at shifts 0, k, 2k ... are disjoint: each patch is masked in all passes
    // but one. Above half such windows overlap in patches visible in every pass, so the masked
    // windows of T - k tokens tile the order instead (shifts 0, T - k, 2(T - k) ...).
    const auto t = mae.opt.tokens(), k = mae.opt.visible();
    const auto stride = 2 * k <= t ? k : t - k, passes = (t + stride - 1) / stride;
    const auto p = ctx[sum_].shape()[2];
    float *sum = ctx[sum_].data(), *count = ctx[count_].data();
    fill(ctx.backend, ctx[sum_].numel(), 0.0f, sum);
    fill(ctx.backend, ctx[count_].numel(), 0.0f, count);
    const auto saved_shift = mae.opt.mask_shift;
    for (std::int64_t pass = 0; pass < passes; ++pass) {
      mae.opt.mask_shift = pass * stride;
      const float* pred = within("", [&]() -> const tensor_of<Ctx>& { return mae.forward(ctx, x); }).data();
      const float* mask = mae.mask(ctx).data();
      for_each_index(ctx.backend, ctx[count_].numel(), [=] HUSH_HD(std::int64_t r) {
        if (mask[r] == 0.0f) return;
        for (std::int64_t j = 0; j < p; ++j) sum[r * p + j] += pred[r * p + j];
        count[r] += 1.0f;
      });
    }
    mae.opt.mask_shift = saved_shift;
    for_each_index(ctx.backend, ctx[sum_].numel(), [=] HUSH_HD(std::int64_t i) { sum[i] /= count[i / p]; });
    return images_.forward(ctx, ctx[sum_]);
  }
  /// With every patch visible (mask ratio 0) it is one differentiable pass, so it can be
  /// fine-tuned behind or in front of other networks; the averaged masked passes are not.
  template <class Ctx>
  const tensor_of<Ctx>& backward(Ctx& ctx, const tensor_of<Ctx>& x, const tensor_of<Ctx>& dy) {
    if (!one_pass())
      throw error("mae_reconstruction: backward only with every patch visible (mask ratio 0); at ratio " +
                  std::to_string(mae.opt.mask_ratio) + " it averages several masked passes");
    const auto& patches = ctx[pred_];
    return within("", [&]() -> const tensor_of<Ctx>& { return mae.backward(ctx, x, images_.backward(ctx, patches, dy)); });
  }
  template <class V>
  void visit(V&& v) {
    mae.visit(v);
  }

  Mae mae;

 private:
  unpatchify images_{{.patch = 1, .channels = 1}};
  /// Nothing masked (ratio 0, or too small to hide one token): one differentiable pass.
  bool one_pass() const { return mae.opt.mask_ratio == 0.0f || mae.opt.visible() >= mae.opt.tokens(); }

  kept sum_, count_;
  tensor_ptr pred_;  // the MAE's patches in the last one-pass forward
};

/// The small configuration this machine trains: 32×32 images in 4×4 patches (64 tokens),
/// encoder 192 wide × 6 blocks × 3 heads, decoder 96 wide × 2 blocks × 3 heads.
struct mae_small : masked_autoencoder<6, 2> {
  static constexpr const char* kind = "mae_small";
  constexpr mae_small() : mae_small(defaults) {}
  constexpr explicit mae_small(mae_options o) : masked_autoencoder(o) {}
};

/// The paper's ViT-B/16 MAE: 224×224 images in 16×16 patches, encoder 768 × 12 blocks × 12
/// heads, decoder 512 × 8 blocks × 16 heads.
struct mae_vit_b16 : masked_autoencoder<12, 8> {
  static constexpr const char* kind = "mae_vit_b16";
  static constexpr mae_options paper{.image = 224, .patch = 16, .channels = 3, .dim = 768, .heads = 12, .mlp = 3072,
                                     .decoder_dim = 512, .decoder_heads = 16, .decoder_mlp = 2048};
  static constexpr mae_options defaults = paper;
  constexpr mae_vit_b16() : mae_vit_b16(paper) {}
  constexpr explicit mae_vit_b16(mae_options o) : masked_autoencoder(o) {}
};

}  // namespace hush::models
