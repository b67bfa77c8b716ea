// hush-bench-device: bench/vs_torch.py's whole-model workloads (bench/model_workloads.hpp) on the
// device this program chooses: the GPU when it was built by nvcc (cmake --preset cuda) and one is
// present, else the CPU; HUSH_DEVICE=cpu|cuda chooses. One JSON line per workload, as
// hush-bench-peer prints them, with the device. scripts/gpu-check runs it on a GPU.
//   build-cuda/bin/hush-bench-device --workloads resnet50_train_b8 --reps 5
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "hush/backend/devices.hpp"
#include "hush/hush.hpp"
#include "model_workloads.hpp"

int main(int argc, char** argv) {
  CLI::App app{"bench/vs_torch.py's model workloads on the device chosen (a GPU in a CUDA build), one JSON line each"};
  std::vector<std::string> wanted;
  int reps = 5, warmup = 2;
  bool list = false;
  app.add_option("--workloads", wanted, "workload names (default: all; --list shows them)")->delimiter(',');
  app.add_option("--reps", reps, "timed iterations per workload")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "untimed iterations first")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_flag("--list", list, "print the workload names and exit");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto device = hush::choose_device();  // HUSH_DEVICE, or the best device found
    std::cerr << device.line() << '\n';
    return hush::with_device(device, [&](auto backend) {
      std::map<std::string, hush::bench::workload> all;
      hush::bench::model_workloads<decltype(backend)>{backend}.add_to(all);
      if (list) {
        for (const auto& [name, w] : all) std::cout << name << '\n';
        return 0;
      }
      if (wanted.empty())
        for (const auto& [name, w] : all) wanted.push_back(name);
      for (const auto& name : wanted)
        if (!all.count(name)) {
          std::cerr << "hush-bench-device: unknown workload '" << name << "'; --list shows the valid ones\n";
          return 2;
        }
      for (const auto& name : wanted) {
        auto iteration = all.at(name).make();
        for (int i = 0; i < warmup; ++i) iteration();
        std::ostringstream line;
        line << R"({"framework": "hush", "device": ")" << (device.device == hush::device::cuda ? "cuda" : "cpu")
             << R"(", "workload": ")" << name << R"(", "ms": [)";
        for (int i = 0; i < reps; ++i) {
          const auto t0 = std::chrono::steady_clock::now();
          iteration();
          line << (i ? ", " : "") << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        }
        std::cout << line.str() << "]}" << std::endl;
      }
      return 0;
    });
  } catch (const std::exception& e) {
    std::cerr << "hush-bench-device: " << hush::explain(e) << '\n';
    return 1;
  }
}
