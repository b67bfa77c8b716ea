#pragma once
// A trained denoiser (a GAN generator, a U-Net, the MAE) in front of a classifier, as one
// network (seed 000's ResNet + GAN and ResNet + MAE): its weights are named "front_end.*" and
// "classifier.*" in one file, the front end's under its own names after the prefix, so its own
// weight file loads into `net.get<0>()`.
//   behind_frozen<F, C>   F fixed (graph/frozen.hpp: eval mode, never optimized, no gradients
//                         kept); only C learns
//   behind<F, C>          both learn: fine-tuned end to end
// The two share one file layout: either loads what the other saved.
#include "hush/graph/frozen.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/seq.hpp"

namespace hush::models {

/// `Front` in front of `Classifier` as one network, `Front` frozen (eval mode, never optimized,
/// no gradients kept): only the classifier learns.
template <class Front, class Classifier>
using behind_frozen = seq<named<"front_end", frozen<Front>>, named<"classifier", Classifier>>;

/// `Front` in front of `Classifier` as one network, both learning (fine-tuned end to end), with
/// behind_frozen's weight names.
template <class Front, class Classifier>
using behind = seq<named<"front_end", Front>, named<"classifier", Classifier>>;

}  // namespace hush::models
