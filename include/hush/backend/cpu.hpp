#pragma once
// hush::backend::cpu: host buffers, oneDNN convolutions, im2col + sgemm over OpenBLAS, OpenMP threads.
#include "hush/backend/cpu/attention.hpp"
#include "hush/backend/cpu/conv.hpp"
#include "hush/backend/cpu/dense.hpp"
#include "hush/backend/cpu/elementwise.hpp"
#include "hush/backend/cpu/loss.hpp"
#include "hush/backend/cpu/metrics.hpp"
#include "hush/backend/cpu/norm.hpp"
#include "hush/backend/cpu/optim.hpp"
#include "hush/backend/cpu/pool.hpp"
#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/cpu/threads.hpp"
#include "hush/backend/cpu/upsample.hpp"
