// hush-resnet50: ResNet-50 (torchvision's layout and names) trained for a few SGD steps on a batch
// of images, then run in inference mode: a quick look at what a step and an inference cost here, and
// the example whose compile cost bench/compile_cost/run.sh reports beside the network alone.
//   build/bin/hush-resnet50 --steps 5 --batch 8
//   build/bin/hush-resnet50 --weights resnet50.safetensors --steps 3 --save tuned.safetensors
// Without --weights the network starts from PyTorch's default initialisation; the batch is random
// (a fixed seed) with random labels, so the loss falls as the network memorises it.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

#include "hush/backend/devices.hpp"
#include "hush/hush.hpp"
#include "hush/models/resnet.hpp"

int main(int argc, char** argv) try {
  CLI::App app{"Train ResNet-50 for a few steps on one batch, then time inference"};
  int steps = 5, threads = 0;
  std::int64_t batch = 8, size = 224, classes = 1000;
  std::string weights, save;
  app.add_option("--steps", steps, "SGD steps on the batch")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "images in the batch")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--size", size, "image side in pixels")->capture_default_str()->check(CLI::Range(32, 1024));
  app.add_option("--classes", classes, "classes of the last layer")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--weights", weights, "start from this state_dict (safetensors, torchvision's names)");
  app.add_option("--save", save, "write the trained weights here (safetensors)");
  app.add_option("--threads", threads, "threads (0: all cores)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) hush::set_threads(threads);

  // The GPU when this program has a CUDA path and one is present, else the CPU (HUSH_DEVICE chooses).
  const auto device = hush::choose_device();
  std::printf("%s\n", device.line().c_str());
  return hush::with_device(device, [&](auto backend) {
  using net = hush::models::resnet50;
  hush::model<net, decltype(backend)> model({.seed = 1, .backend = backend}, net({.channels = 3, .classes = classes}));
  hush::tensor host_x({batch, 3, size, size});
  hush::index_tensor host_labels({batch});
  hush::init_uniform(host_x, hush::counter_rng(7), 0, 1.0f);
  for (std::int64_t i = 0; i < batch; ++i) host_labels[i] = std::int32_t((i * 7919) % classes);
  const auto& x = hush::to(backend, host_x);  // where the model runs (a copy on a GPU)
  const auto& labels = hush::to(backend, host_labels);
  model.setup(x.shape());
  if (!weights.empty()) hush::load_weights(model.net, weights);

  hush::cross_entropy loss;
  hush::sgd sgd(model.net, {.lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-4f});
  using clock = std::chrono::steady_clock;
  const auto ms = [](clock::time_point t0) { return std::chrono::duration<double, std::milli>(clock::now() - t0).count(); };
  model.train();
  for (int s = 1; s <= steps; ++s) {
    const auto t0 = clock::now();
    model.zero_grad();
    const float l = loss.forward(model.ctx, model.forward(x), labels);
    model.backward(loss.backward(model.ctx));
    sgd.step(model.ctx.backend);
    std::printf("step %d/%d  loss %.4f  %.0f ms\n", s, steps, l, ms(t0));
  }
  model.infer();     // eval-mode arithmetic, batch norm folded into the convolutions
  model.forward(x);  // the first pass folds and sets up; time the second
  const auto t0 = clock::now();
  const auto& logits = model.forward(x);
  const double t = ms(t0);
  std::printf("inference: batch %lld in %.0f ms (%.1f images/s), logits %s\n", static_cast<long long>(batch), t,
              1000.0 * double(batch) / t, logits.shape().str().c_str());
  if (!save.empty()) {
    hush::save_weights(model.net, save);
    std::printf("%s: weights written\n", save.c_str());
  }
  return 0;
  });
} catch (const std::exception& e) {
  std::fprintf(stderr, "hush-resnet50: %s\n", hush::explain(e).c_str());
  return 1;
}
