// libFuzzer harness: a checkpoint and its training log, as `fit --resume` reads them, on
// arbitrary bytes (fuzz/README.md).
#include "harness.hpp"
#include "hush/hush.hpp"
#include "hush/train/classifier.hpp"

namespace {
using net = hush::seq<hush::conv2d, hush::batch_norm2d, hush::relu, hush::global_avg_pool, hush::linear>;

hush::model<net, hush::backend::cpu>& the_model() {
  static hush::model<net, hush::backend::cpu> m = [] {
    hush::model<net, hush::backend::cpu> made({.seed = 1}, net(hush::conv2d({.in = 1, .out = 4, .kernel = 3, .padding = 1}),
                                                               hush::batch_norm2d(4), {}, {}, hush::linear({.in = 4, .out = 2})));
    made.setup({2, 1, 8, 8});
    return made;
  }();
  return m;
}
hush::sgd& the_optimizer() {
  static hush::sgd opt(the_model().net, {.lr = 0.1f, .momentum = 0.9f});
  return opt;
}
}  // namespace

// The seed corpus: a real checkpoint of this network with a two-epoch log, written where
// HUSH_FUZZ_SEED_DIR says (fuzz/run.sh), so that it always has the current format.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("HUSH_FUZZ_SEED_DIR"))
    hush::save_checkpoint(std::filesystem::path(dir) / "checkpoint.safetensors", the_model().net, the_optimizer(),
                          {{"epoch", "2"},
                           {"run", "fuzz"},
                           {"log", "epoch,train_loss,train_accuracy,train_seconds,eval_seconds,eval_images,clean\n"
                                   "1,0.69000,55.000,0.1,0.0,20,60.000\n2,0.52000,75.500,0.1,0.0,20,80.000\n"},
                           {"tenths", "0.5000,0.700000,52.0000\n1.0000,0.680000,58.0000\n"}});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& m = the_model();
  auto& opt = the_optimizer();
  hush::fuzz::as_file file(data, size, ".safetensors");
  hush::fuzz::expect_clean_error([&] {
    auto info = hush::load_checkpoint(file.path, m.net, opt);
    (void)hush::train::history::parse(info["log"], info["tenths"], file.path.string());
    (void)hush::train::detail::epoch_of(info["epoch"], file.path.string());
  });
  // The log alone, as text: a csv, a NUL, then the tenths.
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto cut = text.find('\0');
  hush::fuzz::expect_clean_error([&] {
    (void)hush::train::history::parse(text.substr(0, cut), cut == std::string::npos ? "" : text.substr(cut + 1), "log");
  });
  return 0;
}
