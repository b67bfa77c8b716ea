#pragma once
// The files a single-network trainer keeps in its output folder, shared by fit_denoiser and
// fit_mae: after each epoch the checkpoint (weights, optimizer, the run's settings and its
// history as CSV) first, so that the log and curves are never ahead of it, then weights.safetensors
// (with the run's metadata), log.csv and curves.png; and the resume that reads them back.
// A History has csv(), tenths_csv(), plot(path, title), a vector `epochs` whose rows have
// `epoch`, and a static parse(csv, tenths, where).
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "hush/core/error.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/weights.hpp"

namespace hush::train::detail {

template <class Net, class Optimizer, class History>
void write_run_files(const std::filesystem::path& out, Net& net, Optimizer& opt,
                     const std::map<std::string, std::string>& metadata, int epoch, const std::string& run,
                     const History& h, const std::string& title) {
  std::filesystem::create_directories(out);
  auto info = metadata;
  info.insert({{"epoch", std::to_string(epoch)}, {"run", run}, {"log", h.csv()}, {"tenths", h.tenths_csv()}});
  save_checkpoint(out / "checkpoint.safetensors", net, opt, info);
  io::safetensors_writer w;
  add_weights(w, net);
  for (const auto& [k, v] : metadata) w.metadata(k, v);
  w.metadata("hush.epoch", std::to_string(epoch));
  w.write(out / "weights.safetensors");
  io::write_file_atomically(out / "log.csv", h.csv());
  h.plot(out / "curves.png", title);
}

/// Loads the checkpoint into net and opt (all or nothing), refuses one of another run, and gives
/// its history, which must end at an epoch of this run's 1 to `epochs`.
template <class History, class Net, class Optimizer>
History resume_run(const std::filesystem::path& checkpoint, Net& net, Optimizer& opt, const std::string& run, int epochs,
                   const std::string& title) {
  auto info = load_checkpoint(checkpoint, net, opt);
  require_same_run(info, run, checkpoint);
  auto h = History::parse(info["log"], info["tenths"], checkpoint.string());
  const int done = int(h.epochs.size());
  if (done < 1 || done > epochs || h.epochs.back().epoch != done)
    throw io_error(checkpoint.string() + ": its log ends at epoch " + std::to_string(done) + ", not one of this run's 1 to " +
                   std::to_string(epochs));
  std::printf("%s: resuming after epoch %d of %d (%s)\n", title.c_str(), done, epochs, checkpoint.c_str());
  return h;
}

}  // namespace hush::train::detail
