#pragma once
// A training recipe the user chooses at run time: the optimizer (SGD with or without Nesterov,
// Adam, AdamW), its weight decay, and the learning-rate schedule (one-cycle, cosine, step,
// multi-step at given steps as seed 004's "0.1, divided by 10 at 4k and 6k", constant), each
// with torch.optim's meaning (tests/optim.cpp). Steps count optimizer steps, as PyTorch's
// schedulers stepped once per iteration. chosen_optimizer builds the optimizer a recipe names.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/optim/adam.hpp"
#include "hush/optim/schedule.hpp"
#include "hush/optim/sgd.hpp"

namespace hush {

/// The optimizer a recipe names: SGD (with or without Nesterov momentum), Adam or AdamW.
enum class optimizer_choice { sgd, adam, adamw };
/// The learning-rate schedule a recipe names, each with torch.optim's meaning: one-cycle, cosine,
/// step, multi-step (at given steps) or constant.
enum class schedule_choice { one_cycle, cosine, step, multi_step, constant };

/// An optimizer, weight decay and learning-rate schedule chosen at run time (chosen_optimizer
/// builds the optimizer). The defaults: SGD with Nesterov momentum 0.9, weight decay 5e-4 and a
/// one-cycle schedule peaking at 0.1.
struct recipe {
  optimizer_choice optimizer = optimizer_choice::sgd;
  float lr = 0.1f;  // the peak (one-cycle), the start (cosine, step, multi-step) or the rate (constant)
  float momentum = 0.9f;  // SGD
  bool nesterov = true;   // SGD
  float beta1 = 0.9f, beta2 = 0.999f;  // Adam, AdamW
  float weight_decay = 5e-4f;
  schedule_choice schedule = schedule_choice::one_cycle;
  std::int64_t step_size = 0;               // step: every this many steps
  std::vector<std::int64_t> milestones{};   // multi-step: at these steps (ascending)
  float gamma = 0.1f;                       // step, multi-step: the factor
  float min_lr = 0.0f;                      // cosine: the floor

  /// Seed 004's own: SGD (momentum 0.9, no Nesterov), weight decay 1e-4, lr 0.1 divided by 10 at
  /// 4k and 6k steps (its 8k-step run).
  static recipe seed004() {
    return {.optimizer = optimizer_choice::sgd, .lr = 0.1f, .momentum = 0.9f, .nesterov = false, .weight_decay = 1e-4f,
            .schedule = schedule_choice::multi_step, .milestones = {4000, 6000}, .gamma = 0.1f};
  }

  /// Throws hush::error naming the first setting that cannot work.
  void validate() const {
    const auto bad = [](const std::string& what) { throw error("recipe: " + what); };
    if (!(std::isfinite(lr) && lr > 0)) bad("the learning rate must be a positive number, not " + std::to_string(lr));
    if (!(std::isfinite(weight_decay) && weight_decay >= 0)) bad("weight decay must be >= 0, not " + std::to_string(weight_decay));
    if (optimizer == optimizer_choice::sgd && !(std::isfinite(momentum) && momentum >= 0 && momentum < 1))
      bad("momentum must be in [0, 1), not " + std::to_string(momentum));
    if (optimizer == optimizer_choice::sgd && nesterov && momentum <= 0) bad("Nesterov momentum needs momentum > 0");
    if (optimizer != optimizer_choice::sgd && !(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1))
      bad("Adam's betas must be in [0, 1)");
    if (schedule == schedule_choice::step && step_size < 1) bad("a step schedule needs a step size of at least 1");
    if (schedule == schedule_choice::multi_step) {
      if (milestones.empty()) bad("a multi-step schedule needs its milestones");
      for (std::size_t i = 0; i < milestones.size(); ++i)
        if (milestones[i] < 1 || (i && milestones[i] <= milestones[i - 1]))
          bad("multi-step milestones must be positive and ascending");
    }
    if (!(std::isfinite(gamma) && gamma > 0)) bad("gamma must be a positive number");
  }

  /// The rate at optimizer step t of a run of `total` steps.
  float lr_at(std::int64_t t, std::int64_t total) const {
    switch (schedule) {
      case schedule_choice::one_cycle: return one_cycle_schedule{lr, total}(t);
      case schedule_choice::cosine: return cosine_schedule{lr, total, min_lr}(t);
      case schedule_choice::step: return step_schedule{lr, step_size, gamma}(t);
      case schedule_choice::multi_step: return multi_step_schedule{lr, milestones, gamma}(t);
      case schedule_choice::constant: return lr;
    }
    return lr;
  }

  /// The settings in words, for logs and for a checkpoint's "same run" check.
  std::string describe() const {
    char text[256];
    if (optimizer == optimizer_choice::sgd)
      std::snprintf(text, sizeof text, "SGD momentum %g%s, weight decay %g", double(momentum), nesterov ? " (Nesterov)" : "",
                    double(weight_decay));
    else
      std::snprintf(text, sizeof text, "%s betas (%g, %g), weight decay %g",
                    optimizer == optimizer_choice::adam ? "Adam" : "AdamW", double(beta1), double(beta2), double(weight_decay));
    std::string s = text;
    switch (schedule) {
      case schedule_choice::one_cycle: std::snprintf(text, sizeof text, "; one-cycle lr %g", double(lr)); break;
      case schedule_choice::cosine: std::snprintf(text, sizeof text, "; cosine lr %g to %g", double(lr), double(min_lr)); break;
      case schedule_choice::step:
        std::snprintf(text, sizeof text, "; lr %g times %g every %lld steps", double(lr), double(gamma), static_cast<long long>(step_size));
        break;
      case schedule_choice::multi_step: {
        std::string at;
        for (const auto m : milestones) at += (at.empty() ? "" : ", ") + std::to_string(m);
        std::snprintf(text, sizeof text, "; lr %g times %g at steps %s", double(lr), double(gamma), at.c_str());
        break;
      }
      case schedule_choice::constant: std::snprintf(text, sizeof text, "; constant lr %g", double(lr)); break;
    }
    return s + text;
  }
};

/// "sgd", "adam", "adamw"; throws hush::error naming the choices otherwise.
inline optimizer_choice parse_optimizer(const std::string& name) {
  if (name == "sgd") return optimizer_choice::sgd;
  if (name == "adam") return optimizer_choice::adam;
  if (name == "adamw") return optimizer_choice::adamw;
  throw error("optimizer '" + name + "': choose sgd, adam or adamw");
}
/// "one-cycle", "cosine", "step", "multi-step", "constant".
inline schedule_choice parse_schedule(const std::string& name) {
  if (name == "one-cycle") return schedule_choice::one_cycle;
  if (name == "cosine") return schedule_choice::cosine;
  if (name == "step") return schedule_choice::step;
  if (name == "multi-step") return schedule_choice::multi_step;
  if (name == "constant") return schedule_choice::constant;
  throw error("schedule '" + name + "': choose one-cycle, cosine, step, multi-step or constant");
}

/// The optimizer a recipe names, over a network's parameters.
class chosen_optimizer {
 public:
  template <class Net>
  chosen_optimizer(Net& net, const recipe& r) : chosen_(make(net, r)) {}

  template <class Backend>
  void step(Backend backend) {
    std::visit([&](auto& o) { o.step(backend); }, chosen_);
  }
  void set_lr(float lr) {
    std::visit([&](auto& o) { o.opt.lr = lr; }, chosen_);
  }
  std::int64_t steps() const {
    return std::visit([](const auto& o) { return o.steps(); }, chosen_);
  }
  /// f(the optimizer as its own type): for checkpoints.
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), chosen_);
  }

 private:
  using any = std::variant<sgd, adam, adamw>;
  template <class Net>
  static any make(Net& net, const recipe& r) {
    r.validate();
    switch (r.optimizer) {
      case optimizer_choice::adam:
        return any(std::in_place_type<adam>, net,
                   adam::options{.lr = r.lr, .beta1 = r.beta1, .beta2 = r.beta2, .weight_decay = r.weight_decay});
      case optimizer_choice::adamw:
        return any(std::in_place_type<adamw>, net,
                   adam::options{.lr = r.lr, .beta1 = r.beta1, .beta2 = r.beta2, .weight_decay = r.weight_decay});
      case optimizer_choice::sgd: break;
    }
    return any(std::in_place_type<sgd>, net,
               sgd::options{.lr = r.lr, .momentum = r.momentum, .weight_decay = r.weight_decay, .nesterov = r.nesterov});
  }
  any chosen_;
};

}  // namespace hush
