#pragma once
// A training checkpoint: the network's weights, its optimizer's state (under "optimizer.") and
// free-form metadata (epoch, ...), in one safetensors file written atomically. Loading is all or
// nothing, across the network and the optimizer together.
//
// A run that trains several networks (a GAN's generator and discriminator) keeps them in one
// file, each with its optimizer under its own prefix, so that they can never be restored from
// different epochs:
//   save_checkpoint(path, info, trained{"generator.", g.net, opt_g}, trained{"discriminator.", d.net, opt_d});
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "hush/core/error.hpp"
#include "hush/io/weights.hpp"

namespace hush {

/// One network and its optimizer in a checkpoint, under `prefix` ("" for a run of one network).
template <class L, class Optimizer>
struct trained {
  std::string prefix;
  L& net;
  Optimizer& opt;
};
/// Deduces a trained's types from its network and optimizer: `trained{"generator.", g.net, opt_g}`.
template <class L, class Optimizer>
trained(std::string, L&, Optimizer&) -> trained<L, Optimizer>;

/// Writes every part (its network's weights and its optimizer's state, under its prefix) and the
/// metadata `info` into one checkpoint at `path`, atomically.
template <class... L, class... Optimizer>
void save_checkpoint(const std::filesystem::path& path, const std::map<std::string, std::string>& info,
                     trained<L, Optimizer>... parts) {
  io::safetensors_writer w;
  const auto add = [&](auto& part) {
    add_weights(w, part.net, part.prefix);
    part.opt.visit_state(
        [&](const std::string& name, kept& t) {
          const tensor values = to_host(t);
          w.add(part.prefix + "optimizer." + name, detail::dims_of(values.shape()), values.data());
        },
        [&](const std::string& name, std::int64_t& n) { w.add_scalar(part.prefix + "optimizer." + name, n); });
  };
  (add(parts), ...);
  for (const auto& [k, v] : info) w.metadata(k, v);
  w.write(path);
}

/// The same for a run of one network: `net` and `opt` under no prefix.
template <class L, class Optimizer>
void save_checkpoint(const std::filesystem::path& path, L& net, Optimizer& opt,
                     const std::map<std::string, std::string>& info = {}) {
  save_checkpoint(path, info, trained<L, Optimizer>{"", net, opt});
}

namespace detail {
template <class... L, class... Optimizer>
void restore_parts(const io::safetensors_file& file, trained<L, Optimizer>&... parts) {
  load_plan plan(file);
  const auto add = [&](auto& part) {
    plan.same_structure(part.net, part.prefix);
    plan.network(part.net, part.prefix);
    part.opt.visit_state(
        [&](const std::string& name, kept& t) { plan.tensor_target(part.prefix + "optimizer." + name, t); },
        [&](const std::string& name, std::int64_t& n) { plan.counter_target(part.prefix + "optimizer." + name, n); });
  };
  (add(parts), ...);
  plan.commit(true);
}
}  // namespace detail

/// Restores every part (networks set up) from a checkpoint; returns its metadata.
template <class... L, class... Optimizer>
std::map<std::string, std::string> load_checkpoint(const std::filesystem::path& path, trained<L, Optimizer>... parts) {
  const auto file = io::read_safetensors(path);
  detail::restore_parts(file, parts...);
  return file.metadata;
}

/// The same for a run of one network (saved under no prefix).
template <class L, class Optimizer>
std::map<std::string, std::string> load_checkpoint(const std::filesystem::path& path, L& net, Optimizer& opt) {
  return load_checkpoint(path, trained<L, Optimizer>{"", net, opt});
}

/// Throws hush::error unless a checkpoint's metadata `info` was written by the run described by
/// `run` (a trainer's settings as text): a resumed run must continue the one that stopped.
inline void require_same_run(const std::map<std::string, std::string>& info, const std::string& run,
                             const std::filesystem::path& checkpoint) {
  const auto it = info.find("run");
  const std::string had = it == info.end() ? std::string() : it->second;
  if (had != run)
    throw error(checkpoint.string() + " was written by another run:\n  it has:  " + had + "\n  this is: " + run +
                "\nremove it, or run with the settings it was written with");
}

/// A trainer's resume: the checkpoint must have been written by the run described by `run`
/// (require_same_run, checked before anything is restored, so another run's checkpoint is
/// named as such rather than as missing tensors); then every part is restored.
template <class... L, class... Optimizer>
std::map<std::string, std::string> resume_checkpoint(const std::filesystem::path& path, const std::string& run,
                                                     trained<L, Optimizer>... parts) {
  const auto file = io::read_safetensors(path);
  require_same_run(file.metadata, run, path);
  detail::restore_parts(file, parts...);
  return file.metadata;
}

}  // namespace hush
