// hush-train-fashion-mnist: trains hush::models::fashion_cnn from scratch on Fashion-MNIST and
// reports the test accuracy after each epoch. Writes, after every epoch, OUT/log.csv, OUT/curves.png
// (loss and accuracy, train and test), OUT/summary.md and OUT/checkpoint.safetensors (weights and
// optimizer state); at the end the trained weights, OUT/model.safetensors.
//
//   build/bin/hush-train-fashion-mnist --epochs 3 --out results/fashion_mnist
#include <CLI/CLI.hpp>

#include <cmath>

#include <cstdio>
#include <filesystem>

#include "hush/backend/devices.hpp"
#include "hush/data/model_card.hpp"
#include "hush/hush.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/plot.hpp"
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
  app.add_option("--out", out_dir, "folder for the log (CSV), the curves (PNG) and the summary")->capture_default_str();
  app.add_option("--epochs", epochs, "passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "mini-batch size")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "SGD learning rate at the start (cosine schedule down to 0)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--momentum", momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", seed, "seed for initial weights and shuffling")->capture_default_str();
  app.add_option("--threads", threads, "threads for OpenMP and BLAS (0: all cores)")->capture_default_str();
  app.add_option("--limit", limit, "use only the first N training images (0: all)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (threads > 0) hush::set_threads(threads);
  hush::io::check_output_folder(out_dir, {"log.csv", "curves.png", "summary.md", "checkpoint.safetensors", "model.safetensors"});
  const auto train = hush::data::fashion_mnist(data_dir, "train");
  const auto test = hush::data::fashion_mnist(data_dir, "t10k");
  const std::int64_t n_train = limit > 0 ? std::min(limit, train.size()) : train.size();
  if (n_train < batch)  // not one whole step: nothing would be trained
    throw hush::error("--limit " + std::to_string(n_train) + " images do not fill one batch of " + std::to_string(batch));
  if (!std::isfinite(lr) || !std::isfinite(momentum))  // CLI11's range checks let NaN through
    throw hush::error("--lr and --momentum must be finite numbers");

  // The GPU when this program has a CUDA path and one is present, else the CPU (HUSH_DEVICE chooses).
  const auto device = hush::choose_device();
  std::printf("%s\n", device.line().c_str());
  return hush::with_device(device, [&](auto backend) {
  hush::model<hush::models::fashion_cnn, decltype(backend)> model({.seed = seed, .backend = backend});
  model.setup({batch, 1, 28, 28});
  hush::print(model.net, model.input_shape());
  hush::sgd opt(model.net, {.lr = lr, .momentum = momentum});
  hush::cross_entropy loss;
  const hush::cosine_schedule schedule{lr, epochs * (n_train / batch)};  // per step, down to 0
  std::printf("training on %lld images, testing on %lld; %d threads, BLAS kernels %s\n",
              static_cast<long long>(n_train), static_cast<long long>(test.size()), hush::threads(),
              hush::ensure_fast_blas().c_str());

  // History for the curves: the training loss and accuracy ten times per epoch (x in epochs),
  // the test loss and accuracy once per epoch.
  hush::io::series train_loss{"train", {}, {}}, test_loss{"test", {}, {}};
  hush::io::series train_acc{"train", {}, {}}, test_acc_curve{"test", {}, {}};
  std::string csv = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  hush::tensor x;
  hush::index_tensor y;  // class labels
  double test_acc = 0, total_seconds = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto order = hush::data::shuffled_order(n_train, seed, static_cast<std::uint64_t>(epoch));
    const std::int64_t steps = n_train / batch;  // drop the last partial batch, as drop_last=True
    hush::progress bar("epoch " + std::to_string(epoch), steps);
    double loss_sum = 0, window_loss = 0;
    std::int64_t hits = 0, window_hits = 0, window_steps = 0;
    model.train();
    for (std::int64_t s = 0; s < steps; ++s) {
      hush::data::gather(train.images, order, s * batch, (s + 1) * batch, x);
      hush::data::gather(train.labels, order, s * batch, (s + 1) * batch, y);
      opt.opt.lr = schedule(opt.steps());
      model.zero_grad();
      const auto& xb = hush::to(backend, x);  // the batch where the model runs (a copy to a GPU)
      const auto& yb = hush::to(backend, y);
      const auto& logits = model.forward(xb);
      const double l = loss.forward(model.ctx, logits, yb);
      if (!std::isfinite(l))
        throw hush::error("epoch " + std::to_string(epoch) + ", step " + std::to_string(s + 1) + ": the loss is " +
                          std::to_string(l) + " (a lower --lr may help)");
      const auto h = hush::metrics::correct(backend, logits, yb);
      loss_sum += l, window_loss += l, hits += h, window_hits += h, ++window_steps;
      if ((s + 1) * 10 / steps != s * 10 / steps) {  // a tenth of the epoch is complete
        const double at = epoch - 1 + double(s + 1) / double(steps);
        train_loss.x.push_back(at), train_loss.y.push_back(window_loss / double(window_steps));
        train_acc.x.push_back(at), train_acc.y.push_back(100.0 * window_hits / double(window_steps * batch));
        window_loss = 0, window_hits = 0, window_steps = 0;
      }
      model.backward(loss.backward(model.ctx));
      opt.step(model.ctx.backend);
      char m[96];
      std::snprintf(m, sizeof m, "loss %.4f  acc %.2f%%", loss_sum / double(s + 1), 100.0 * hits / double((s + 1) * batch));
      bar.update(s + 1, m);
    }
    // Evaluate on every test image, in batches of the training size.
    model.infer();
    std::int64_t test_hits = 0, seen = 0;
    double test_loss_sum = 0;
    for (std::int64_t b = 0; b < test.size(); b += batch) {
      const std::int64_t end = std::min<std::int64_t>(b + batch, test.size());  // the last batch may be short
      hush::data::slice(test.images, b, end, x);
      hush::data::slice(test.labels, b, end, y);
      const auto& xb = hush::to(backend, x);
      const auto& yb = hush::to(backend, y);
      const auto& logits = model.forward(xb);
      test_loss_sum += loss.forward(model.ctx, logits, yb) * double(end - b);
      test_hits += hush::metrics::correct(backend, logits, yb);
      seen += end - b;
    }
    test_acc = 100.0 * test_hits / double(seen);
    const double test_l = test_loss_sum / double(seen), seconds = bar.seconds();
    total_seconds += seconds;
    test_loss.x.push_back(epoch), test_loss.y.push_back(test_l);
    test_acc_curve.x.push_back(epoch), test_acc_curve.y.push_back(test_acc);
    const double train_l = loss_sum / double(steps), train_a = 100.0 * hits / double(steps * batch);
    std::printf("epoch %d: train loss %.4f, train accuracy %.2f%%, test loss %.4f, test accuracy %.2f%% (%lld images), "
                "%.1f s\n",
                epoch, train_l, train_a, test_l, test_acc, static_cast<long long>(seen), seconds);

    // Everything is rewritten whole after each epoch, atomically: an interrupted run leaves the
    // previous epoch's files, never half-written ones.
    char row[160];
    std::snprintf(row, sizeof row, "%d,%.5f,%.3f,%.5f,%.3f,%.1f\n", epoch, train_l, train_a, test_l, test_acc, seconds);
    csv += row;
    const fs::path out(out_dir);
    fs::create_directories(out);
    hush::io::write_file_atomically(out / "log.csv", csv);
    hush::io::save_charts(out / "curves.png", {{"Fashion-MNIST loss", "epoch", "cross-entropy", {train_loss, test_loss}},
                                               {"Fashion-MNIST accuracy", "epoch", "accuracy (%)", {train_acc, test_acc_curve}}});
    char summary[512];
    std::snprintf(summary, sizeof summary,
                  "# Fashion-MNIST, fashion_cnn\n\n| epochs | train loss | train accuracy | test loss | test accuracy | "
                  "time |\n| --- | --- | --- | --- | --- | --- |\n| %d | %.4f | %.2f%% | %.4f | %.2f%% | %.1f s |\n\n"
                  "batch %d, SGD lr %g (cosine to 0) momentum %g, seed %llu, %d threads; curves in curves.png, per epoch in log.csv\n",
                  epoch, train_l, train_a, test_l, test_acc, total_seconds, batch, double(lr), double(momentum),
                  static_cast<unsigned long long>(seed), hush::threads());
    hush::io::write_file_atomically(out / "summary.md", std::string(summary));
    hush::save_checkpoint(out / "checkpoint.safetensors", model.net, opt, {{"epoch", std::to_string(epoch)}});
  }
  hush::save_weights(model.net, fs::path(out_dir) / "model.safetensors",  // hush-infer prints the names
                     {{hush::data::class_names_key, hush::data::join_class_names(hush::data::fashion_mnist_class_names())},
                      {hush::data::input_key, hush::data::trained_input{28, false}.text()}});
  std::printf("final test accuracy %.2f%%; results in %s/ (summary.md, log.csv, curves.png, model.safetensors)\n", test_acc,
              out_dir.c_str());
  return 0;
  });
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-train-fashion-mnist: %s\n", hush::explain(e).c_str());
  return 1;
}
