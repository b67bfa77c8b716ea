#pragma once
// Per-pixel mean subtraction (seed 004, after He et al.'s CIFAR recipe): the mean image of the
// training set, taken once, subtracted from every image the network sees, in training and in
// testing. In double, so 60,000 images sum without float's rounding drift.
#include <cstdint>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/core/tensor.hpp"

namespace hush::data {

/// The mean over the leading dimension of images (N, C, H, W): a (C, H, W) tensor.
inline tensor pixel_mean(const tensor& images) {
  const auto& s = images.shape();
  if (s.rank != 4 || s[0] < 1) throw shape_error("pixel_mean: expected images (N, C, H, W), got " + s.str());
  const auto per = s.per_sample();
  std::vector<double> sum(static_cast<std::size_t>(per), 0.0);
  for (std::int64_t i = 0; i < s[0]; ++i)
    for (std::int64_t j = 0; j < per; ++j) sum[static_cast<std::size_t>(j)] += images[i * per + j];
  tensor mean({s[1], s[2], s[3]});
  for (std::int64_t j = 0; j < per; ++j) mean[j] = static_cast<float>(sum[static_cast<std::size_t>(j)] / double(s[0]));
  return mean;
}

/// batch (n, C, H, W) minus `mean` (C, H, W) from every image, in place.
inline void subtract_pixel_mean(tensor& batch, const tensor& mean) {
  const auto per = mean.numel();
  if (batch.shape().rank != 4 || batch.shape().per_sample() != per)
    throw shape_error("subtract_pixel_mean: images " + batch.shape().str() + " and a mean of " + mean.shape().str());
  for (std::int64_t i = 0; i < batch.shape()[0]; ++i)
    for (std::int64_t j = 0; j < per; ++j) batch[i * per + j] -= mean[j];
}

}  // namespace hush::data
