// A short real training run: the loss falls and the accuracy rises well above chance.
#include <doctest/doctest.h>

#include <cstdlib>

#include "hush/hush.hpp"
#include "hush/models/fashion_cnn.hpp"

TEST_CASE("fashion_cnn learns Fashion-MNIST: 2 epochs over 2,048 images") {
  const char* dir = std::getenv("HUSH_FASHION_MNIST");
  const auto train = hush::data::fashion_mnist(dir ? dir : hush::data::default_fashion_mnist_dir, "train");
  hush::model<hush::models::fashion_cnn, hush::backend::cpu> model({.seed = 1}, hush::models::fashion_cnn({.width = 8}));
  model.setup({32, 1, 28, 28});
  hush::sgd opt(model.net, {.lr = 0.05f, .momentum = 0.9f});
  hush::cross_entropy loss;
  hush::tensor x, y;
  const std::int64_t n = 2048, batch = 32, steps = n / batch;
  std::vector<double> epoch_loss, epoch_acc;
  for (std::uint64_t epoch = 1; epoch <= 2; ++epoch) {
    const auto order = hush::data::shuffled_order(n, 1, epoch);
    double sum = 0;
    std::int64_t hits = 0;
    for (std::int64_t s = 0; s < steps; ++s) {
      hush::data::gather(train.images, order, s * batch, (s + 1) * batch, x);
      hush::data::gather(train.labels, order, s * batch, (s + 1) * batch, y);
      model.zero_grad();
      const auto& logits = model.forward(x);
      sum += loss.forward(model.ctx, logits, y);
      hits += hush::metrics::correct(logits, y);
      model.backward(loss.backward());
      opt.step(model.ctx.backend);
    }
    epoch_loss.push_back(sum / steps);
    epoch_acc.push_back(double(hits) / n);
    MESSAGE("epoch " << epoch << ": loss " << epoch_loss.back() << ", accuracy " << epoch_acc.back());
  }
  CHECK(epoch_loss[0] < 2.0);  // below log(10) = 2.30: it learned during the first epoch
  CHECK(epoch_loss[1] < 0.8 * epoch_loss[0]);
  CHECK(epoch_acc[1] > 0.65);  // chance is 0.10
}
