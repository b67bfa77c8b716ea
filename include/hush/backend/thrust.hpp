#pragma once
// hush::backend::thrust: single-source Thrust kernels (target hush::thrust, or hush::cuda with nvcc).
#include "hush/backend/thrust/attention.hpp"
#include "hush/backend/thrust/conv.hpp"
#include "hush/backend/thrust/dense.hpp"
#include "hush/backend/thrust/elementwise.hpp"
#include "hush/backend/thrust/loss.hpp"
#include "hush/backend/thrust/metrics.hpp"
#include "hush/backend/thrust/norm.hpp"
#include "hush/backend/thrust/optim.hpp"
#include "hush/backend/thrust/pool.hpp"
#include "hush/backend/thrust/tag.hpp"
#include "hush/backend/thrust/upsample.hpp"
