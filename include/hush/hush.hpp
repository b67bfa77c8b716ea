#pragma once
// The umbrella header: everything but the optional parts (hush/io/opencv.hpp and the Thrust and
// CUDA backends), which have targets of their own.
#include "hush/version.hpp"

#include "hush/core/concepts.hpp"
#include "hush/core/context.hpp"
#include "hush/core/error.hpp"
#include "hush/core/random.hpp"
#include "hush/core/shape.hpp"
#include "hush/core/tensor.hpp"

#include "hush/backend/cpu.hpp"
#include "hush/backend/reference.hpp"

#include "hush/graph/model.hpp"
#include "hush/graph/named.hpp"
#include "hush/graph/parallel.hpp"
#include "hush/graph/print.hpp"
#include "hush/graph/repeat.hpp"
#include "hush/graph/residual.hpp"
#include "hush/graph/seq.hpp"
#include "hush/graph/visit.hpp"

#include "hush/layers/activation.hpp"
#include "hush/layers/conv.hpp"
#include "hush/layers/conv_transpose.hpp"
#include "hush/layers/dropout.hpp"
#include "hush/layers/flatten.hpp"
#include "hush/layers/identity.hpp"
#include "hush/layers/linear.hpp"
#include "hush/layers/norm.hpp"
#include "hush/layers/pool.hpp"
#include "hush/layers/softmax.hpp"
#include "hush/layers/upsample.hpp"

#include "hush/losses/cross_entropy.hpp"
#include "hush/losses/pivot.hpp"
#include "hush/losses/pointwise.hpp"
#include "hush/losses/weighted_sum.hpp"
#include "hush/metrics/accuracy.hpp"
#include "hush/optim/adam.hpp"
#include "hush/optim/schedule.hpp"
#include "hush/optim/sgd.hpp"

#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/paths.hpp"
#include "hush/io/safetensors.hpp"
#include "hush/io/weights.hpp"

#include "hush/data/batches.hpp"
#include "hush/data/idx.hpp"
#include "hush/train/progress.hpp"
