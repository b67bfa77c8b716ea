#pragma once
// A training checkpoint: the network's weights, its optimizer's state (under "optimizer.") and
// free-form metadata (epoch, ...), in one safetensors file written atomically. Loading is all or
// nothing, across the network and the optimizer together.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "hush/core/error.hpp"
#include "hush/io/weights.hpp"

namespace hush {

template <class L, class Optimizer>
void save_checkpoint(const std::filesystem::path& path, L& net, Optimizer& opt,
                     const std::map<std::string, std::string>& info = {}) {
  io::safetensors_writer w;
  add_weights(w, net);
  opt.visit_state(
      [&](const std::string& name, kept& t) {
        const tensor values = to_host(t);
        w.add("optimizer." + name, detail::dims_of(values.shape()), values.data());
      },
      [&](const std::string& name, std::int64_t& n) { w.add_scalar("optimizer." + name, n); });
  for (const auto& [k, v] : info) w.metadata(k, v);
  w.write(path);
}

/// Restores `net` (set up) and `opt` from a checkpoint; returns its metadata.
template <class L, class Optimizer>
std::map<std::string, std::string> load_checkpoint(const std::filesystem::path& path, L& net, Optimizer& opt) {
  const auto file = io::read_safetensors(path);
  load_plan plan(file);
  plan.same_structure(net);
  plan.network(net);
  opt.visit_state([&](const std::string& name, kept& t) { plan.tensor_target("optimizer." + name, t); },
                  [&](const std::string& name, std::int64_t& n) { plan.counter_target("optimizer." + name, n); });
  plan.commit(true);
  return file.metadata;
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

}  // namespace hush
