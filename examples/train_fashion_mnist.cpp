// hush-train-fashion-mnist: trains hush::models::fashion_cnn from scratch on Fashion-MNIST and
// reports the test accuracy after each epoch.
//
//   build/bin/hush-train-fashion-mnist --epochs 3 --out results/fashion_mnist
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) try {
  CLI::App app{"Train a small CNN on Fashion-MNIST with hush"};
  std::string data_dir = hush::data::default_fashion_mnist_dir, out_dir = "results/fashion_mnist";
  int epochs = 3, batch = 64, threads = 0;
  float lr = 0.05f, momentum = 0.9f;
  std::uint64_t seed = 1;
  std::int64_t limit = 0;
  app.add_option("--data", data_dir, "folder with the Fashion-MNIST idx files")->capture_default_str();
  app.add_option("--out", out_dir, "folder for the training log (CSV)")->capture_default_str();
  app.add_option("--epochs", epochs, "passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "SGD learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--momentum", momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", seed, "seed for initial weights and shuffling")->capture_default_str();
  app.add_option("--threads", threads, "threads for OpenMP and BLAS (0: all cores)")->capture_default_str();
  app.add_option("--limit", limit, "use only the first N training images (0: all)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (threads > 0) hush::set_threads(threads);
  const auto train = hush::data::fashion_mnist(data_dir, "train");
  const auto test = hush::data::fashion_mnist(data_dir, "t10k");
  const std::int64_t n_train = limit > 0 ? std::min(limit, train.size()) : train.size();

  hush::model<hush::models::fashion_cnn, hush::backend::cpu> model({.seed = seed});
  model.setup({batch, 1, 28, 28});
  hush::print(model.net, model.input_shape());
  hush::sgd opt(model.net, {.lr = lr, .momentum = momentum});
  hush::cross_entropy loss;
  std::printf("training on %lld images, testing on %lld; %d threads, BLAS kernels %s\n",
              static_cast<long long>(n_train), static_cast<long long>(test.size()), hush::threads(),
              hush::ensure_fast_blas().c_str());

  fs::create_directories(out_dir);
  std::ofstream log(fs::path(out_dir) / "log.csv");
  log << "epoch,train_loss,train_accuracy,test_accuracy,seconds\n";
  hush::tensor x, y;
  double test_acc = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto order = hush::data::shuffled_order(n_train, seed, static_cast<std::uint64_t>(epoch));
    const std::int64_t steps = n_train / batch;  // drop the last partial batch, as drop_last=True
    hush::progress bar("epoch " + std::to_string(epoch), steps);
    double loss_sum = 0;
    std::int64_t hits = 0;
    model.train();
    for (std::int64_t s = 0; s < steps; ++s) {
      hush::data::gather(train.images, order, s * batch, (s + 1) * batch, x);
      hush::data::gather(train.labels, order, s * batch, (s + 1) * batch, y);
      model.zero_grad();
      const auto& logits = model.forward(x);
      loss_sum += loss.forward(model.ctx, logits, y);
      hits += hush::metrics::correct(logits, y);
      model.backward(loss.backward());
      opt.step(model.ctx.backend);
      char m[96];
      std::snprintf(m, sizeof m, "loss %.4f  acc %.2f%%", loss_sum / double(s + 1), 100.0 * hits / double((s + 1) * batch));
      bar.update(s + 1, m);
    }
    // Evaluate in batches of the training shape, so no buffers are reallocated.
    model.eval();
    std::int64_t test_hits = 0, seen = 0;
    std::vector<std::int64_t> all(static_cast<std::size_t>(test.size()));
    std::iota(all.begin(), all.end(), 0);
    for (std::int64_t b = 0; b + batch <= test.size(); b += batch, seen += batch) {
      hush::data::gather(test.images, all, b, b + batch, x);
      hush::data::gather(test.labels, all, b, b + batch, y);
      test_hits += hush::metrics::correct(model.forward(x), y);
    }
    test_acc = 100.0 * test_hits / double(seen);
    std::printf("epoch %d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%% (%lld images), %.1f s\n", epoch,
                loss_sum / double(steps), 100.0 * hits / double(steps * batch), test_acc, static_cast<long long>(seen),
                bar.seconds());
    log << epoch << ',' << loss_sum / double(steps) << ',' << 100.0 * hits / double(steps * batch) << ',' << test_acc
        << ',' << bar.seconds() << '\n';
  }
  std::printf("final test accuracy %.2f%%; log in %s\n", test_acc, (fs::path(out_dir) / "log.csv").c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-train-fashion-mnist: %s\n", e.what());
  return 1;
}
