#pragma once
// GELU (the exact, erf form) through oneDNN's eltwise primitive, when hush is built with
// HUSH_WITH_DNNL. The generic unary_forward calls libm's scalar erff per element: in the MAE's
// MLPs that was a fifth of a frozen-MAE front end's time (perf, docs/performance.md). oneDNN's
// JIT kernel evaluates erf as a polynomial in the CPU's widest vectors, forward and backward.
// These overloads are exact matches, so overload resolution prefers them to the templates in
// elementwise.hpp for ops::gelu on the cpu backend; everything else keeps the templates.
#include <cstdint>
#include <map>

#include "hush/backend/cpu/dnnl.hpp"
#include "hush/backend/cpu/tag.hpp"
#include "hush/backend/unary_ops.hpp"

namespace hush::backend {

namespace dnnl_detail {
/// Forward and backward primitives for GELU over n floats, with memory objects whose data
/// handles are set on each call. Made once per length and thread.
struct gelu_primitives {
  primitive forward, backward;
  memory x, y, dy, dx;

  explicit gelu_primitives(std::int64_t n) {
    const dnnl_memory_desc_t md = desc({n}, dnnl_a);
    dnnl_eltwise_desc_t op;
    check(dnnl_eltwise_forward_desc_init(&op, dnnl_forward_training, dnnl_eltwise_gelu_erf, &md, 0.0f, 0.0f),
          "GELU forward");
    dnnl_primitive_desc_t pd = nullptr;
    check(dnnl_primitive_desc_create(&pd, &op, nullptr, engine(), nullptr), "GELU forward");
    const primitive_desc forward_pd(pd);
    check(dnnl_eltwise_backward_desc_init(&op, dnnl_eltwise_gelu_erf, &md, &md, 0.0f, 0.0f), "GELU backward");
    check(dnnl_primitive_desc_create(&pd, &op, nullptr, engine(), forward_pd.get()), "GELU backward");
    const primitive_desc backward_pd(pd);
    forward = make_primitive(forward_pd);
    backward = make_primitive(backward_pd);
    for (memory* m : {&x, &y, &dy, &dx}) *m = make_memory(md, DNNL_MEMORY_NONE);
  }
  static gelu_primitives& of_length(std::int64_t n) {
    thread_local std::map<std::int64_t, gelu_primitives> made;
    return made.try_emplace(n, n).first->second;
  }
};
inline dnnl_memory_t point(const memory& m, const float* data) {
  check(dnnl_memory_set_data_handle(m.get(), const_cast<float*>(data)), "data handle");
  return m.get();
}
}  // namespace dnnl_detail

inline void unary_forward(cpu, ops::gelu, std::int64_t n, const float* x, float* y) {
  if (n == 0) return;
  using namespace dnnl_detail;
  auto& p = gelu_primitives::of_length(n);
  run(p.forward, {{DNNL_ARG_SRC, point(p.x, x)}, {DNNL_ARG_DST, point(p.y, y)}});
}
inline void unary_backward(cpu, ops::gelu, std::int64_t n, const float* x, const float*, const float* dy,
                           float* dx) {
  if (n == 0) return;
  using namespace dnnl_detail;
  auto& p = gelu_primitives::of_length(n);
  run(p.backward,
      {{DNNL_ARG_SRC, point(p.x, x)}, {DNNL_ARG_DIFF_DST, point(p.dy, dy)}, {DNNL_ARG_DIFF_SRC, point(p.dx, dx)}});
}

}  // namespace hush::backend
