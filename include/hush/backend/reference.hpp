#pragma once
// hush::backend::reference: plain loops, the oracle every other backend is tested against.
#include "hush/backend/reference/attention.hpp"
#include "hush/backend/reference/conv.hpp"
#include "hush/backend/reference/dense.hpp"
#include "hush/backend/reference/elementwise.hpp"
#include "hush/backend/reference/loss.hpp"
#include "hush/backend/reference/metrics.hpp"
#include "hush/backend/reference/norm.hpp"
#include "hush/backend/reference/optim.hpp"
#include "hush/backend/reference/pool.hpp"
#include "hush/backend/reference/softmax.hpp"
#include "hush/backend/reference/tag.hpp"
#include "hush/backend/reference/upsample.hpp"
