#pragma once
// What several test files share.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hush/core/context.hpp"
#include "hush/core/tensor.hpp"
#include "hush/graph/visit.hpp"

namespace hush::test {

/// A copy of the host tensor `t` where ctx's backend keeps its tensors (device memory for thrust).
template <class Ctx>
tensor_of<Ctx> on(const Ctx& ctx, const tensor& t) {
  return tensor_of<Ctx>(to(ctx.backend, t));
}

/// Largest difference of `got` from `reference`, relative where the reference exceeds 1: how two
/// backends' results (forward, input and parameter gradients, concatenated) are compared.
inline double difference(const std::vector<float>& reference, const std::vector<float>& got) {
  if (reference.size() != got.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < reference.size(); ++i)
    worst = std::max(worst, std::abs(double(reference[i]) - got[i]) / std::max(1.0, std::abs(double(reference[i]))));
  return worst;
}

/// A fresh folder under the system's temporary one, removed with everything in it at scope exit.
struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("hush-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

/// The weight formula of tests/reference/torchvision_resnets.py, value for value, so that a
/// reference script and a test fill the same network with the same numbers and no weight file
/// is committed. Weights of rank 2 and more are multiplied by `gain` in float, as
/// tests/reference/denoisers.py does with its sqrt(6).
inline void formula(std::string_view name, tensor& t, float gain = 1.0f) {
  const auto fnv1a32 = [](std::string_view s) {
    std::uint32_t h = 0x811C9DC5u;
    for (unsigned char c : s) h = (h ^ c) * 0x01000193u;
    return h;
  };
  const auto& s = t.shape();
  const auto n = t.numel();
  const std::uint64_t salt = fnv1a32(name);
  const bool ends_bias = name.ends_with(".bias");
  for (std::int64_t i = 0; i < n; ++i) {
    const double u = double((std::uint64_t(i) * 2654435761ULL + salt) % (1ULL << 32)) / 4294967296.0 - 0.5;
    double v;
    if (name.ends_with("running_mean") || (ends_bias && s.rank == 1)) v = 0.2 * u;
    else if (name.ends_with("running_var")) v = 1.0 + u;
    else if (s.rank == 1) v = 1.0 + 0.4 * u;
    else v = 2.0 * u / std::sqrt(double(n) / double(s[0]));
    t[i] = s.rank > 1 ? static_cast<float>(v) * gain : static_cast<float>(v);
  }
}
/// Every parameter and buffer of a set-up network, by formula(), wherever its backend keeps them.
template <class Net>
void fill_by_formula(Net& net, float gain = 1.0f) {
  const auto fill = [&](std::string_view n, kept& k) {
    tensor t(k.shape());
    formula(n, t, gain);
    assign(k, t);
  };
  for_each_parameter(net, [&](std::string_view n, parameter& p) { fill(n, p.value); });
  for_each_buffer(net, fill);
}

}  // namespace hush::test
