#pragma once
// What every oneDNN call of the cpu backend shares: owned handles, the engine, a stream per
// thread, plain memory descriptors, and errors that say which call failed.
//
// oneDNN's C API, not its C++ one: nvcc 13's front end crashes on dnnl.hpp in C++20 mode, and the
// CUDA translation units include these headers too (they must see the same inline functions).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include <dnnl.h>

#include "hush/core/error.hpp"

namespace hush::backend::dnnl_detail {

/// A failed oneDNN call. A convolution being set up takes it as "use im2col" (dnnl_conv.hpp);
/// anywhere else it reaches the user, with the layer's path added on the way up.
struct declined : backend_error {
  using backend_error::backend_error;
};
inline void check(dnnl_status_t status, const char* what) {
  if (status != dnnl_success)
    throw declined(std::string("oneDNN: ") + what + " failed (dnnl_status_t " + std::to_string(int(status)) + ")");
}

/// Owns one oneDNN object.
template <class T, dnnl_status_t (*destroy)(T)>
class handle {
 public:
  handle() = default;
  explicit handle(T h) : h_(h) {}
  handle(handle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  handle& operator=(handle&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~handle() {
    if (h_) destroy(h_);
  }
  T get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  T h_ = nullptr;
};
using primitive_desc = handle<dnnl_primitive_desc_t, dnnl_primitive_desc_destroy>;
using primitive = handle<dnnl_primitive_t, dnnl_primitive_destroy>;
using memory = handle<dnnl_memory_t, dnnl_memory_destroy>;

inline dnnl_engine_t engine() {
  static const handle<dnnl_engine_t, dnnl_engine_destroy> e = [] {
    dnnl_engine_t h = nullptr;
    check(dnnl_engine_create(&h, dnnl_cpu, 0), "engine");
    return handle<dnnl_engine_t, dnnl_engine_destroy>(h);
  }();
  return e.get();
}
inline dnnl_stream_t stream() {
  thread_local const handle<dnnl_stream_t, dnnl_stream_destroy> s = [] {
    dnnl_stream_t h = nullptr;
    check(dnnl_stream_create(&h, engine(), dnnl_stream_default_flags), "stream");
    return handle<dnnl_stream_t, dnnl_stream_destroy>(h);
  }();
  return s.get();
}

inline dnnl_memory_desc_t desc(std::initializer_list<std::int64_t> extents, dnnl_format_tag_t tag,
                               dnnl_data_type_t type = dnnl_f32) {
  dnnl_dims_t dims{};
  int n = 0;
  for (const auto e : extents) dims[n++] = e;
  dnnl_memory_desc_t md;
  check(dnnl_memory_desc_init_by_tag(&md, n, dims, type, tag), "memory descriptor");
  return md;
}
inline memory make_memory(const dnnl_memory_desc_t& md, void* data) {
  dnnl_memory_t h = nullptr;
  check(dnnl_memory_create(&h, &md, engine(), data), "memory");
  return memory(h);
}
inline primitive make_primitive(const primitive_desc& pd) {
  dnnl_primitive_t h = nullptr;
  check(dnnl_primitive_create(&h, pd.get()), "primitive");
  return primitive(h);
}
/// A reorder from one layout to another; with `accumulate`, it adds to the destination.
inline primitive make_reorder(const dnnl_memory_desc_t& from, const dnnl_memory_desc_t& to, bool accumulate) {
  handle<dnnl_primitive_attr_t, dnnl_primitive_attr_destroy> attr;
  if (accumulate) {
    dnnl_primitive_attr_t a = nullptr;
    dnnl_post_ops_t ops = nullptr;
    check(dnnl_primitive_attr_create(&a), "attributes");
    attr = decltype(attr)(a);
    check(dnnl_post_ops_create(&ops), "post-ops");
    const handle<dnnl_post_ops_t, dnnl_post_ops_destroy> owned(ops);
    check(dnnl_post_ops_append_sum(ops, 1.0f), "sum post-op");
    check(dnnl_primitive_attr_set_post_ops(a, ops), "post-ops");
  }
  dnnl_primitive_desc_t pd = nullptr;
  check(dnnl_reorder_primitive_desc_create(&pd, &from, engine(), &to, engine(), attr.get()), "reorder");
  return make_primitive(primitive_desc(pd));
}
inline void run(const primitive& p, std::initializer_list<dnnl_exec_arg_t> args) {
  check(dnnl_primitive_execute(p.get(), stream(), static_cast<int>(args.size()), args.begin()), "execute");
}

}  // namespace hush::backend::dnnl_detail
