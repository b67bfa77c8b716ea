#pragma once
// hush-denoise-app's work, apart from HTTP: the photos waiting, the one being denoised and the
// finished ones, each a job under an unguessable id (a page sees only the jobs it made). One
// worker thread denoises one photo at a time, since the network already uses every core; the
// others wait in a bounded queue, and a page learns its place in it. A job's files (the photo as
// decoded, the denoised photo) are written atomically into its own folder only once the whole
// photo is done: a job cancelled or a server stopped mid-photo leaves no file, half-written or
// whole. Only the newest `keep` finished jobs are kept, so memory and disk stay bounded however
// long the server runs.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "../denoisers.hpp"
#include "hush/io/atomic_file.hpp"
#include "hush/io/opencv.hpp"
#include "hush/metrics/quality.hpp"

namespace hush::app {

/// A request the server refuses, with the HTTP status that says why (400, 404, 413, 503).
struct refused : error {
  refused(int http_status, const std::string& what) : error(what), status(http_status) {}
  int status;
};

enum class job_state { queued, running, done, failed, cancelled };

inline const char* name(job_state s) {
  constexpr const char* names[] = {"queued", "running", "done", "failed", "cancelled"};
  return names[int(s)];
}

/// What a page uploads: the noisy photo's encoded bytes, optionally the clean original's (for
/// PSNR and SSIM), and the model to use.
struct job_request {
  std::string image_name, reference_name, model;
  std::string image, reference;  // encoded bytes, as uploaded
};

/// What a page polls.
struct job_status {
  std::string id, model, image_name;
  job_state state = job_state::queued;
  std::int64_t width = 0, height = 0;
  std::int64_t ahead = 0;  // jobs before this one, while queued
  std::int64_t tiles_done = 0, tiles_total = 0;
  double seconds = 0;                            // the denoising itself, once done
  std::string message;                           // why it failed or was cancelled
  std::optional<std::array<double, 4>> quality;  // noisy PSNR, SSIM; denoised PSNR, SSIM
};

/// A model a page can choose: its key, what it is, and where its weights are.
struct model_entry {
  std::string key, description;
  std::filesystem::path weights;
};

class job_queue {
 public:
  struct limits {
    std::size_t max_waiting = 8;  // queued jobs beyond the running one; more are refused (503)
    std::size_t keep = 64;        // finished jobs kept (their files too); older ones are removed
    std::int64_t max_pixels = io::default_max_pixels;
    std::int64_t tile = 512;  // denoise::apply's tile side
  };
  /// Loads a model's weights when a job first needs it (on the worker thread).
  using loader = std::function<tools::loaded_denoiser(const model_entry&)>;
  /// Told of each job the worker has finished (done, failed or cancelled), on its thread.
  using reporter = std::function<void(const job_status&)>;

  job_queue(std::filesystem::path work, std::vector<model_entry> models, loader load, limits l, reporter report = {})
      : work_(std::move(work)),
        models_(std::move(models)),
        load_(std::move(load)),
        report_(std::move(report)),
        limits_(l) {
    worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }
  ~job_queue() { stop(); }
  job_queue(const job_queue&) = delete;
  job_queue& operator=(const job_queue&) = delete;

  const std::vector<model_entry>& models() const { return models_; }

  /// Checks a request without decoding it (the headers' sizes against the pixel limit, the
  /// model's name, the reference's size) and queues it; returns its status. Throws refused.
  job_status submit(job_request r) {
    if (r.image.empty()) throw refused(400, "no photo in the request: choose a photo first");
    if (r.model.empty()) r.model = models_.front().key;
    const auto m = std::find_if(models_.begin(), models_.end(), [&](const model_entry& e) { return e.key == r.model; });
    if (m == models_.end()) throw refused(400, "no model named '" + r.model + "' here");
    const auto size = checked_size(r.image_name, r.image);
    if (!r.reference.empty()) {
      const auto ref = checked_size(r.reference_name, r.reference);
      if (ref.width != size.width || ref.height != size.height)
        throw refused(400, r.reference_name + " is " + std::to_string(ref.width) + " x " + std::to_string(ref.height) +
                               ", " + r.image_name + " is " + std::to_string(size.width) + " x " +
                               std::to_string(size.height) + ": the clean original must have the noisy photo's size");
    }
    std::lock_guard lock(mutex_);
    if (stopping_) throw refused(503, "the server is stopping");
    if (waiting_.size() >= limits_.max_waiting)
      throw refused(503, "busy: " + std::to_string(waiting_.size()) + " photos are waiting; try again in a minute");
    auto j = std::make_shared<job>();
    j->status.id = new_id();
    j->status.model = r.model, j->status.image_name = r.image_name;
    j->status.width = size.width, j->status.height = size.height;
    j->request = std::move(r);
    jobs_[j->status.id] = j;
    waiting_.push_back(j);
    changed_.notify_all();
    return status_of(*j);
  }

  std::optional<job_status> status(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    return status_of(*it->second);
  }

  /// Waits until the job has finished (done, failed or cancelled), or `timeout` passed.
  std::optional<job_status> wait(const std::string& id, std::chrono::seconds timeout) {
    std::unique_lock lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    const auto j = it->second;
    changed_.wait_for(lock, timeout, [&] { return finished(j->status.state); });
    return status_of(*j);
  }

  /// A waiting job leaves the queue; the running one stops before its next tile; a finished one
  /// is left as it is. Returns its status then, or nothing when the id is unknown.
  std::optional<job_status> cancel(const std::string& id) {
    std::lock_guard lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    const auto j = it->second;  // finish() may let the map's entry go
    if (j->status.state == job_state::queued) {
      std::erase(waiting_, j);
      finish(j, job_state::cancelled, "cancelled before it started");
    } else if (j->status.state == job_state::running) {
      j->stop.request_stop();
    }
    return status_of(*j);
  }

  /// A finished job's file ("input.png": the photo as the network saw it; "denoised.png").
  std::optional<std::filesystem::path> file(const std::string& id, const std::string& which) const {
    std::lock_guard lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->status.state != job_state::done) return std::nullopt;
    return work_ / id / which;
  }

  /// Cancels every job and stops the worker (after its current tile); idempotent.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (auto& j : waiting_) finish(j, job_state::cancelled, "the server stopped");
      waiting_.clear();
      if (running_) running_->stop.request_stop();
      changed_.notify_all();
    }
    if (worker_.joinable()) {
      worker_.request_stop();
      worker_.join();
    }
  }

 private:
  struct job {
    job_status status;
    job_request request;
    std::stop_source stop;
  };

  static bool finished(job_state s) {
    return s == job_state::done || s == job_state::failed || s == job_state::cancelled;
  }

  io::image_size checked_size(const std::string& name, const std::string& bytes) const {
    const auto size =
        io::read_image_size(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()));
    if (!size) throw refused(400, name + ": not an image hush reads (PNG, JPEG, BMP, PNM, TIFF or WebP)");
    if (size->width <= 0 || size->height <= 0)
      throw refused(400, name + ": its header gives no pixels: a broken image");
    if (size->width > limits_.max_pixels / size->height)
      throw refused(413, name + ": " + std::to_string(size->width) + " x " + std::to_string(size->height) +
                             " pixels, above this server's limit of " + std::to_string(limits_.max_pixels));
    return *size;
  }

  /// 128 bits from the system's random source (getrandom): an id cannot be guessed from others.
  static std::string new_id() {
    static std::random_device device;
    char text[33];
    for (int i = 0; i < 4; ++i) std::snprintf(text + 8 * i, 9, "%08x", static_cast<unsigned>(device()));
    return text;
  }

  /// Under the lock. A queued job's place: the jobs before it in the queue, and the running one.
  job_status status_of(const job& j) const {
    auto s = j.status;
    if (s.state == job_state::queued) {
      const auto place = std::find_if(waiting_.begin(), waiting_.end(), [&](const auto& w) { return w.get() == &j; });
      s.ahead = (place - waiting_.begin()) + (running_ ? 1 : 0);
    }
    return s;
  }

  /// Under the lock: the job's last state; its request's bytes are let go, and the oldest
  /// finished jobs beyond `keep` removed with their files.
  void finish(const std::shared_ptr<job>& j, job_state state, std::string message = {}) {
    j->status.state = state, j->status.message = std::move(message);
    j->request = {};
    finished_.push_back(j->status.id);
    while (finished_.size() > limits_.keep) {
      std::error_code ec;
      std::filesystem::remove_all(work_ / finished_.front(), ec);
      jobs_.erase(finished_.front());
      finished_.pop_front();
    }
    changed_.notify_all();
  }

  void run(std::stop_token stop) {
    for (;;) {
      std::shared_ptr<job> j;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return stop.stop_requested() || stopping_ || !waiting_.empty(); });
        if (stop.stop_requested() || stopping_) return;
        j = waiting_.front();
        waiting_.pop_front();
        running_ = j;
        j->status.state = job_state::running;
        changed_.notify_all();
      }
      job_state state = job_state::done;
      std::string message;
      try {
        denoise(*j);
      } catch (const cancelled&) {
        state = job_state::cancelled;
      } catch (const std::exception& e) {
        state = job_state::failed, message = explain(e);
      }
      job_status last;
      {
        std::lock_guard lock(mutex_);
        if (state == job_state::cancelled) message = stopping_ ? "the server stopped" : "cancelled";
        running_.reset();
        finish(j, state, message);
        last = j->status;
      }
      if (report_) report_(last);
    }
  }

  /// On the worker thread, without the lock but for progress.
  void denoise(job& j) {
    const auto& entry =
        *std::find_if(models_.begin(), models_.end(), [&](const model_entry& e) { return e.key == j.status.model; });
    auto& d = loaded_[entry.key];
    if (!d.run) d = load_(entry);
    const int flags = d.choice.channels == 3 ? cv::IMREAD_COLOR : cv::IMREAD_GRAYSCALE;
    const auto decode = [&](const std::string& bytes, const std::string& name) {
      return io::decode_image(std::span(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()), name,
                              flags, limits_.max_pixels);
    };
    const tensor noisy = io::to_tensor(decode(j.request.image, j.request.image_name));
    tensor clean;
    if (!j.request.reference.empty()) clean = io::to_tensor(decode(j.request.reference, j.request.reference_name));
    denoise::apply_options how;
    how.tile = limits_.tile, how.label = j.status.id, how.stop = j.stop.get_token();
    how.on_tile = [&](std::int64_t done, std::int64_t total) {
      std::lock_guard lock(mutex_);
      j.status.tiles_done = done, j.status.tiles_total = total;
      changed_.notify_all();
    };
    const auto start = std::chrono::steady_clock::now();
    tensor y = d.run(noisy, how);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto& v : y.values()) v = std::clamp(v, 0.0f, 1.0f);
    std::optional<std::array<double, 4>> quality;
    if (!clean.empty())
      quality = {metrics::psnr(clean, noisy), metrics::ssim(clean, noisy), metrics::psnr(clean, y),
                 metrics::ssim(clean, y)};
    // The photo is done: its files, each whole or not at all (renamed into place; not synced to
    // disk, as they live no longer than the job). PNG at low compression: the page shows them at
    // once. The job's folder is new, so no earlier write left anything in it to look for.
    const auto folder = work_ / j.status.id;
    std::filesystem::create_directories(folder);
    for (const auto& [file, image] :
         {std::pair<const char*, const tensor*>{"input.png", &noisy}, {"denoised.png", &y}}) {
      const auto bytes = io::encode_image(io::to_image(*image, CV_8U), ".png", file, {cv::IMWRITE_PNG_COMPRESSION, 1});
      io::write_file_atomically(folder / file, bytes.data(), bytes.size(), {.sync = false, .remove_stale = false});
    }
    std::lock_guard lock(mutex_);
    j.status.seconds = seconds, j.status.quality = quality;
  }

  std::filesystem::path work_;
  std::vector<model_entry> models_;
  loader load_;
  reporter report_;
  limits limits_;
  std::map<std::string, tools::loaded_denoiser> loaded_;  // the worker's alone

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::shared_ptr<job>> jobs_;
  std::deque<std::shared_ptr<job>> waiting_;
  std::deque<std::string> finished_;  // oldest first
  std::shared_ptr<job> running_;
  bool stopping_ = false;
  std::jthread worker_;  // last: it starts once everything it uses exists
};

}  // namespace hush::app
