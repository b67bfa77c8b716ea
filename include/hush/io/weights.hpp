#pragma once
// A network's weights on disk in safetensors, with PyTorch state_dict names and layouts, so
// torchvision's weights load into hush and hush's into PyTorch. The metadata records the
// architecture's name and a hash of its structure (every layer's kind and options). Loading
// checks everything before it changes anything: a file that does not fit leaves the network as
// it was and says which tensor is missing, extra or of the wrong shape.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/graph/visit.hpp"
#include "hush/io/safetensors.hpp"
#include "hush/version.hpp"

namespace hush {

namespace detail {
/// The kind a weight file names a network by: a wrapper's (frozen<Net>) is its network's.
template <class L>
constexpr const char* architecture(const L& layer) {
  if constexpr (requires { layer.stored_as(); })
    return architecture(layer.stored_as());
  else
    return L::kind;
}

template <class L>
void append_structure(std::string& out, const L& layer) {
  if constexpr (requires { layer.stored_as(); }) {  // a wrapper stored as what it wraps (frozen<Net>)
    append_structure(out, layer.stored_as());
    return;
  }
  out += L::kind;
  if constexpr (requires { layer.describe(); }) {  // piecewise: GCC 12 misreports "(" + std::string (PR 105329)
    out += '(';
    out += layer.describe();
    out += ')';
  }
  if constexpr (requires { layer.for_each_child([](const std::string&, const auto&, shape) {}); }) {
    out += "{";
    layer.for_each_child([&](const std::string& name, const auto& child, shape) {
      out += name;
      out += ':';
      append_structure(out, child);
      out += ";";
    });
    out += "}";
  }
}
inline std::vector<std::int64_t> dims_of(const shape& s) { return {s.dims.begin(), s.dims.begin() + s.rank}; }
inline std::string dims_text(const std::vector<std::int64_t>& d) {
  std::string s = "(";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + (d.size() == 1 ? ",)" : ")");
}
}  // namespace detail

/// The network's structure as text: kinds, options and child names, e.g.
/// "fashion_cnn{0:conv2d(1->32, 3x3, pad 1);1:relu;...}".
template <class L>
std::string structure(const L& net) {
  std::string s;
  detail::append_structure(s, net);
  return s;
}

/// A 64-bit FNV-1a hash of structure(net), as 16 hex digits.
template <class L>
std::string structure_hash(const L& net) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : structure(net)) h = (h ^ c) * 0x100000001b3ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace detail {
/// Where a file keeps a network's architecture and structure hash: "hush.structure", or for a
/// network saved under a prefix (a GAN's two), "hush.structure.generator" for "generator.".
inline std::string structure_key(const std::string& key, const std::string& prefix) {
  if (prefix.empty()) return key;
  return key + "." + (prefix.back() == '.' ? prefix.substr(0, prefix.size() - 1) : prefix);
}
}  // namespace detail

/// Adds every parameter, buffer and counter of `net` (set up first) to `w`, under `prefix`.
template <class L>
void add_weights(io::safetensors_writer& w, L& net, const std::string& prefix = "") {
  struct visitor {
    io::safetensors_writer& w;
    const std::string& prefix;
    void parameter(std::string_view name, hush::parameter& p) { buffer(name, p.value); }
    void buffer(std::string_view name, kept& t) {
      if (t.empty()) throw error("save: '" + std::string(name) + "' is not allocated: set the network up first");
      const tensor values = to_host(t);  // from the device, where the backend keeps them there
      w.add(prefix + std::string(name), detail::dims_of(values.shape()), values.data());
    }
    void counter(std::string_view name, std::int64_t& c) { w.add_scalar(prefix + std::string(name), c); }
  } v{w, prefix};
  net.visit(v);
  w.metadata(detail::structure_key("hush.architecture", prefix), detail::architecture(net));
  w.metadata(detail::structure_key("hush.structure", prefix), structure_hash(net));
  w.metadata("hush.version", version_string);
}

/// Writes `net`'s weights atomically (a crash leaves the old file, never a broken one), with
/// `metadata` (what the weights mean: class names, the data they were trained on, ...).
template <class L>
void save_weights(L& net, const std::filesystem::path& path, const std::map<std::string, std::string>& metadata = {}) {
  io::safetensors_writer w;
  add_weights(w, net);
  w.metadata("format", "pt");
  for (const auto& [k, v] : metadata) w.metadata(k, v);
  w.write(path);
}

/// Settings of load_weights. By default a tensor in the file that the network does not ask for
/// is an error (strict) and a hush file must have been saved from the same structure; partial
/// lets the file lack some of the network's tensors.
struct load_options {
  bool strict = true;            // tensors in the file that nothing asks for are errors
  bool check_structure = true;   // a hush file saved from another structure is an error
  /// Tensors of the network that the file lacks keep their values instead of being errors: a
  /// torchvision ResNet's state_dict into the trunk of a ResNet-backbone denoiser, whose decoder
  /// the file does not have. Shapes must still match, and at least one tensor must load.
  bool partial = false;
};

/// What a load did: the tensors it filled, and under `partial` those it left as they were.
struct load_report {
  std::int64_t loaded = 0;
  std::vector<std::string> kept;  // the network's tensors the file did not have
};

/// Loading in two passes: targets are matched against the file and every problem collected;
/// only when there is none does commit() copy, so a failed load changes nothing.
class load_plan {
 public:
  explicit load_plan(const io::safetensors_file& file, bool partial = false) : file_(file), partial_(partial) {}

  void tensor_target(const std::string& name, kept& t) {
    if (t.empty()) return problem("'" + name + "' is not allocated: set the network up before loading");
    const auto* a = find(name);
    if (!a) return;
    const auto want = detail::dims_of(t.shape());
    if (a->dims != want)
      problem("tensor '" + name + "' has shape " + detail::dims_text(a->dims) + ", expected " + detail::dims_text(want));
    else if (!a->integers.empty())
      problem("tensor '" + name + "' is " + a->dtype + ", expected a floating-point type");
    else
      copies_.emplace_back(a, &t);
  }
  void counter_target(const std::string& name, std::int64_t& c) {
    const auto* a = find(name);
    if (!a) return;
    if (a->numel() != 1 || a->integers.empty())
      problem("tensor '" + name + "' should be an integer scalar, is " + a->dtype + " " + detail::dims_text(a->dims));
    else
      counts_.emplace_back(a, &c);
  }
  /// Every parameter, buffer and counter of `net`, under `prefix`.
  template <class L>
  void network(L& net, const std::string& prefix = "") {
    struct visitor {
      load_plan& plan;
      const std::string& prefix;
      void parameter(std::string_view name, hush::parameter& p) { buffer(name, p.value); }
      void buffer(std::string_view name, kept& t) { plan.tensor_target(prefix + std::string(name), t); }
      void counter(std::string_view name, std::int64_t& c) { plan.counter_target(prefix + std::string(name), c); }
    } v{*this, prefix};
    net.visit(v);
  }
  /// The file's hush structure hash, when it has one, must be `net`'s (the one saved under
  /// `prefix`, as add_weights did).
  template <class L>
  void same_structure(const L& net, const std::string& prefix = "") {
    const auto saved = file_.metadata.find(detail::structure_key("hush.structure", prefix));
    if (saved == file_.metadata.end() || saved->second == structure_hash(net)) return;
    const auto arch = file_.metadata.find(detail::structure_key("hush.architecture", prefix));
    problem((prefix.empty() ? std::string() : "'" + prefix + "' ") + "saved from a different structure (" +
            (arch != file_.metadata.end() ? arch->second : std::string("?")) + ", " + saved->second +
            ") than this network (" + detail::architecture(net) + ", " + structure_hash(net) + ")");
  }
  /// Copies everything, or throws io_error naming the file and the first problems.
  load_report commit(bool strict) {
    if (partial_ && copies_.empty() && counts_.empty()) problem("no tensor of the network is in the file");
    if (strict)
      for (const auto& [name, a] : file_.arrays)
        if (!used_.count(name)) problem("unexpected tensor '" + name + "'");
    if (!problems_.empty()) {
      std::string msg = file_.path.string() + ": " + problems_[0];
      for (std::size_t i = 1; i < problems_.size() && i < 5; ++i) msg += "; " + problems_[i];
      if (problems_.size() > 5) msg += "; and " + std::to_string(problems_.size() - 5) + " more";
      throw io_error(msg);
    }
    for (auto [a, t] : copies_) assign(*t, tensor(t->shape(), a->values));  // to the device where it lives
    for (auto [a, c] : counts_) *c = a->integers[0];
    return {std::int64_t(copies_.size() + counts_.size()), missing_};
  }

 private:
  const io::stored_array* find(const std::string& name) {
    const auto it = file_.arrays.find(name);
    if (it == file_.arrays.end()) {
      if (partial_) missing_.push_back(name);
      else problem("missing tensor '" + name + "'");
      return nullptr;
    }
    used_[name] = true;
    return &it->second;
  }
  void problem(std::string p) { problems_.push_back(std::move(p)); }

  const io::safetensors_file& file_;
  bool partial_ = false;
  std::vector<std::string> problems_, missing_;
  std::vector<std::pair<const io::stored_array*, kept*>> copies_;
  std::vector<std::pair<const io::stored_array*, std::int64_t*>> counts_;
  std::map<std::string, bool> used_;
};

/// Loads weights saved by save_weights or by PyTorch (a state_dict written as safetensors) into
/// `net`, which must be set up. All or nothing: on any error `net` is unchanged.
template <class L>
load_report load_weights(L& net, const std::filesystem::path& path, load_options opt = {}) {
  const auto file = io::read_safetensors(path);
  load_plan plan(file, opt.partial);
  if (opt.check_structure) plan.same_structure(net);
  plan.network(net);
  return plan.commit(opt.strict);
}

}  // namespace hush
