// hush-denoise-app: hush's denoisers behind a local web page, for people who would rather not
// write C++. It serves one page (pick or drop a photo, choose a model, Denoise, watch the
// progress, compare noisy and denoised with a split-view slider and zoom, score against the
// clean original, download) and the JSON API the page uses, which curl can use too:
//   hush-denoise-app                                   http://127.0.0.1:8080/
//   curl -F image=@noisy.png -F reference=@clean.png 'http://127.0.0.1:8080/api/jobs?wait=1'
//   curl -o denoised.png http://127.0.0.1:8080/api/jobs/<id>/denoised.png
// Bound to 127.0.0.1 unless --host says otherwise. Uploads are capped in bytes and pixels (a
// decompression bomb is refused from its header), requests name jobs by id only (no path from
// a request reaches the file system), photos are denoised one at a time in arrival order
// (tools/denoise_app/jobs.hpp), and SIGINT or SIGTERM stops it cleanly: the photo being denoised
// is abandoned between two tiles and no file is left half-written.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "denoise_app/jobs.hpp"
#include "denoise_app_page.hpp"  // generated from denoise_app/page.html
#include "denoisers.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct app_args {
  std::string host = "127.0.0.1", models_dir, work;
  int port = 8080, http_threads = 32;
  std::int64_t max_upload_mb = 64;
  hush::app::job_queue::limits limits;
};

/// The models a page may choose: the shipped blind denoiser first (the default), then every
/// denoiser's weights in `dir` (its file name without .safetensors is its key). Files that are
/// not a denoiser's weights are named and left out.
std::vector<hush::app::model_entry> find_models(const fs::path& shipped, const std::string& dir) {
  std::vector<hush::app::model_entry> models;
  if (fs::exists(shipped))
    models.push_back({"blind", "shipped blind denoiser: " + hush::tools::describe_denoiser(shipped), shipped});
  if (!dir.empty()) {
    if (!fs::is_directory(dir)) throw hush::io_error(dir + ": --models is not a folder");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".safetensors") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) try {
        const auto key = path.stem().string();
        if (key == "blind" && !models.empty())
          throw hush::error(path.string() + ": 'blind' is the shipped model's name");
        models.push_back({key, hush::tools::describe_denoiser(path), path});
      } catch (const std::exception& e) {
        std::printf("models: left out %s\n", hush::explain(e).c_str());
      }
  }
  if (models.empty())
    throw hush::io_error("no model: the shipped denoiser is not at " + shipped.string() + " and --models gave none");
  return models;
}

json to_json(const hush::app::job_status& s) {
  json j{{"id", s.id},
         {"state", hush::app::name(s.state)},
         {"model", s.model},
         {"image", s.image_name},
         {"width", s.width},
         {"height", s.height},
         {"ahead", s.ahead},
         {"tiles_done", s.tiles_done},
         {"tiles_total", s.tiles_total},
         {"seconds", s.seconds},
         {"message", s.message}};
  if (s.quality) {
    const auto& q = *s.quality;
    j["quality"] = {{"noisy", {{"psnr", q[0]}, {"ssim", q[1]}}}, {"denoised", {{"psnr", q[2]}, {"ssim", q[3]}}}};
  }
  if (s.state == hush::app::job_state::done)
    j["input"] = "/api/jobs/" + s.id + "/input.png", j["denoised"] = "/api/jobs/" + s.id + "/denoised.png";
  return j;
}

/// The whole file, or false when it cannot be read (removed since: the job was let go).
bool read_whole(const fs::path& path, std::string& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // A file name that is not UTF-8 (a Latin-1 file system's) is shown with U+FFFD, not refused.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply(res, status, json{{"error", message}});
}

/// The work folder: the one given (its leftover job folders from an earlier run removed), or a
/// fresh one under the system's temporary folder, removed at exit.
fs::path prepare_work(const std::string& given, bool& owned) {
  owned = given.empty();
  if (owned) {
    std::string pattern = (fs::temp_directory_path() / "hush-denoise-app-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw hush::io_error(pattern + ": cannot create the work folder");
    return pattern;
  }
  hush::io::check_output_folder(given);
  fs::create_directories(given);
  const std::regex job_folder("[0-9a-f]{32}");
  for (const auto& e : fs::directory_iterator(given))
    if (e.is_directory() && std::regex_match(e.path().filename().string(), job_folder)) fs::remove_all(e.path());
  return given;
}

int serve(const app_args& a, const char* argv0) {
  // SIGINT and SIGTERM go to one thread that stops the server (blocked here, before any thread
  // starts, so every thread inherits the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto device = hush::tools::denoiser_device();
  std::printf("%s\n", device.line().c_str());
  const auto models = find_models(hush::tools::shipped_weights(argv0), a.models_dir);
  for (const auto& m : models)
    std::printf("model %s: %s (%s)\n", m.key.c_str(), m.description.c_str(), m.weights.c_str());
  bool owned = false;
  const fs::path work = prepare_work(a.work, owned);
  hush::app::job_queue jobs(
      work, models,
      [&](const hush::app::model_entry& m) { return hush::tools::load_denoiser(device, m.weights.string()); }, a.limits,
      [](const hush::app::job_status& s) {
        if (s.state == hush::app::job_state::done)
          std::printf("job %s: done in %.2f s (%.2f megapixels/s)\n", s.id.c_str(), s.seconds,
                      double(s.width * s.height) / std::max(s.seconds, 1e-9) / 1e6);
        else
          std::printf("job %s: %s (%s)\n", s.id.c_str(), hush::app::name(s.state), s.message.c_str());
        std::fflush(stdout);
      });

  httplib::Server server;
  server.new_task_queue = [n = a.http_threads] { return new httplib::ThreadPool(std::size_t(n)); };
  server.set_payload_max_length(std::size_t(a.max_upload_mb) << 20);  // for uploads with a Content-Length
  // httplib holds a request's size to the limit only through its Content-Length: a body without
  // one (chunked) would be read whole, however large. Such uploads are refused before their body
  // is read, and so is a POST from another site's page (a browser sends its Origin): only this
  // server's page, or a client that sends no Origin (curl), may queue work.
  const std::size_t max_upload = std::size_t(a.max_upload_mb) << 20;
  server.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "POST") return httplib::Server::HandlerResponse::Unhandled;
    if (req.has_header("Transfer-Encoding") || !req.has_header("Content-Length")) {
      reply_error(res, 411, "send the upload with a Content-Length (chunked uploads are refused)");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Origin") && req.get_header_value("Origin") != "http://" + req.get_header_value("Host")) {
      reply_error(res, 403, "requests from another site's page (" + req.get_header_value("Origin") + ") are refused");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // curl asks before sending a large body (Expect: 100-continue): an upload over the limit is
  // refused then, not after it has been received.
  server.set_expect_100_continue_handler([&](const httplib::Request& req, httplib::Response& res) {
    // (No exception may leave this handler: httplib calls it outside its own try. A length too
    // long to read is too large.)
    const std::string length = req.get_header_value("Content-Length");
    std::size_t n = max_upload + 1;
    if (length.size() < 19 && !length.empty() && length.find_first_not_of("0123456789") == std::string::npos)
      n = std::stoull(length);
    if (n <= max_upload) return 100;
    reply_error(res, 413,
                "the upload is larger than this server's limit of " + std::to_string(a.max_upload_mb) + " MB");
    return 413;
  });
  // A reply goes out as headers, then body: with Nagle's algorithm the body waits for the
  // client's delayed ACK of the headers (40 ms on Linux), longer than a small photo's denoising.
  server.set_tcp_nodelay(true);
  // Every refusal, httplib's own too (413, 404), as JSON with a sentence a person can act on.
  const httplib::Server::HandlerWithResponse on_error = [&](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string message = res.status == 413 ? "the upload is larger than this server's limit of " +
                                                        std::to_string(a.max_upload_mb) + " MB"
                                : res.status == 404 ? "nothing here"
                                                    : "request refused (HTTP " + std::to_string(res.status) + ")";
    reply_error(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(on_error);
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      reply_error(res, 500, hush::explain(x));
    } catch (...) {
      reply_error(res, 500, "unknown error");
    }
  });

  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(hush::app::page_html, "text/html; charset=utf-8");
  });
  server.Get("/api/config", [&](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const auto& m : jobs.models()) list.push_back({{"key", m.key}, {"description", m.description}});
    reply(res, 200,
          json{{"models", list}, {"max_upload_bytes", a.max_upload_mb << 20}, {"max_pixels", a.limits.max_pixels}});
  });
  server.Post("/api/jobs", [&](const httplib::Request& req, httplib::Response& res) {
    try {
      hush::app::job_request r;
      // The parts by reference: a photo is copied once, into the job.
      const auto part = [&](const char* name) {
        const auto it = req.files.find(name);
        return it == req.files.end() ? nullptr : &it->second;
      };
      if (const auto* f = part("image"))
        r.image_name = f->filename.empty() ? "the photo" : f->filename, r.image = f->content;
      if (const auto* f = part("reference"))
        r.reference_name = f->filename.empty() ? "the clean original" : f->filename, r.reference = f->content;
      if (const auto* f = part("model")) r.model = f->content;
      if (req.has_param("model")) r.model = req.get_param_value("model");
      auto status = jobs.submit(std::move(r));
      std::printf("job %s: %s, %lld x %lld, %s, queued\n", status.id.c_str(), status.image_name.c_str(),
                  static_cast<long long>(status.width), static_cast<long long>(status.height), status.model.c_str());
      std::fflush(stdout);
      if (req.has_param("wait"))
        if (const auto done = jobs.wait(status.id, std::chrono::seconds(3600))) status = *done;
      reply(res, req.has_param("wait") ? 200 : 202, to_json(status));
    } catch (const hush::app::refused& e) {
      reply_error(res, e.status, e.what());
    }
  });
  const std::string id = "/api/jobs/([0-9a-f]{32})";
  server.Get(id, [&](const httplib::Request& req, httplib::Response& res) {
    if (const auto s = jobs.status(req.matches[1])) return reply(res, 200, to_json(*s));
    reply_error(res, 404, "no job " + std::string(req.matches[1]) + " (finished jobs are kept for a while only)");
  });
  server.Post(id + "/cancel", [&](const httplib::Request& req, httplib::Response& res) {
    if (const auto s = jobs.cancel(req.matches[1])) return reply(res, 200, to_json(*s));
    reply_error(res, 404, "no job " + std::string(req.matches[1]));
  });
  server.Get(id + "/(input|denoised)\\.png", [&](const httplib::Request& req, httplib::Response& res) {
    const auto path = jobs.file(req.matches[1], std::string(req.matches[2]) + ".png");
    std::string bytes;
    if (path && read_whole(*path, bytes)) {
      res.set_header("Cache-Control", "no-store");
      return res.set_content(std::move(bytes), "image/png");
    }
    reply_error(res, 404, "job " + std::string(req.matches[1]) + " has no finished photo (yet)");
  });

  const int port = a.port == 0 ? server.bind_to_any_port(a.host) : (server.bind_to_port(a.host, a.port) ? a.port : -1);
  if (port < 0)
    throw hush::error("cannot listen on " + a.host + ":" + std::to_string(a.port) + " (in use? try --port)");
  std::atomic<bool> listening_ended = false;
  // Whether the stopper still waits in sigwait, under a mutex: once it has taken a signal it
  // unblocks SIGINT and SIGTERM, and the main thread's wake-up signal would then end the process.
  std::mutex waking;
  bool in_sigwait = true;
  std::jthread stopper([&](std::stop_token stop) {
    // sigwait cannot be interrupted by a stop token: the main thread sends SIGTERM to end it.
    int sig = 0;
    sigwait(&signals, &sig);
    {
      std::lock_guard lock(waking);
      in_sigwait = false;
      // A wake-up sent after a real signal stays pending on this thread, blocked, and dies with it.
      if (stop.stop_requested()) return;
    }
    // A second Ctrl-C ends the process at once, whatever the first is waiting for.
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
    std::printf("hush-denoise-app: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    std::fflush(stdout);
    jobs.stop();
    // server.stop() does nothing before listening has begun: a signal that came early waits for it.
    while (!server.is_running() && !listening_ended) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server.stop();
  });
  std::printf("hush-denoise-app: serving http://%s:%d/ (work folder %s; Ctrl-C stops)\n", a.host.c_str(), port,
              work.c_str());
  std::fflush(stdout);
  const bool ok = server.listen_after_bind();
  listening_ended = true;
  jobs.stop();
  {
    std::lock_guard lock(waking);
    if (in_sigwait) {
      stopper.request_stop();
      pthread_kill(stopper.native_handle(), SIGTERM);
    }
  }
  stopper.join();
  if (owned) fs::remove_all(work);
  std::printf("hush-denoise-app: stopped\n");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A local web page that denoises photos with hush's denoisers (hush-denoise-app, then open the address)"};
  app_args a;
  app.add_option("--host", a.host, "the address to listen on (127.0.0.1: this machine only)")->capture_default_str();
  app.add_option("--port", a.port, "the port (0: any free one, printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--models", a.models_dir,
                 "a folder of trained denoisers' weights (hush-denoise train) to offer beside the shipped one");
  app.add_option("--work", a.work, "where jobs' files are kept (default: a temporary folder removed at exit)");
  app.add_option("--max-upload-mb", a.max_upload_mb, "the largest upload, in megabytes")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--max-pixels", a.limits.max_pixels, "the largest photo, in pixels (checked from its header)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--queue", a.limits.max_waiting, "photos that may wait behind the one being denoised")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--keep", a.limits.keep, "finished jobs kept (older ones and their files are removed)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--tile", a.limits.tile, "the largest side denoised at once (memory is one tile's; a multiple of 32)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        const auto n = std::atoll(v.c_str());
        return n >= 32 && n % 32 == 0 ? std::string()
                                      : "--tile must be a multiple of 32 (the U-Nets' size multiple), not " + v;
      });
  app.add_option("--http-threads", a.http_threads, "threads answering requests")
      ->capture_default_str()
      ->check(CLI::Range(2, 256));
  CLI11_PARSE(app, argc, argv);
  try {
    return serve(a, argv[0]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hush-denoise-app: %s\n", hush::explain(e).c_str());
    return 1;
  }
}
