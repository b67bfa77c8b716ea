#pragma once
// Mini-batches: a seeded shuffle of the sample order, and gathering samples (images or labels)
// into a batch.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "hush/core/index_tensor.hpp"
#include "hush/core/random.hpp"
#include "hush/core/tensor.hpp"

namespace hush::data {

/// 0..n-1 shuffled by Fisher-Yates with draws from (seed, epoch): the same order for a seed and
/// epoch on every machine.
inline std::vector<std::int64_t> shuffled_order(std::int64_t n, std::uint64_t seed, std::uint64_t epoch) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const counter_rng rng{seed};
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(rng.bits(0x5348554646ULL + epoch, static_cast<std::uint64_t>(i)) %
                                             static_cast<std::uint64_t>(i + 1));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  return order;
}

/// Copies samples begin..end-1 of `source` (leading dimension = sample), in order, into `batch`,
/// resizing it to (end - begin, ...): the test set in batches, the first N samples of a set.
/// Values: a tensor or an index tensor (images, labels) on the host.
template <class Values>
void slice(const Values& source, std::int64_t begin, std::int64_t end, Values& batch) {
  shape s = source.shape();
  const auto per = s.per_sample();
  s[0] = end - begin;
  batch.resize(s);
  std::copy_n(source.data() + begin * per, (end - begin) * per, batch.data());
}

/// Copies samples order[begin, end) of `source` (leading dimension = sample) into `batch`,
/// resizing it to (end - begin, ...).
template <class Values>
void gather(const Values& source, const std::vector<std::int64_t>& order, std::int64_t begin, std::int64_t end,
            Values& batch) {
  shape s = source.shape();
  const auto per = s.per_sample();
  s[0] = end - begin;
  batch.resize(s);
  for (auto i = begin; i < end; ++i)
    std::copy_n(source.data() + order[static_cast<std::size_t>(i)] * per, per, batch.data() + (i - begin) * per);
}

}  // namespace hush::data
