#pragma once
// ResNet-50's 23 distinct convolutions at 224×224 (torchvision's layout: stride on the 3×3, 1×1
// strided downsample shortcuts), for the benchmarks. bench/torch_peer.py holds the same table.
#include <cstdint>

namespace hush::bench {

struct conv_shape {
  const char* name;
  std::int64_t c, h, k, kernel, stride;  // input channels, input size, output channels, kernel, stride
};

inline constexpr conv_shape resnet50_convs[] = {
    {"conv1_7x7s2", 3, 224, 64, 7, 2},         {"l1_1x1_64_64", 64, 56, 64, 1, 1},
    {"l1_3x3_64", 64, 56, 64, 3, 1},           {"l1_1x1_64_256", 64, 56, 256, 1, 1},
    {"l1_1x1_256_64", 256, 56, 64, 1, 1},      {"l2_1x1_256_128", 256, 56, 128, 1, 1},
    {"l2_3x3s2_128", 128, 56, 128, 3, 2},      {"l2_1x1_128_512", 128, 28, 512, 1, 1},
    {"l2_ds_256_512", 256, 56, 512, 1, 2},     {"l2_1x1_512_128", 512, 28, 128, 1, 1},
    {"l2_3x3_128", 128, 28, 128, 3, 1},        {"l3_1x1_512_256", 512, 28, 256, 1, 1},
    {"l3_3x3s2_256", 256, 28, 256, 3, 2},      {"l3_1x1_256_1024", 256, 14, 1024, 1, 1},
    {"l3_ds_512_1024", 512, 28, 1024, 1, 2},   {"l3_1x1_1024_256", 1024, 14, 256, 1, 1},
    {"l3_3x3_256", 256, 14, 256, 3, 1},        {"l4_1x1_1024_512", 1024, 14, 512, 1, 1},
    {"l4_3x3s2_512", 512, 14, 512, 3, 2},      {"l4_1x1_512_2048", 512, 7, 2048, 1, 1},
    {"l4_ds_1024_2048", 1024, 14, 2048, 1, 2}, {"l4_1x1_2048_512", 2048, 7, 512, 1, 1},
    {"l4_3x3_512", 512, 7, 512, 3, 1},
};

}  // namespace hush::bench
