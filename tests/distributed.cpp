// Data parallelism (distributed/): n workers, each on its shard of every batch, must train as
// one worker on the whole batch does, for any network and backend. The workers here are threads
// of one process (distributed/threads.hpp); the same code over MPI runs in tests/mpi.sh.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "hush/backend/thrust.hpp"
#include "hush/distributed/data_parallel.hpp"
#include "hush/distributed/launch.hpp"
#include "hush/distributed/threads.hpp"
#include "hush/hush.hpp"
#include "hush/models/residual_unet.hpp"
#include "hush/models/resnet.hpp"
#include "hush/noise/pixel.hpp"
#include "hush/train/classifier.hpp"
#include "hush/train/denoiser.hpp"
#include "hush/train/gan_denoiser.hpp"
#include "hush/models/discriminator.hpp"
#include "hush/train/regime.hpp"
#include "support.hpp"
#include "tiny_classifier.hpp"
#include "tiny_photos.hpp"

namespace {
namespace dist = hush::distributed;

/// Runs f(rank) on `n` threads, one per member, and rethrows the first failure.
void on_threads(int n, const std::function<void(int)>& f) {
  std::vector<std::exception_ptr> failed(static_cast<std::size_t>(n));
  {
    std::vector<std::jthread> workers;
    for (int r = 0; r < n; ++r)
      workers.emplace_back([&, r] {
        try {
          f(r);
        } catch (...) {
          failed[std::size_t(r)] = std::current_exception();
        }
      });
  }
  for (auto& e : failed)
    if (e) std::rethrow_exception(e);
}

/// Appends the values (or, with `gradients`, the gradients) of every parameter of `net`, in its
/// walk order, wherever they live: what the comparisons below compare.
template <class Net>
void append_parameters(Net& net, std::vector<float>& out, bool gradients = false) {
  hush::for_each_parameter(net, [&](std::string_view, hush::parameter& p) {
    const auto v = hush::to_host(gradients ? p.grad : p.value);
    out.insert(out.end(), v.values().begin(), v.values().end());
  });
}

TEST_CASE("thread_group: sums in rank order, the same bits on every member; broadcast; mismatches named") {
  dist::thread_group group(3);
  std::vector<std::vector<float>> got(3);
  std::vector<std::vector<std::byte>> bytes(3, std::vector<std::byte>(4));
  on_threads(3, [&](int r) {
    auto& me = group.member(r);
    got[std::size_t(r)] = {float(r + 1), 0.1f * float(r), 1e8f * float(r == 1) + 1.0f};
    me.all_reduce_sum(std::span<float>(got[std::size_t(r)]));
    bytes[std::size_t(r)].assign(4, std::byte(r));
    me.broadcast(bytes[std::size_t(r)], 2);
  });
  CHECK(got[0] == std::vector<float>{6.0f, (0.0f + 0.1f) + 0.2f, (1.0f + 100000001.0f) + 1.0f});
  CHECK(got[1] == got[0]);
  CHECK(got[2] == got[0]);
  for (const auto& b : bytes) CHECK(b == std::vector<std::byte>(4, std::byte(2)));

  dist::thread_group pair(2);
  CHECK_THROWS_WITH(on_threads(2, [&](int r) {
                      std::vector<float> v(std::size_t(r + 1));
                      pair.member(r).all_reduce_sum(std::span<float>(v));
                    }),
                    doctest::Contains("values at the same call"));
  // A broadcast whose sizes differ on one member only: every member throws, none waits forever.
  dist::thread_group trio(3);
  std::atomic<int> threw{0};
  CHECK_THROWS_WITH(on_threads(3, [&](int r) {
                      std::vector<std::byte> b(r == 2 ? 8 : 4);
                      try {
                        trio.member(r).broadcast(b, 0);
                      } catch (...) {
                        ++threw;
                        throw;
                      }
                    }),
                    doctest::Contains("a broadcast of 4 bytes into 8"));
  CHECK(threw == 3);
}

/// A residual network nobody ships: batch norm before ReLU (fused on the cpu backend), one
/// before leaky ReLU, a projection shortcut, max pooling, a classifier head.
using block = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::conv2d, hush::batch_norm2d>;
using shortcut = hush::seq<hush::conv2d, hush::batch_norm2d>;
using small_net = hush::seq<hush::conv2d, hush::batch_norm2d, hush::leaky_relu, hush::residual<block, shortcut>, hush::relu,
                            hush::max_pool2d, hush::global_avg_pool, hush::linear>;
small_net make_small_net() {
  const auto conv = [](std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride) {
    return hush::conv2d({.in = in, .out = out, .kernel = k, .stride = stride, .padding = k / 2, .bias = false});
  };
  return small_net(conv(3, 8, 3, 1), hush::batch_norm2d(8), hush::leaky_relu{0.1f},
                   hush::residual<block, shortcut>(block(conv(8, 16, 3, 2), hush::batch_norm2d(16), hush::relu{},
                                                         conv(16, 16, 3, 1), hush::batch_norm2d(16)),
                                                   shortcut(conv(8, 16, 1, 2), hush::batch_norm2d(16))),
                   hush::relu{}, hush::max_pool2d({.kernel = 2, .stride = 2}), hush::global_avg_pool{},
                   hush::linear({.in = 16, .out = 5}));
}

/// `steps` SGD steps with momentum on a global batch of `batch` random images, as worker `rank`
/// of `comm` (none: alone, on the whole batch). Returns the weights and running statistics.
/// A classifier learns labels (cross-entropy); an image-to-image network (its output shaped as
/// its input) learns to halve its input (mean squared error).
template <class Backend, class Net>
std::vector<float> train_steps(Net net, hush::shape image, std::int64_t batch, int steps, dist::communicator* comm,
                               std::size_t bucket_bytes = std::size_t(4) << 20) {
  const int p = dist::size_of(comm), r = dist::rank_of(comm);
  const auto local = batch / p, per = image.numel();
  hush::model<Net, Backend> m({.seed = 7}, std::move(net));
  m.ctx.batch_norm_group = comm;
  m.setup({local, image[0], image[1], image[2]});
  if (comm) dist::broadcast_state(*comm, m.net);
  hush::sgd opt(m.net, {.lr = 0.05f, .momentum = 0.9f, .weight_decay = 1e-4f});
  hush::cross_entropy ce;
  hush::mse_loss mse;
  dist::gradient_averager average(bucket_bytes);
  std::mt19937 gen(11);
  std::normal_distribution<float> pixel(0.5f, 0.3f);
  for (int s = 0; s < steps; ++s) {
    std::vector<float> all(std::size_t(batch * per));
    for (auto& v : all) v = pixel(gen);
    hush::tensor x({local, image[0], image[1], image[2]},
                   std::vector<float>(all.begin() + r * local * per, all.begin() + (r + 1) * local * per));
    hush::index_tensor y({local});
    for (std::int64_t i = 0; i < local; ++i) y.data()[i] = (r * local + i + s) % 5;
    const auto input = hush::test::on(m.ctx, x);  // alive until backward, which reads it
    const auto labels = hush::to(m.ctx.backend, y);
    hush::tensor half(x.shape(), x.values());
    for (auto& v : half.values()) v *= 0.5f;
    const auto target = hush::test::on(m.ctx, half);
    m.zero_grad();
    const auto& out = m.forward(input);
    const bool to_image = out.shape() == input.shape();
    if (to_image) mse.forward(m.ctx, out, target);
    else ce.forward(m.ctx, out, labels);
    if (comm) average.arm(*comm, m.net, m.ctx);
    m.backward(to_image ? mse.backward(m.ctx) : ce.backward(m.ctx));
    if (comm) average.finish();
    opt.step(m.ctx.backend);
  }
  std::vector<float> out;
  append_parameters(m.net, out);
  hush::for_each_buffer(m.net, [&](std::string_view, hush::kept& k) {
    const auto v = hush::to_host(k);
    out.insert(out.end(), v.values().begin(), v.values().end());
  });
  return out;
}

/// Workers on shards against one worker on the whole batch: the same weights (to float
/// rounding: sums are taken in another order), and the workers' weights bit for bit equal.
template <class Backend, class Net>
void check_equivalence(const Net& net, hush::shape image, std::int64_t batch, int workers, int steps, double tolerance) {
  const auto alone = train_steps<Backend>(net, image, batch, steps, nullptr);
  dist::thread_group group(workers);
  std::vector<std::vector<float>> each(static_cast<std::size_t>(workers));
  on_threads(workers, [&](int r) { each[std::size_t(r)] = train_steps<Backend>(net, image, batch, steps, &group.member(r)); });
  const auto gap = hush::test::difference(alone, each[0]);
  INFO(workers << " workers against one, after " << steps << " steps: largest difference " << gap);
  CHECK(gap < tolerance);
  for (int r = 1; r < workers; ++r) CHECK(each[std::size_t(r)] == each[0]);
  // ... and not because nothing moved: the weights left their initial values.
  CHECK(hush::test::difference(train_steps<Backend>(net, image, batch, 0, nullptr), alone) > 1e-3);
}

}  // namespace

TEST_CASE_TEMPLATE("n workers on shards train as one on the whole batch: a network nobody ships, every backend",
                   Backend, hush::backend::reference, hush::backend::cpu, hush::backend::thrust) {
  check_equivalence<Backend>(make_small_net(), {3, 12, 12}, 8, 2, 3, 1e-5);
  check_equivalence<Backend>(make_small_net(), {3, 12, 12}, 12, 4, 2, 1e-5);
}

namespace {
/// Passes every collective on, noting the size of each bucket started and whether backward was
/// running (`in_backward`, set by the test around m.backward).
struct recording_communicator final : dist::communicator {
  dist::communicator& inner;
  bool in_backward = false;
  std::vector<std::size_t> started_in_backward, started_after;
  explicit recording_communicator(dist::communicator& c) : inner(c) {}
  int rank() const override { return inner.rank(); }
  int size() const override { return inner.size(); }
  void all_reduce_sum(std::span<float> v) override { inner.all_reduce_sum(v); }
  void all_reduce_sum(std::span<double> v) override { inner.all_reduce_sum(v); }
  void start_all_reduce_sum(std::span<float> v) override {
    (in_backward ? started_in_backward : started_after).push_back(v.size());
    inner.start_all_reduce_sum(v);
  }
  void broadcast(std::span<std::byte> b, int root) override { inner.broadcast(b, root); }
  [[noreturn]] void abort(int code) override { inner.abort(code), std::abort(); }
};

/// One step of `net` as worker `rank` of two, gradients averaged in buckets of `bucket_bytes`:
/// the averaged gradients, and when each bucket was sent.
template <class Net>
std::vector<float> averaged_step(Net net, dist::communicator& member, std::size_t bucket_bytes, recording_communicator& rec,
                                 hush::shape input = {2, 3, 8, 8}) {
  hush::model<Net, hush::backend::cpu> m({.seed = 7}, std::move(net));
  m.setup(input);
  hush::tensor x(input);
  for (std::int64_t i = 0; i < x.numel(); ++i) x.data()[i] = float((i * 7 + member.rank() * 3) % 11) / 11.0f;
  hush::index_tensor y({2});
  y.data()[0] = member.rank(), y.data()[1] = 2;
  hush::cross_entropy ce;
  dist::gradient_averager average(bucket_bytes);
  m.zero_grad();
  ce.forward(m.ctx, m.forward(x), y);
  average.arm(rec, m.net, m.ctx);
  rec.in_backward = true;
  m.backward(ce.backward(m.ctx));
  rec.in_backward = false;
  average.finish();
  CHECK(m.ctx.gradients == nullptr);  // finish() leaves the context as it was
  std::vector<float> out;
  append_parameters(m.net, out, true);
  return out;
}
}  // namespace

TEST_CASE("gradient buckets: sent while backward runs, the last layers' first, and the same sums whatever their size") {
  dist::thread_group group(2);
  std::vector<float> one_bucket, small_buckets, mid_buckets;
  std::vector<std::size_t> during, after, during_mid;
  on_threads(2, [&](int r) {
    recording_communicator a(group.member(r)), b(group.member(r)), c(group.member(r));
    const auto whole = averaged_step(make_small_net(), group.member(r), 0, a);
    const auto small = averaged_step(make_small_net(), group.member(r), 64, b);
    const auto mid = averaged_step(make_small_net(), group.member(r), 2048, c);
    if (r != 0) return;
    one_bucket = whole, small_buckets = small, mid_buckets = mid;
    CHECK(a.started_in_backward.empty());  // size 0: one bucket, after backward
    CHECK(a.started_after.size() == 1);
    during = b.started_in_backward, after = b.started_after, during_mid = c.started_in_backward;
  });
  CHECK(small_buckets == one_bucket);  // bit for bit
  CHECK(mid_buckets == one_bucket);
  // small_net is a seq: each child reports after its backward, so every bucket leaves before
  // backward returns. The first sent holds the linear head's bias (5 floats: 20 bytes, then its
  // weight, 80 floats, alone: larger than a bucket), the last the first convolution's weight.
  REQUIRE(during.size() >= 6);
  CHECK(after.empty());
  CHECK(during.front() == 5);
  CHECK(during[1] == 80);
  CHECK(during.back() == 8 * 3 * 3 * 3);
  CHECK(during_mid.size() < during.size());
  CHECK(during_mid.size() > 1);
}

TEST_CASE("gradient buckets: a network that reports nothing (not a seq) is averaged after backward, all the same") {
  dist::thread_group group(2);
  std::vector<std::vector<float>> got(2);
  std::vector<std::size_t> during(2, 99), after(2, 99);
  on_threads(2, [&](int r) {  // a layer as the whole network: no seq to report it
    recording_communicator rec(group.member(r));
    got[std::size_t(r)] = averaged_step(hush::linear({.in = 6, .out = 3}), group.member(r), 16, rec, {2, 6});
    during[std::size_t(r)] = rec.started_in_backward.size(), after[std::size_t(r)] = rec.started_after.size();
  });
  CHECK(got[0] == got[1]);
  CHECK(during == std::vector<std::size_t>{0, 0});
  CHECK(after[0] == 2);  // weight (18 floats) and bias (3, 12 bytes: a bucket of its own as the weight is larger)
}

namespace {
/// A communicator that averages device memory, as NCCL's does between GPUs: here through the
/// thread group's sums of a host copy.
struct device_averaging final : dist::communicator {
  dist::communicator& inner;
  int device_means = 0;
  explicit device_averaging(dist::communicator& c) : inner(c) {}
  int rank() const override { return inner.rank(); }
  int size() const override { return inner.size(); }
  void all_reduce_sum(std::span<float> v) override { inner.all_reduce_sum(v); }
  void all_reduce_sum(std::span<double> v) override { inner.all_reduce_sum(v); }
  void broadcast(std::span<std::byte> b, int root) override { inner.broadcast(b, root); }
  [[noreturn]] void abort(int code) override { inner.abort(code), std::abort(); }
  bool averages_device_memory() const override { return true; }
  void start_all_reduce_mean_device(float* values, std::size_t count) override {
    std::vector<float> host(count);
    hush::device_memory::to_host(host.data(), values, count * sizeof(float));
    inner.all_reduce_sum(std::span<float>(host));
    for (auto& v : host) v /= float(size());
    hush::device_memory::from_host(values, host.data(), count * sizeof(float));
    ++device_means;
  }
};
}  // namespace

TEST_CASE("gradients in device memory are averaged there by a communicator that can (NCCL's path), in buckets") {
  const auto alone = train_steps<hush::backend::thrust>(make_small_net(), {3, 12, 12}, 8, 3, nullptr);
  dist::thread_group group(2);
  std::vector<std::vector<float>> each(2);
  std::vector<int> means(2);
  on_threads(2, [&](int r) {
    device_averaging device(group.member(r));
    each[std::size_t(r)] = train_steps<hush::backend::thrust>(make_small_net(), {3, 12, 12}, 8, 3, &device, 256);
    means[std::size_t(r)] = device.device_means;
  });
  CHECK(hush::test::difference(alone, each[0]) < 1e-5);
  CHECK(each[1] == each[0]);
  CHECK(means[0] > 3 * 5);  // three steps of more than five buckets each
  CHECK(means[1] == means[0]);
}

TEST_CASE("n workers train as one: ResNet-20 on the cpu backend (oneDNN, blocked layout, fused batch norm)") {
  check_equivalence<hush::backend::cpu>(hush::models::resnet20({.channels = 1, .classes = 10}), {1, 16, 16}, 8, 2, 3, 1e-5);
}

TEST_CASE_TEMPLATE("n workers train as one: seed 001's residual U-Net (batch norm down to 2 x 2), image to image", Backend,
                   hush::backend::reference, hush::backend::cpu) {
  check_equivalence<Backend>(hush::models::residual_unet({.channels = 3, .width = 4}), {3, 64, 64}, 4, 2, 3, 1e-5);
}

// Over MPI: tests/mpi.sh runs this case as two processes (`mpirun -np 2 test-distributed -tc=...`),
// each loading hush's MPI module as the tools do; alone (ctest), there is nothing to compare.
TEST_CASE("over MPI: two processes train ResNet-20 and seed 001's U-Net as one process does (mpirun -np 2)") {
  const auto world = dist::launched_world(nullptr, nullptr);
  if (!world) {
    MESSAGE("not started by mpirun: tests/mpi.sh runs this case as two processes");
    return;
  }
  REQUIRE(world->size() == 2);
  const auto check = [&](const auto& net, hush::shape image, std::int64_t batch, std::size_t bucket_bytes) {
    const auto alone = train_steps<hush::backend::cpu>(net, image, batch, 3, nullptr);
    const auto mine = train_steps<hush::backend::cpu>(net, image, batch, 3, world.get(), bucket_bytes);
    const auto gap = hush::test::difference(alone, mine);
    MESSAGE(std::string(std::remove_cvref_t<decltype(net)>::kind) << ": process " << world->rank() << " ends " << gap << " from one process");
    CHECK(gap < 1e-5);
    std::vector<float> other(mine);  // process 0's weights, bit for bit on every process
    world->broadcast(std::as_writable_bytes(std::span<float>(other)), 0);
    CHECK(other == mine);
  };
  check(hush::models::resnet20({.channels = 1, .classes = 10}), {1, 16, 16}, 8, 64 << 10);  // 5 buckets, MPI_Iallreduce
  check(hush::models::residual_unet({.channels = 3, .width = 4}), {3, 64, 64}, 4, 0);
}

TEST_CASE("broadcast_state: every worker ends with worker 0's weights, running statistics and counters") {
  dist::thread_group group(2);
  std::vector<std::vector<float>> weights(2);
  std::vector<std::int64_t> tracked(2);
  on_threads(2, [&](int r) {
    hush::model<small_net, hush::backend::cpu> m({.seed = std::uint64_t(r + 1)}, make_small_net());
    m.setup({2, 3, 8, 8});
    m.net.get<1>().num_batches_tracked = 10 + r;
    hush::assign(m.net.get<1>().running_mean, hush::tensor({8}, std::vector<float>(8, float(r))));
    dist::broadcast_state(group.member(r), m.net);
    append_parameters(m.net, weights[std::size_t(r)]);
    const auto mean = hush::to_host(m.net.get<1>().running_mean);
    weights[std::size_t(r)].insert(weights[std::size_t(r)].end(), mean.values().begin(), mean.values().end());
    tracked[std::size_t(r)] = m.net.get<1>().num_batches_tracked;
  });
  CHECK(weights[1] == weights[0]);
  CHECK(tracked == std::vector<std::int64_t>{10, 10});
  CHECK(weights[0].back() == 0.0f);
}

// ---- the classifier trainer (train/classifier.hpp) with o.comm --------------------------------

namespace {
using hush::test::tiny_net;

struct trained_run {
  hush::train::history history;
  std::vector<float> weights;
};
/// fit() of the tiny classifier under seed 004's mixed regime (half of each batch noisy copies),
/// as worker `rank` of `comm` (none: alone).
trained_run fit_tiny(dist::communicator* comm, const std::filesystem::path& out, int epochs, int stop_after = 0,
                     bool resume = false) {
  static const auto train = hush::test::two_classes(160, 1), test = hush::test::two_classes(40, 2);
  hush::model<tiny_net, hush::backend::cpu> m({.seed = 2});
  hush::train::mixed regime(hush::noise::gaussian{.sigma = hush::noise::range(0.0f, 0.15f)}, hush::counter_rng{4});
  hush::train::classifier_options o;
  o.epochs = epochs, o.batch = 16, o.recipe.lr = 0.2f, o.seed = 3, o.out = out, o.title = "tiny";
  o.augment = {.flip = true, .crop_padding = 1};
  o.comm = comm, o.stop_after = stop_after, o.resume = resume;
  trained_run r{hush::train::fit(m, regime, train, {{"clean", test}}, o), {}};
  append_parameters(m.net, r.weights);
  return r;
}
}  // namespace

TEST_CASE("fit with two workers trains as fit alone, only worker 0 writes, and resumes with another count") {
  const hush::test::temp_dir dir("distributed-fit");
  const auto alone = fit_tiny(nullptr, dir.path / "alone", 3);
  std::vector<trained_run> pair(2);
  dist::thread_group group(2);
  on_threads(2, [&](int r) { pair[std::size_t(r)] = fit_tiny(&group.member(r), dir.path / "pair", 3); });
  for (const auto& run : pair) {
    REQUIRE(run.history.epochs.size() == 3);
    for (std::size_t e = 0; e < 3; ++e) {
      CHECK(run.history.epochs[e].train_loss == doctest::Approx(alone.history.epochs[e].train_loss).epsilon(1e-5));
      CHECK(run.history.epochs[e].test_accuracy == alone.history.epochs[e].test_accuracy);
    }
    CHECK(hush::test::difference(alone.weights, run.weights) < 1e-5);
  }
  CHECK(pair[1].weights == pair[0].weights);
  CHECK(alone.history.epochs[2].test_accuracy[0] > 80.0);  // it learnt (chance: 50)
  for (const char* file : {"log.csv", "curves.png", "checkpoint.safetensors"}) CHECK(std::filesystem::exists(dir.path / "pair" / file));

  // One epoch by two workers, the others by one process, from the checkpoint.
  on_threads(2, [&](int r) { fit_tiny(&group.member(r), dir.path / "handed", 3, 1); });
  const auto resumed = fit_tiny(nullptr, dir.path / "handed", 3, 0, true);
  CHECK(hush::test::difference(alone.weights, resumed.weights) < 1e-5);
  CHECK(resumed.history.epochs.size() == 3);
}

TEST_CASE("fit refuses a batch or a regime that does not split between the workers, naming both") {
  dist::thread_group group(3);
  CHECK_THROWS_WITH(on_threads(3, [&](int r) { fit_tiny(&group.member(r), {}, 1); }),
                    doctest::Contains("the batch of 16 does not split into 3 equal shards"));
}

TEST_CASE("check_same_parameters: workers whose weights drifted apart all stop, saying how many") {
  dist::thread_group group(3);
  const auto check = [&](bool drift) {
    on_threads(3, [&](int r) {
      hush::model<small_net, hush::backend::cpu> m({.seed = drift && r == 2 ? 9u : 1u}, make_small_net());
      m.setup({2, 3, 8, 8});
      dist::check_same_parameters(group.member(r), m.net, "after epoch 4");
    });
  };
  CHECK_NOTHROW(check(false));
  CHECK_THROWS_WITH(check(true), "data parallel: the parameters of 1 of 3 processes differ from process 0's after epoch 4");
}

TEST_CASE("fit: processes that would resume from different epochs (a folder not shared) all stop, saying why") {
  const hush::test::temp_dir dir("distributed-unshared");
  fit_tiny(nullptr, dir.path / "r0", 3, 1);  // a checkpoint after epoch 1, seen by process 0 only
  dist::thread_group group(2);
  CHECK_THROWS_WITH(on_threads(2, [&](int r) { fit_tiny(&group.member(r), dir.path / ("r" + std::to_string(r)), 3, 0, true); }),
                    doctest::Contains("the processes would start from different epochs"));
  // Four processes at epochs 3, 2, 1 and 2: two are at the mean, and they stop too (a process
  // that went on would wait forever at its first all-reduce: the test would not end).
  fit_tiny(nullptr, dir.path / "s0", 3, 2);
  fit_tiny(nullptr, dir.path / "s1", 3, 1);
  dist::thread_group four(4);
  CHECK_THROWS_WITH(on_threads(4, [&](int r) {
                      fit_tiny(&four.member(r), dir.path / ("s" + std::to_string(r == 3 ? 1 : r)), 3, 0, true);
                    }),
                    doctest::Contains("from different epochs"));
}

// ---- the denoiser trainer (train/denoiser.hpp) with o.comm -------------------------------------

namespace {
/// fit_denoiser of seed 001's residual U-Net (batch norm in every decoder block) at width 8, as
/// worker `rank` of `comm` (none: alone): its history and weights.
struct denoised_run {
  hush::train::denoiser_history history;
  std::vector<float> weights;
};
denoised_run fit_unet(dist::communicator* comm, const hush::test::tiny_photos& photos, const std::filesystem::path& out,
                      hush::train::pairing pairs, int stop_after = 0, bool resume = false) {
  hush::model<hush::models::residual_unet, hush::backend::cpu> m({.seed = 2}, hush::models::residual_unet({.channels = 3, .width = 8}));
  const auto train = hush::data::photos::from_folder(photos.train.path), val = hush::data::photos::from_folder(photos.val.path);
  hush::train::denoiser_options o;
  o.epochs = 2, o.steps = 3, o.batch = 4, o.crop = 32, o.lr = 1e-2f, o.pairs = pairs;
  o.noise = hush::noise::parse_spec("gaussian(sigma=0.2)");
  o.out = out, o.title = "unet", o.comm = comm, o.stop_after = stop_after, o.resume = resume;
  o.bucket_bytes = 4096;  // tens of buckets, sent during backward
  denoised_run r{hush::train::fit_denoiser(m, train, val, o), {}};
  append_parameters(m.net, r.weights);
  return r;
}
}  // namespace

// Adam divides each gradient by its running magnitude: a weight whose gradient is rounding noise
// (about 40 of the U-Net's 263,000 after one step here) moves by ±lr whichever way the noise
// falls, and the runs part at the 1e-4 level from there. The weights' equivalence is therefore
// checked with SGD above; here the trainer's own work: the same crops and noise on the shards
// (the first step's loss, from the same weights, equal), the same course (losses and PSNR
// within 1e-3), the workers equal bit for bit, one writer, and a run handed from two to one.
TEST_CASE("fit_denoiser with two workers trains the U-Net as one process does, supervised and Noise2Noise; resumes with one") {
  const hush::test::tiny_photos photos;
  const hush::test::temp_dir dir("distributed-denoise");
  for (const auto pairs : {hush::train::pairing::supervised, hush::train::pairing::noise2noise}) {
    const std::string name = hush::train::name_of(pairs);
    const auto alone = fit_unet(nullptr, photos, dir.path / (name + "-alone"), pairs);
    std::vector<denoised_run> pair(2);
    dist::thread_group group(2);
    on_threads(2, [&](int r) { pair[std::size_t(r)] = fit_unet(&group.member(r), photos, dir.path / (name + "-pair"), pairs); });
    INFO(name);
    CHECK(pair[1].weights == pair[0].weights);
    REQUIRE(pair[0].history.tenths.size() == alone.history.tenths.size());
    CHECK(pair[0].history.tenths[0][1] == doctest::Approx(alone.history.tenths[0][1]).epsilon(1e-6));
    for (std::size_t e = 0; e < 2; ++e) {
      CHECK(pair[0].history.epochs[e].train_loss == doctest::Approx(alone.history.epochs[e].train_loss).epsilon(1e-3));
      // one validation photo: process 0 scores it, process 1 none; both learn the mean
      CHECK(pair[1].history.epochs[e].val_psnr == doctest::Approx(alone.history.epochs[e].val_psnr).epsilon(1e-3));
      CHECK(pair[1].history.epochs[e].val_psnr == pair[0].history.epochs[e].val_psnr);
    }
    CHECK(pair[0].history.epochs[1].train_loss < pair[0].history.epochs[0].train_loss);
    for (const char* file : {"log.csv", "curves.png", "checkpoint.safetensors", "weights.safetensors"})
      CHECK(std::filesystem::exists(dir.path / (name + "-pair") / file));
  }
  // The first epoch on two workers, the second alone from the checkpoint: as far from the run
  // alone as two workers throughout are.
  const auto pairs = hush::train::pairing::supervised;
  dist::thread_group group(2);
  std::vector<denoised_run> first(2);
  on_threads(2, [&](int r) { first[std::size_t(r)] = fit_unet(&group.member(r), photos, dir.path / "handed", pairs, 1); });
  CHECK(first[0].history.epochs.size() == 1);
  const auto resumed = fit_unet(nullptr, photos, dir.path / "handed", pairs, 0, true);
  CHECK(resumed.history.epochs.size() == 2);
  CHECK(resumed.history.tenths[0][1] == doctest::Approx(first[0].history.tenths[0][1]).epsilon(1e-6));  // (from the checkpoint's CSV)
  CHECK(resumed.history.epochs[1].train_loss ==
        doctest::Approx(fit_unet(nullptr, photos, {}, pairs).history.epochs[1].train_loss).epsilon(1e-3));
}

// ---- the GAN trainer (train/gan.hpp) with o.comm, through the GAN denoiser's data ------------

namespace {
struct gan_run {
  hush::train::gan_history history;
  std::vector<float> weights;  // the generator's, then the discriminator's
};
/// seed 001's GAN at a small size (residual U-Net width 8 against the DCGAN discriminator width
/// 8, both with batch norm) as worker `rank` of `comm` (none: alone).
gan_run fit_small_gan(dist::communicator* comm, const hush::test::tiny_photos& photos, const std::filesystem::path& out,
                      hush::train::critic_update update = hush::train::critic_update::separate) {
  using backend = hush::backend::cpu;
  hush::model<hush::models::residual_unet, backend> g({.seed = 2}, hush::models::residual_unet({.channels = 3, .width = 8}));
  hush::model<hush::models::dcgan_discriminator, backend> d({.seed = 3},
                                                             hush::models::dcgan_discriminator({.channels = 3, .size = 32, .width = 8}));
  const auto train = hush::data::photos::from_folder(photos.train.path), val = hush::data::photos::from_folder(photos.val.path);
  hush::train::denoiser_options o;
  o.epochs = 2, o.steps = 2, o.batch = 4, o.crop = 32, o.title = "gan", o.out = out, o.comm = comm;
  o.noise = hush::noise::parse_spec("gaussian(sigma=0.2)");
  hush::train::adversarial_options recipe;
  recipe.generator.lr = 2e-3f, recipe.discriminator.lr = 2e-3f, recipe.update = update;
  gan_run r{hush::train::fit_gan_denoiser(g, d, train, val, o, recipe, hush::mse_loss{}), {}};
  append_parameters(g.net, r.weights);
  append_parameters(d.net, r.weights);
  return r;
}
}  // namespace

// Both networks learn with Adam: compared as the denoiser trainer is above.
TEST_CASE("fit_gan with two workers trains as one process does: each of D's update kinds") {
  const hush::test::tiny_photos photos;
  const hush::test::temp_dir dir("distributed-gan");
  for (const auto update : {hush::train::critic_update::separate, hush::train::critic_update::joint}) {
    const std::string name = hush::train::name_of(update);
    INFO(name);
    const auto alone = fit_small_gan(nullptr, photos, {}, update);
    std::vector<gan_run> pair(2);
    dist::thread_group group(2);
    on_threads(2, [&](int r) { pair[std::size_t(r)] = fit_small_gan(&group.member(r), photos, dir.path / name, update); });
    CHECK(pair[1].weights == pair[0].weights);
    REQUIRE(pair[0].history.tenths.size() == alone.history.tenths.size());
    for (std::size_t k = 1; k < 4; ++k)  // the first step's D (real + generated), adversarial and content terms
      CHECK(pair[0].history.tenths[0][k] == doctest::Approx(alone.history.tenths[0][k]).epsilon(1e-5));
    for (std::size_t e = 0; e < 2; ++e) {
      CHECK(pair[0].history.epochs[e].g_content == doctest::Approx(alone.history.epochs[e].g_content).epsilon(1e-3));
      CHECK(pair[0].history.epochs[e].d_real == doctest::Approx(alone.history.epochs[e].d_real).epsilon(1e-3));
      CHECK(pair[1].history.epochs[e].val_psnr == doctest::Approx(alone.history.epochs[e].val_psnr).epsilon(1e-3));
    }
    for (const char* file : {"log.csv", "checkpoint.safetensors", "generator.safetensors", "discriminator.safetensors"})
      CHECK(std::filesystem::exists(dir.path / name / file));
  }
}
