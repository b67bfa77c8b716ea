#pragma once
// Vision Transformers (Dosovitskiy et al. 2021), as types: pre-norm transformer blocks over
// patch tokens.
//   vit_block: the MAE code's block (timm's): x + attn(norm1(x)), then + mlp(norm2(x)), with its
//     names (norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2). models/mae.hpp stacks them.
//   encoder_block: the same arithmetic with torchvision's names (ln_1, self_attention.in_proj_weight,
//     self_attention.out_proj, ln_2, mlp.0, mlp.3) and its dropouts.
//   vision_transformer<Depth>: torchvision's VisionTransformer: conv_proj (patches), class_token,
//     encoder (pos_embedding, layers.encoder_layer_i, ln), heads.head on the class token; vit_b_16
//     its ViT-B/16 (224², patch 16, 768 wide, 12 blocks of 12 heads, MLP 3072: 86.6 M parameters).
// Every layer norm has eps 1e-6, as in both codes; GELU is the exact (erf) one.
#include <cstddef>
#include <cstdint>

#include "hush/graph/named.hpp"
#include "hush/graph/repeat.hpp"
#include "hush/graph/residual.hpp"
#include "hush/graph/seq.hpp"
#include "hush/layers/activation.hpp"
#include "hush/layers/attention.hpp"
#include "hush/layers/class_token.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/dropout.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/norm.hpp"
#include "hush/layers/position_embedding.hpp"
#include "hush/layers/tokens.hpp"

namespace hush::models {

/// A transformer block's sizes (no defaults): width, attention heads and the MLP's hidden width.
struct block_options {
  std::int64_t dim, heads, mlp;  ///< width, attention heads, the MLP's hidden width
};

namespace detail {
constexpr layer_norm vit_norm(std::int64_t dim) { return layer_norm({.features = dim, .eps = 1e-6f}); }
}  // namespace detail

/// fc1, GELU, fc2 (timm's Mlp).
struct mlp_block : seq<named<"fc1", linear>, gelu, named<"fc2", linear>> {
  static constexpr const char* kind = "mlp";
  constexpr mlp_block(std::int64_t dim, std::int64_t hidden)
      : seq(linear({.in = dim, .out = hidden}), gelu{}, linear({.in = hidden, .out = dim})) {}
};

/// vit_block's attention path, norm1 then attn (a residual adds its input).
using vit_attention_path = seq<named<"norm1", layer_norm>, named<"attn", self_attention>>;
/// vit_block's MLP path, norm2 then mlp (a residual adds its input).
using vit_mlp_path = seq<named<"norm2", layer_norm>, named<"mlp", mlp_block>>;
/// The MAE code's (timm's) pre-norm transformer block, under its names: x + attn(norm1(x)),
/// then that plus mlp(norm2(that)). Tokens (N,T,dim) -> (N,T,dim).
struct vit_block : seq<named<"", residual<vit_attention_path>>, named<"", residual<vit_mlp_path>>> {
  static constexpr const char* kind = "vit_block";
  constexpr explicit vit_block(block_options o)
      : seq(residual<vit_attention_path>(vit_attention_path(detail::vit_norm(o.dim), self_attention({.dim = o.dim, .heads = o.heads}))),
            residual<vit_mlp_path>(vit_mlp_path(detail::vit_norm(o.dim), mlp_block(o.dim, o.mlp)))) {}
};

/// nn.MultiheadAttention's self-attention: in_proj_weight / in_proj_bias, then out_proj.
struct multihead_attention : seq<underscored<"in_proj", linear>, scaled_dot_product_attention, named<"out_proj", linear>> {
  static constexpr const char* kind = "multihead_attention";
  constexpr multihead_attention(std::int64_t dim, std::int64_t heads)
      : seq(linear({.in = dim, .out = 3 * dim}), scaled_dot_product_attention({.heads = heads}),
            linear({.in = dim, .out = dim})) {}
};

/// torchvision's MLPBlock: Linear, GELU, Dropout, Linear, Dropout (so its linears are mlp.0, mlp.3).
using torchvision_mlp = seq<linear, gelu, dropout, linear, dropout>;
/// encoder_block's attention path, ln_1, self_attention and a dropout (a residual adds its input).
using encoder_attention_path = seq<named<"ln_1", layer_norm>, named<"self_attention", multihead_attention>, dropout>;
/// encoder_block's MLP path, ln_2 then mlp, torchvision's MLPBlock (a residual adds its input).
using encoder_mlp_path = seq<named<"ln_2", layer_norm>, named<"mlp", torchvision_mlp>>;
/// torchvision's EncoderBlock: vit_block's arithmetic under torchvision's names (ln_1, self_attention,
/// ln_2, mlp), with its dropouts of probability `dropout_p` (0 by default).
struct encoder_block : seq<named<"", residual<encoder_attention_path>>, named<"", residual<encoder_mlp_path>>> {
  static constexpr const char* kind = "encoder_block";
  constexpr explicit encoder_block(block_options o, float dropout_p = 0.0f)
      : seq(residual<encoder_attention_path>(
                encoder_attention_path(detail::vit_norm(o.dim), multihead_attention(o.dim, o.heads), dropout(dropout_p))),
            residual<encoder_mlp_path>(encoder_mlp_path(
                detail::vit_norm(o.dim), torchvision_mlp(linear({.in = o.dim, .out = o.mlp}), gelu{}, dropout(dropout_p),
                                                         linear({.in = o.mlp, .out = o.dim}), dropout(dropout_p))))) {}
};

/// A vision_transformer's image side, patch side, channels, width, heads, MLP width, classes and
/// dropout; the defaults are ViT-B/16's. tokens() counts the patches and the class token.
struct vit_options {
  std::int64_t image = 224, patch = 16, channels = 3;
  std::int64_t dim = 768, heads = 12, mlp = 3072;
  std::int64_t classes = 1000;
  float dropout = 0.0f;
  constexpr std::int64_t tokens() const { return (image / patch) * (image / patch) + 1; }
};

/// The `Depth` encoder blocks of torchvision's ViT encoder, named encoder_layer_0, encoder_layer_1,
/// and so on.
template <std::size_t Depth>
using vit_layers = repeat<Depth, encoder_block, encoder_block, "encoder_layer_">;
/// torchvision's ViT Encoder: position embedding (pos_embedding), dropout, the `Depth` blocks
/// (layers) and a final layer norm (ln).
template <std::size_t Depth>
using vit_encoder = seq<named<"", position_embedding<"pos_embedding">>, dropout, named<"layers", vit_layers<Depth>>,
                        named<"ln", layer_norm>>;

/// torchvision's VisionTransformer with `Depth` encoder blocks: patches (conv_proj), class token,
/// encoder (position embedding, blocks, layer norm), and heads.head on the class token.
/// x (N,C,image,image) -> logits (N,classes).
template <std::size_t Depth>
struct vision_transformer
    : seq<named<"conv_proj", conv2d>, to_tokens, named<"", class_token<"class_token">>, named<"encoder", vit_encoder<Depth>>,
          take_class_token, named<"heads", seq<named<"head", linear>>>> {
  using base = seq<named<"conv_proj", conv2d>, to_tokens, named<"", class_token<"class_token">>,
                   named<"encoder", vit_encoder<Depth>>, take_class_token, named<"heads", seq<named<"head", linear>>>>;
  static constexpr const char* kind = "vision_transformer";
  constexpr explicit vision_transformer(vit_options o)
      : base(conv2d({.in = o.channels, .out = o.dim, .kernel = o.patch, .stride = o.patch}), to_tokens{},
             class_token<"class_token">(o.dim),
             vit_encoder<Depth>(position_embedding<"pos_embedding">({.tokens = o.tokens(), .dim = o.dim}), dropout(o.dropout),
                                vit_layers<Depth>(encoder_block({.dim = o.dim, .heads = o.heads, .mlp = o.mlp}, o.dropout)),
                                detail::vit_norm(o.dim)),
             take_class_token{}, seq<named<"head", linear>>(linear({.in = o.dim, .out = o.classes}))) {}
};

/// ViT-B/16 (torchvision's vit_b_16): input (N, 3, 224, 224) normalised as for ImageNet.
struct vit_b_16 : vision_transformer<12> {
  static constexpr const char* kind = "vit_b_16";
  constexpr vit_b_16() : vit_b_16(vit_options{}) {}
  constexpr explicit vit_b_16(vit_options o) : vision_transformer(o) {}
};

}  // namespace hush::models
