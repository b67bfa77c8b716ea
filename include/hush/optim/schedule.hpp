#pragma once
// Learning-rate schedules: pure functions of the step, so resuming at step t gives the same rate
// as never having stopped. Semantics follow torch.optim.lr_scheduler (stepped once per
// optimizer step here, with `total` the number of steps).
#include <cmath>
#include <cstdint>
#include <vector>

namespace hush {

/// lr · gamma^⌊t / step_size⌋ (StepLR).
struct step_schedule {
  float lr;
  std::int64_t step_size;
  float gamma = 0.1f;
  float operator()(std::int64_t t) const {
    return lr * std::pow(gamma, static_cast<float>(t / (step_size > 0 ? step_size : 1)));
  }
};

/// lr · gamma^(milestones passed by t) (MultiStepLR): seed 004's 0.1, divided by 10 at 4k and 6k.
struct multi_step_schedule {
  float lr;
  std::vector<std::int64_t> milestones;  // ascending steps
  float gamma = 0.1f;
  float operator()(std::int64_t t) const {
    float r = lr;
    for (const auto m : milestones) r *= t >= m ? gamma : 1.0f;
    return r;
  }
};

/// min_lr + (lr - min_lr)·(1 + cos(π·t/total))/2 (CosineAnnealingLR with T_max = total).
struct cosine_schedule {
  float lr;
  std::int64_t total;
  float min_lr = 0.0f;
  float operator()(std::int64_t t) const {
    const double x = total > 0 ? static_cast<double>(t < total ? t : total) / double(total) : 1.0;
    return static_cast<float>(min_lr + (lr - min_lr) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * x)));
  }
};

/// OneCycleLR with cosine annealing: from max_lr/div_factor up to max_lr over the first
/// pct_start of the steps, then down to max_lr/(div_factor·final_div_factor).
struct one_cycle_schedule {
  float max_lr;
  std::int64_t total;
  float pct_start = 0.3f, div_factor = 25.0f, final_div_factor = 1e4f;
  float operator()(std::int64_t t) const {
    const double initial = max_lr / div_factor, final_lr = initial / final_div_factor;
    const double up = static_cast<double>(pct_start) * double(total) - 1.0;
    const double down = double(total) - 1.0 - up;
    const auto anneal = [](double from, double to, double x) { return to + (from - to) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * x)); };
    const double td = static_cast<double>(t);
    if (td <= up) return static_cast<float>(anneal(initial, max_lr, up > 0 ? td / up : 1.0));
    return static_cast<float>(anneal(max_lr, final_lr, down > 0 ? std::min(1.0, (td - up) / down) : 1.0));
  }
};

}  // namespace hush
