// Where oneDNN's Winograd inference convolutions beat its direct ones (docs/performance.md, issue
// 22, session 32): the evidence for backend/cpu/dnnl_conv.hpp's winograd_pays. One 3x3, stride-1,
// padding-1 convolution with bias, activations in the blocked layout hush hands between
// convolutions (nChw16c), oneDNN's forward_inference primitive made with the direct and with the
// Winograd algorithm, alternated, for ResNet-50's and the U-Nets' shapes at the batch sizes
// given. What hush gains end to end: hush-bench-peer with and without --direct. Not a CMake target
// (it would only add to CI's compile time):
//   g++ -std=c++20 -O2 -DNDEBUG -fopenmp -DHUSH_WITH_DNNL=1 -Iinclude bench/winograd_shapes.cpp \
//       -o /tmp/winograd_shapes -ldnnl && OMP_NUM_THREADS=2 /tmp/winograd_shapes 1 8
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "hush/backend/cpu/dnnl.hpp"

namespace {
using namespace hush::backend::dnnl_detail;

struct shape_case {
  std::int64_t c, k, side;
};
// ResNet-50's four 3x3 stride-1 convolutions, then U-Net levels (widths 16 and 48 and their
// doublings, and the channels a concatenation gives).
constexpr shape_case cases[] = {{64, 64, 56},  {128, 128, 28}, {256, 256, 14}, {512, 512, 7}, {16, 16, 256},
                                {16, 32, 128}, {32, 16, 256},  {32, 32, 128},  {48, 48, 256}, {96, 48, 256},
                                {96, 96, 128}, {144, 96, 128}};

struct timed {
  double ms = 0;
  std::string kernel;
};

/// The median of `reps` calls of the primitive oneDNN gives for `algorithm`, in milliseconds, and
/// its implementation's name; "-" where oneDNN has none.
timed time_conv(const shape_case& s, std::int64_t batch, dnnl_alg_kind_t algorithm, int reps) {
  const auto x = desc({batch, s.c, s.side, s.side}, dnnl_nChw16c), y = desc({batch, s.k, s.side, s.side}, dnnl_nChw16c);
  const auto w = desc({s.k, s.c, 3, 3}, dnnl_format_tag_any), b = desc({s.k}, dnnl_x);
  const dnnl_dims_t strides{1, 1}, padding{1, 1};
  dnnl_convolution_desc_t op;
  check(dnnl_convolution_forward_desc_init(&op, dnnl_forward_inference, algorithm, &x, &w, &b, &y, strides, padding,
                                           padding),
        "convolution");
  dnnl_primitive_desc_t raw = nullptr;
  if (dnnl_primitive_desc_create(&raw, &op, nullptr, engine(), nullptr) != dnnl_success) return {0, "-"};
  const primitive_desc pd(raw);
  const char* name = nullptr;
  check(dnnl_primitive_desc_query(pd.get(), dnnl_query_impl_info_str, 0, &name), "implementation name");
  const auto conv = make_primitive(pd);
  auto mx = make_memory(x, DNNL_MEMORY_ALLOCATE), my = make_memory(y, DNNL_MEMORY_ALLOCATE);
  auto mw = make_memory(*dnnl_primitive_desc_query_md(pd.get(), dnnl_query_weights_md, 0), DNNL_MEMORY_ALLOCATE);
  auto mb = make_memory(b, DNNL_MEMORY_ALLOCATE);
  for (auto* m : {&mx, &my, &mw, &mb}) {  // zeros: the kernels' time does not depend on the values
    void* data = nullptr;
    check(dnnl_memory_get_data_handle(m->get(), &data), "data handle");
    const dnnl_memory_desc_t* md = nullptr;
    check(dnnl_memory_get_memory_desc(m->get(), &md), "memory descriptor");
    std::fill_n(static_cast<char*>(data), dnnl_memory_desc_get_size(md), char(0));
  }
  const auto call = [&] {
    run(conv, {{DNNL_ARG_SRC, mx.get()}, {DNNL_ARG_WEIGHTS, mw.get()}, {DNNL_ARG_BIAS, mb.get()}, {DNNL_ARG_DST, my.get()}});
    check(dnnl_stream_wait(stream()), "wait");
  };
  call();
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    call();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::nth_element(ms.begin(), ms.begin() + reps / 2, ms.end());
  return {ms[std::size_t(reps / 2)], name};
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> batches;
  for (int i = 1; i < argc; ++i) batches.push_back(std::atoll(argv[i]));
  if (batches.empty()) batches = {1, 8};
  std::printf("%d threads; the middle of 3 rounds, each the median of 9 calls; direct and Winograd alternated\n\n",
              omp_get_max_threads());
  std::printf("| batch | channels in -> out | side | direct ms | Winograd ms | Winograd's speed-up | direct kernel | Winograd kernel |\n");
  std::printf("| ---: | --- | ---: | ---: | ---: | ---: | --- | --- |\n");
  for (const auto batch : batches)
    for (const auto& s : cases) {
      std::vector<double> direct, winograd;
      std::string kernel, direct_kernel;
      for (int round = 0; round < 3; ++round) {
        const auto d = time_conv(s, batch, dnnl_convolution_direct, 9);
        direct.push_back(d.ms), direct_kernel = d.kernel;
        const auto t = time_conv(s, batch, dnnl_convolution_winograd, 9);
        winograd.push_back(t.ms), kernel = t.kernel;
      }
      std::sort(direct.begin(), direct.end()), std::sort(winograd.begin(), winograd.end());
      std::printf("| %lld | %lld -> %lld | %lld | %.3f | %.3f | %.2fx | %s | %s |\n", (long long)batch, (long long)s.c,
                  (long long)s.k, (long long)s.side, direct[1], winograd[1], winograd[1] > 0 ? direct[1] / winograd[1] : 0.0,
                  direct_kernel.c_str(), kernel.c_str());
    }
}
