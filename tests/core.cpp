// Shapes, tensors and the counter-based generator.
#include <doctest/doctest.h>

#include <cmath>

#include "hush/backend/thrust/tag.hpp"
#include "hush/hush.hpp"
#include "hush/core/printf_string.hpp"
#include "hush/interop/xtensor.hpp"

TEST_CASE("shape: extents, element counts and printing as PyTorch prints torch.Size") {
  constexpr hush::shape s{8, 3, 224, 224};
  static_assert(s.numel() == 8 * 3 * 224 * 224 && s.per_sample() == 3 * 224 * 224);
  CHECK(s.str() == "(8, 3, 224, 224)");
  CHECK(hush::shape{}.numel() == 0);
  CHECK(hush::shape{4, 10} != hush::shape{4, 10, 1, 1});
  const std::initializer_list<std::int64_t> five = {1, 2, 3, 4, 5};  // not a literal: checked at run time
  CHECK_THROWS_WITH_AS(hush::shape{five}, "shape: 5 dimensions given, at most 4 held", hush::error);
}

TEST_CASE("tensor: zero-filled, aligned, reshape keeps data, a bad reshape names both shapes") {
  hush::tensor t({2, 3, 4, 5});
  CHECK(t.numel() == 120);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  CHECK(std::all_of(t.values().begin(), t.values().end(), [](float v) { return v == 0.0f; }));
  t[7] = 3.0f;
  t.reshape({2, 60});
  CHECK(t[7] == 3.0f);
  CHECK_THROWS_WITH(t.reshape({7, 7}), "tensor::reshape: (2, 60) cannot become (7, 7)");
}

namespace {
template <class T>
concept indexable = requires(const T& t) { t[0]; };
template <class T>
concept spannable = requires(const T& t) { t.values(); };
template <class T>
concept viewable = requires(const T& t) { hush::as_xtensor(t); };
}  // namespace

TEST_CASE("memory spaces: device tensors have no element access and move only explicitly") {
  static_assert(indexable<hush::tensor> && spannable<hush::tensor> && viewable<hush::tensor>);
  static_assert(!indexable<hush::device_tensor> && !spannable<hush::device_tensor> && !viewable<hush::device_tensor>);
  static_assert(std::is_same_v<hush::memory_of<hush::backend::thrust>, hush::device_memory>);
  static_assert(std::is_same_v<hush::memory_of<hush::backend::cpu>, hush::host_memory>);

  const hush::tensor h({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  hush::device_tensor d = hush::to_device(h);
  CHECK(d.shape() == h.shape());
  CHECK(hush::to_host(d).values()[5] == 6.0f);
  hush::device_tensor copy = d;  // a copy in device memory, not an alias
  d.zero();
  CHECK(hush::to_host(copy).values()[0] == 1.0f);
  CHECK(hush::to_host(d).values()[0] == 0.0f);
  copy.resize({2, 4});  // grown: the old values kept, the new ones zero
  const auto grown = hush::to_host(copy);
  CHECK(grown[5] == 6.0f);
  CHECK(grown[7] == 0.0f);
  CHECK(&hush::to_host(h) == &h);  // already on the host: no copy
  CHECK(&hush::to(hush::backend::cpu{}, h) == &h);
}

TEST_CASE("xtensor interop: a tensor viewed without copying, any expression into a tensor, shapes named") {
  hush::tensor t({2, 3});
  auto v = hush::as_xtensor(t);
  CHECK(v.dimension() == 2);
  CHECK(v.shape()[0] == 2);
  CHECK(v.shape()[1] == 3);
  v(1, 2) = 7.0f;  // writes through: the view is the tensor's memory
  CHECK(t[5] == 7.0f);
  CHECK(v.data() == t.data());
  auto fixed = hush::as_xtensor<2>(t);
  static_assert(decltype(fixed)::rank == 2);
  CHECK(fixed(1, 2) == 7.0f);
  CHECK_THROWS_WITH(hush::as_xtensor<4>(t), "as_xtensor<4>: the tensor has shape (2, 3), of rank 2");

  // Expressions of other value types are converted; the result has the expression's shape.
  const xt::xtensor<std::uint8_t, 3> pixels = {{{0, 51}, {102, 255}}};
  const hush::tensor x = hush::to_tensor(xt::cast<float>(pixels) / 255.0f);
  CHECK(x.shape() == hush::shape{1, 2, 2});
  CHECK(x[1] == doctest::Approx(0.2f));
  CHECK(x[3] == 1.0f);
  const hush::tensor r = hush::to_tensor(xt::arange<double>(24.0).reshape({1, 2, 3, 4}));
  CHECK(r.shape() == hush::shape{1, 2, 3, 4});
  CHECK(r[23] == 23.0f);
  CHECK(xt::sum(hush::as_xtensor(r))() == doctest::Approx(276.0));  // views are expressions too

  hush::assign(t, xt::ones<float>({2, 3}) * 2.0f);
  CHECK(t[0] == 2.0f);
  CHECK(t[5] == 2.0f);
  CHECK_THROWS_WITH(hush::assign(t, xt::ones<float>({3, 2})),
                    "hush::assign: an xtensor expression of shape (3, 2) into a tensor of shape (2, 3)");
  CHECK_THROWS_WITH(hush::to_tensor(xt::ones<float>({1, 1, 1, 1, 2})),
                    "hush::to_tensor: an xtensor expression of shape (1, 1, 1, 1, 2), rank 5; hush tensors have rank 1 to 4");

  // A tensor in the cpu backend's blocked layout is not row-major: viewing it would be wrong.
  hush::tensor blocked({1, 16, 2, 2});
  blocked.set_layout(hush::layout::blocked);
  CHECK_THROWS_WITH(hush::as_xtensor(blocked),
                    "as_xtensor: the tensor of shape (1, 16, 2, 2) is in the cpu backend's blocked layout; only "
                    "row-major tensors (every model's output) can be viewed");
}

TEST_CASE("printf_string: as long as the text, however long") {
  const std::string long_part(3000, 'x');
  const auto s = hush::printf_string("%s; seed %llu", long_part.c_str(), 42ULL);
  CHECK(s.size() == 3000 + 9);
  CHECK(s.substr(3000) == "; seed 42");
  CHECK(hush::printf_string("%s", "").empty());
}

TEST_CASE("index tensors: int32 class labels and token indices, copied, resized and moved like tensors") {
  static_assert(indexable<hush::index_tensor> && !indexable<hush::basic_index_tensor<hush::device_memory>>);
  const hush::index_tensor h({4}, {3, 1, 4, 1});
  CHECK_THROWS_WITH_AS(hush::index_tensor({3}, {1, 2}), "index tensor: 2 values for shape (3)", hush::shape_error);
  const auto d = hush::to(hush::backend::thrust{}, h);  // a copy in device memory
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(d)>, hush::basic_index_tensor<hush::device_memory>>);
  auto copy = d;  // a copy, not an alias
  CHECK(copy.to_host() == std::vector<std::int32_t>{3, 1, 4, 1});
  CHECK(&hush::to(hush::backend::cpu{}, h) == &h);  // already on the host: no copy
  const auto back = hush::to(hush::backend::reference{}, d);
  CHECK(back.shape() == h.shape());
  CHECK(back[2] == 4);
  hush::index_tensor grown = h;
  grown.resize({2});  // smaller: a batch's labels are written after resize, the buffer kept
  CHECK(grown.numel() == 2);
  CHECK(grown.to_host() == std::vector<std::int32_t>{3, 1});
  grown.resize({6});
  CHECK(grown.numel() == 6);
  CHECK(h[0] == 3);  // the original untouched
  // Moving takes the shape with the values: the moved-from tensor is empty, and copying it is safe.
  hush::index_tensor moved = std::move(grown);
  CHECK(moved.numel() == 6);
  CHECK(grown.empty());  // NOLINT(bugprone-use-after-move): the state after a move is the point
  CHECK(hush::index_tensor(grown).empty());
  moved[5] = 7;
  hush::index_tensor target({1}, {9});
  target = std::move(moved);
  CHECK(target.numel() == 6);
  CHECK(target[5] == 7);
  CHECK(moved.empty());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("kept: a layer's tensor lives where its context's backend says, reached through the context") {
  hush::context<hush::backend::thrust> dev;
  hush::kept k;
  dev.keep(k, {4}, hush::buffer_role::output);
  CHECK(k.on_device());
  CHECK(k.shape() == hush::shape{4});
  CHECK_THROWS_WITH(k.host(), doctest::Contains("the values live in device memory; copy them with to_host"));
  CHECK_THROWS_WITH(k.as<hush::host_memory>(), "hush::kept: the values live in device memory, not in host memory");
  hush::assign(k, hush::tensor({2, 2}, std::vector<float>{1, 2, 3, 4}));
  CHECK(hush::to_host(k)[3] == 4.0f);
  CHECK(dev[k].shape() == hush::shape{2, 2});
  CHECK_THROWS_AS(hush::assign(k, hush::tensor({5})), hush::shape_error);

  hush::context<hush::backend::cpu> host;
  hush::kept h;
  host.keep(h, {3}, hush::buffer_role::saved);
  CHECK_FALSE(h.on_device());
  h.host()[1] = 2.0f;
  CHECK(host[h][1] == 2.0f);
  CHECK(host.buffers.saved == 12);
}

TEST_CASE("buffer plan: lifetimes from a recorded timeline, shared memory only where they do not overlap") {
  // Slots 0..3: a chain a -> b -> c as a seq runs it (each result handed on to the next call),
  // and d touched outside any call (the caller's: alive for good).
  hush::buffer_watch w(4);
  w.enter();  // child 0 writes a
  w.touch(0);
  w.leave(0, true);
  w.enter();  // child 1 reads a, writes b
  w.touch(0);
  w.touch(1);
  w.leave(1, true);
  w.enter();  // child 2 reads b, writes c; its result stays with the caller
  w.touch(1);
  w.touch(2);
  w.leave(2, false);
  w.touch(3);
  const auto t = w.take();
  CHECK(t.first == std::vector<std::int64_t>{1, 5, 9, 12});
  CHECK(t.last == std::vector<std::int64_t>{6, 10, hush::buffer_timeline::forever, hush::buffer_timeline::forever});
  CHECK(t.overlap(0, 1));   // b is written while a is read
  CHECK(!t.overlap(0, 2));  // a is dead before c is written
  // c takes a's memory and d b's (each dead before the other is written); b and d stay clear of c.
  const auto l = hush::lay_out(t, {100, 50, 100, 10});
  CHECK(l.offset[0] == l.offset[2]);
  CHECK(l.offset[1] == 112);  // past c, 64-byte aligned
  CHECK(l.offset[3] == l.offset[1]);
  CHECK(l.total == 112 + 64);
  // A slot nobody touched keeps storage of its own.
  hush::buffer_watch untouched(2);
  untouched.touch(0);
  CHECK(hush::lay_out(untouched.take(), {8, 8}).offset[1] == -1);
}

TEST_CASE("buffer plan: a pass that goes another way than the recorded one throws before it runs on") {
  hush::buffer_watch w(2);
  w.enter();
  w.touch(0);
  w.leave(0, false);
  const auto t = w.take();
  hush::buffer_watch check(t, {true, false});
  check.start(false);
  check.enter();
  CHECK_THROWS_WITH(check.touch(1), doctest::Contains("buffer 1 where the probe had buffer 0"));
  check.start(false);
  check.enter();
  check.touch(0);
  check.touch(-1);  // a tensor the plan does not hold: not an event
  CHECK_NOTHROW(check.leave(0, false));
  // Between passes the arena's buffers are refused to a layer run by hand; the others are not.
  check.stop();
  CHECK_THROWS_WITH(check.touch(0), doctest::Contains("ran outside the model's forward and backward"));
  CHECK_NOTHROW(check.touch(1));
}

TEST_CASE("tensor: a borrowed buffer is a view; growing it gives it storage of its own") {
  std::vector<float> arena(32, 7.0f);
  hush::tensor t({2, 4});
  t.set_plan_slot(3);
  t.borrow(arena.data() + 8, 16);
  CHECK(t.borrowed());
  CHECK(t.data() == arena.data() + 8);
  CHECK(t[0] == 7.0f);
  t[1] = 1.0f;
  CHECK(arena[9] == 1.0f);
  t.resize({4, 4});  // still fits
  CHECK(t.data() == arena.data() + 8);
  const hush::tensor copy = t;  // a copy owns its values, and has no slot
  CHECK(!copy.borrowed());
  CHECK(copy.plan_slot() == -1);
  CHECK(copy[1] == 1.0f);
  t.resize({4, 8});
  CHECK(!t.borrowed());
  CHECK(t.plan_slot() == 3);
  CHECK(t[1] == 1.0f);  // resize keeps the values
  CHECK_THROWS_WITH(t.borrow(arena.data(), 4), doctest::Contains("4 values for a tensor of"));
}

TEST_CASE("counter_rng: a pure function of (seed, stream, index)") {
  const hush::counter_rng a{42}, b{42}, c{43};
  CHECK(a.bits(3, 17) == b.bits(3, 17));
  CHECK(a.bits(3, 17) != c.bits(3, 17));
  CHECK(a.bits(3, 17) != a.bits(4, 17));
  CHECK(a.bits(3, 17) != a.bits(3, 18));
}

TEST_CASE("counter_rng: uniform and normal have the right moments on 10^6 draws") {
  const hush::counter_rng rng{1};
  const int n = 1'000'000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform(9, static_cast<std::uint64_t>(i)), z = rng.normal(9, static_cast<std::uint64_t>(i));
    CHECK_UNARY((u >= 0.0 && u < 1.0 && std::isfinite(z)));
    su += u, su2 += u * u, sn += z, sn2 += z * z;
  }
  // Standard errors at n = 10^6: mean(u) 2.9e-4, mean(z) 1e-3, var(z) 1.4e-3. Allow 5 of them.
  CHECK(su / n == doctest::Approx(0.5).epsilon(0.003));
  CHECK(su2 / n - (su / n) * (su / n) == doctest::Approx(1.0 / 12).epsilon(0.01));
  CHECK(std::abs(sn / n) < 5e-3);
  CHECK(sn2 / n == doctest::Approx(1.0).epsilon(0.007));
}

TEST_CASE("data: shuffled_order is a permutation that depends on seed and epoch only") {
  const auto a = hush::data::shuffled_order(1000, 5, 1), b = hush::data::shuffled_order(1000, 5, 1),
             c = hush::data::shuffled_order(1000, 5, 2);
  CHECK(a == b);
  CHECK(a != c);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 1000; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("data: a missing idx file is reported with its path") {
  CHECK_THROWS_WITH(hush::data::read_idx("/nonexistent/train-images-idx3-ubyte.gz"),
                    "/nonexistent/train-images-idx3-ubyte.gz: no such file");
}

TEST_CASE("blas: OpenBLAS runs kernels as wide as this CPU's vectors, not its generic fallback") {
  const auto kernels = hush::ensure_fast_blas();
  INFO("OpenBLAS kernels: " << kernels);
  if (!kernels.empty() && hush::detail::best_openblas_coretype() && !std::getenv("OPENBLAS_CORETYPE"))
    CHECK_FALSE(hush::detail::openblas_kernels_are_narrow(kernels.c_str()));
}
