#pragma once
// What the trainers share: the running loss of an epoch (its mean for the progress line, the
// mean of each tenth for the curves); the files kept in the output folder: after each epoch the
// checkpoint (weights, optimizer, the run's settings and its history as CSV) first, so that the
// log and curves are never ahead of it, then weights.safetensors (with the run's metadata),
// log.csv and curves.png; the resume that reads them back; a data-parallel epoch's communication line.
// A History has csv(), tenths_csv(), plot(path, title), a vector `epochs` whose rows have
// `epoch`, and a static parse(csv, tenths, where).
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/distributed/gradient_averager.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/checkpoint.hpp"
#include "hush/io/weights.hpp"

namespace hush::train::detail {

/// The error that stops a run whose loss is not finite, naming where (`kept`: a checkpoint exists).
inline error non_finite_loss(const std::string& title, double l, int epoch, std::int64_t step, bool kept) {
  return error(title + ": the loss is " + std::to_string(l) + " at epoch " + std::to_string(epoch) + ", step " +
               std::to_string(step) + (kept ? "; the checkpoint of the last whole epoch is kept" : "") +
               " (a lower learning rate may help)");
}

/// One epoch's losses, step by step.
struct epoch_loss {
  int epoch;
  std::int64_t steps;
  double sum = 0, window = 0;
  std::int64_t seen = 0, window_steps = 0;

  /// Adds the next step's loss; closes a tenth of the epoch into `tenths` (epoch as a fraction, mean).
  void add(double l, std::vector<std::array<double, 2>>& tenths) {
    const auto s = seen++;
    sum += l, window += l, ++window_steps;
    if ((s + 1) * 10 / steps != s * 10 / steps) {
      tenths.push_back({epoch - 1 + double(s + 1) / double(steps), window / double(window_steps)});
      window = 0, window_steps = 0;
    }
  }
  double mean() const { return seen ? sum / double(seen) : 0.0; }
  /// "loss 0.01234", for the progress line.
  std::string text() const {
    char t[64];
    std::snprintf(t, sizeof t, "loss %.5f", mean());
    return t;
  }
};

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
                   const std::string& title, bool say = true) {
  auto info = resume_checkpoint(checkpoint, run, trained{"", net, opt});
  auto h = History::parse(info["log"], info["tenths"], checkpoint.string());
  const int done = int(h.epochs.size());
  if (done < 1 || done > epochs || h.epochs.back().epoch != done)
    throw io_error(checkpoint.string() + ": its log ends at epoch " + std::to_string(done) + ", not one of this run's 1 to " +
                   std::to_string(epochs));
  if (say) std::printf("%s: resuming after epoch %d of %d (%s)\n", title.c_str(), done, epochs, checkpoint.c_str());
  return h;
}

/// A data-parallel epoch's line about communication: the seconds spent in collectives per step
/// and their share of training, and how the gradients travelled.
inline void print_communication(const std::string& title, int epoch, double comm_seconds, double train_seconds,
                                std::int64_t steps, const distributed::gradient_averager& a) {
  std::printf("%s epoch %d: communication %.1f ms per step, %.1f%% of training (%zu gradient floats in %zu buckets: "
              "%.1f ms per step sent during backward, %.1f ms waited for after it)\n",
              title.c_str(), epoch, 1e3 * comm_seconds / double(steps), 100.0 * comm_seconds / train_seconds, a.floats(),
              a.buckets(), 1e3 * a.time().during_backward / double(steps), 1e3 * a.time().after_backward / double(steps));
}

}  // namespace hush::train::detail
