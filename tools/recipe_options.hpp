#pragma once
// The training recipe as command-line options (optim/recipe.hpp), for the tools that train a
// classifier: --recipe tuned|seed004 picks a base, and each option after it overrides one setting.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/optim/recipe.hpp"

namespace hush::tools {

struct recipe_args {
  std::string base = "tuned";
  std::optional<std::string> optimizer, schedule;
  std::optional<float> lr, momentum, weight_decay, gamma;
  std::optional<bool> nesterov;
  std::optional<std::int64_t> step_size;
  std::vector<std::int64_t> milestones;

  void add_to(CLI::App& app) {
    options_ = {
        app.add_option("--recipe", base,
                       "tuned (SGD, Nesterov momentum 0.9, weight decay 5e-4, one-cycle to --lr) or seed004 (SGD, "
                       "momentum 0.9, weight decay 1e-4, lr 0.1 divided by 10 at steps 4000 and 6000); the options "
                       "below override it")
            ->check(CLI::IsMember({"tuned", "seed004"}))
            ->capture_default_str(),
        app.add_option("--optimizer", optimizer, "sgd, adam or adamw")->check(CLI::IsMember({"sgd", "adam", "adamw"})),
        app.add_option("--schedule", schedule, "one-cycle, cosine, step, multi-step or constant")
            ->check(CLI::IsMember({"one-cycle", "cosine", "step", "multi-step", "constant"})),
        app.add_option("--lr", lr, "learning rate: the one-cycle peak, or the start of the other schedules (default 0.1)"),
        app.add_option("--momentum", momentum, "SGD momentum"),
        app.add_option("--nesterov", nesterov, "SGD with Nesterov momentum (true or false)"),
        app.add_option("--weight-decay", weight_decay, "weight decay (L2 for SGD and Adam, decoupled for AdamW)"),
        app.add_option("--step-size", step_size, "step schedule: multiply the rate by --gamma every this many steps"),
        app.add_option("--milestones", milestones, "multi-step schedule: the steps at which the rate is multiplied by --gamma")
            ->delimiter(','),
        app.add_option("--gamma", gamma, "step and multi-step schedules: the factor (default 0.1)"),
    };
  }

  /// Whether the command line names any recipe setting (after parsing): a tool may then give
  /// some of its trainings a default recipe of their own.
  bool given() const {
    return std::any_of(options_.begin(), options_.end(), [](const CLI::Option* o) { return o->count() > 0; });
  }

  /// The recipe; throws hush::error naming a setting that cannot work.
  hush::recipe make() const {
    hush::recipe r = base == "seed004" ? hush::recipe::seed004() : hush::recipe{};
    if (optimizer) r.optimizer = parse_optimizer(*optimizer);
    if (schedule) r.schedule = parse_schedule(*schedule);
    if (lr) r.lr = *lr;
    if (momentum) r.momentum = *momentum;
    if (nesterov) r.nesterov = *nesterov;
    if (weight_decay) r.weight_decay = *weight_decay;
    if (step_size) r.step_size = *step_size;
    if (!milestones.empty()) r.milestones = milestones;
    if (gamma) r.gamma = *gamma;
    r.validate();
    return r;
  }

 private:
  std::vector<CLI::Option*> options_;
};

}  // namespace hush::tools
