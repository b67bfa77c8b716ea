#pragma once
// Noise written as text, for command lines and configuration: a run-time twin of the
// compile-time chain/one_of, parsed from
//   gaussian(sigma=0.1)+salt_pepper(amount=0.05)+poisson(peak=30)
//   one_of(gaussian(var=0.005..0.08), speckle(var=0.005..0.2))
//   seed001                                  (a preset: see presets())
// `a..b` is a range drawn uniformly per image. Errors name the offending text and position;
// every parameter is given at most once, with a finite value, and one_of nests at most
// max_depth deep (the text may come from anyone: nothing in it can exhaust the stack).
// Includes the text noise, hence OpenCV: link hush::opencv.
#include <cctype>
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hush/core/error.hpp"
#include "hush/noise/compose.hpp"
#include "hush/noise/low_res.hpp"
#include "hush/noise/pixel.hpp"
#include "hush/noise/text.hpp"

namespace hush::noise {

struct spec_error : error {
  using error::error;
};

/// Any one noise model, chosen at run time.
using any_model = std::variant<gaussian, speckle, salt_pepper, poisson, bernoulli, impulse, text, low_res, mixed_res>;

/// A parsed noise: a model, a chain of specs ('+'), or one spec of several per image (one_of).
struct spec {
  enum class form { model, chain, one_of } shape_of = form::model;
  any_model model{gaussian{}};
  std::vector<spec> parts;

  template <class B>
  void apply(B b, const counter_rng& rng, std::uint64_t stream, const shape& img, const float* x, float* y) const {
    switch (shape_of) {
      case form::model:
        std::visit([&](const auto& m) { m.apply(b, rng, stream, img, x, y); }, model);
        return;
      case form::chain:
        for (std::size_t i = 0; i < parts.size(); ++i) parts[i].apply(b, rng, child_stream(stream, i), img, i ? y : x, y);
        return;
      case form::one_of: {
        const auto k = static_cast<std::size_t>(rng.uniform(stream, 1) * float(parts.size()));
        const auto pick = k < parts.size() ? k : parts.size() - 1;
        parts[pick].apply(b, rng, child_stream(stream, pick), img, x, y);
        return;
      }
    }
  }
  bool runs_on_host() const {
    if (shape_of == form::model) return std::visit([](const auto& m) { return noise::runs_on_host(m); }, model);
    for (const auto& p : parts)
      if (p.runs_on_host()) return true;
    return false;
  }
  std::string describe() const {
    if (shape_of == form::model) return std::visit([](const auto& m) { return m.describe(); }, model);
    std::string s = shape_of == form::one_of ? "one_of(" : "";
    for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? (shape_of == form::one_of ? ", " : "+") : "") + parts[i].describe();
    return shape_of == form::one_of ? s + ")" : s;
  }
};

/// The seeds' settings, by name.
inline const std::map<std::string, std::pair<std::string, std::string>>& presets() {
  static const std::map<std::string, std::pair<std::string, std::string>> table = {
      {"seed000", {"gaussian(sigma=0.1)+salt_pepper(amount=0.07..0.09)+poisson(peak=30)",
                   "seed 000 (CACD2000 faces): Gaussian + salt-and-pepper + Poisson on the same image"}},
      {"seed001", {"one_of(gaussian(var=0.005..0.08), salt_pepper(amount=0.02..0.07), speckle(var=0.005..0.2))",
                   "seed 001 (GAN denoiser): one noise per image, intensity uniform in the seed's ranges"}},
      {"seed004_gaussian", {"gaussian(sigma=0..0.15)", "seed 004: Gaussian noise, sigma uniform in [0, 0.15] per image"}},
      {"seed004_low_res", {"low_res(factor=random, upsampling=random)",
                           "seed 004: sub-sampling x2 or x4, then nearest or bicubic up-sampling"}},
      {"seed004_mixed_res", {"mixed_res(factor=4, upsampling=nearest)",
                             "seed 004: one region sharp, the rest at x4 lower resolution"}},
      {"n2n_gaussian", {"gaussian(sigma=0..0.196)", "seed 003 / Noise2Noise: Gaussian, sigma up to 50/255"}},
      {"n2n_poisson", {"poisson(peak=5..50)", "seed 003 / Noise2Noise: Poisson, lambda 5 to 50 at full scale"}},
      {"n2n_bernoulli", {"bernoulli(p=0..0.95)", "seed 003 / Noise2Noise: multiplicative Bernoulli, p up to 0.95"}},
      {"n2n_impulse", {"impulse(amount=0..0.95)", "seed 003 / Noise2Noise: random-valued impulse, up to 95%"}},
      {"n2n_text", {"text(count=5..15)", "seed 003 / Noise2Noise: text overlay"}},
  };
  return table;
}

/// One line per noise model: its parameters and their meaning, for --help.
inline std::string models_help() {
  return "  gaussian(sigma=S | var=V)        additive N(0, sigma^2); sigma >= 0\n"
         "  speckle(sigma=S | var=V)         x + x*N(0, sigma^2); sigma >= 0\n"
         "  salt_pepper(amount=A, salt=R)    a fraction A in [0,1] of values set to 1 (share R) or 0\n"
         "  poisson(peak=P)                  Poisson(x*P)/P shot noise; P > 0 photons at full scale\n"
         "    (gaussian, speckle, poisson: clip=off leaves values outside [0,1])\n"
         "  bernoulli(p=P)                   pixels dropped to 0 with probability P in [0,1]\n"
         "  impulse(amount=A)                values replaced by U(0,1) with probability A in [0,1]\n"
         "  text(count=N, size=F)            N random strings, glyphs F of the image height\n"
         "  low_res(factor=2..16|random, upsampling=nearest|bicubic|random)\n"
         "  mixed_res(factor=2|4, upsampling=..., sharp=F)  area fraction F kept sharp\n"
         "  a+b+c                            every noise in turn;  one_of(a, b, ...)  one per image\n"
         "  any number may be a range lo..hi, drawn uniformly per image\n";
}

namespace detail {
class spec_parser {
 public:
  /// Deepest nesting of one_of( accepted: far beyond any useful noise, far below the stack.
  static constexpr int max_depth = 32;

  explicit spec_parser(std::string_view text) : s_(text) {}

  spec parse() {
    auto result = chain();
    skip();
    if (pos_ != s_.size()) fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    return result;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw spec_error("noise spec '" + std::string(s_) + "', at " + std::to_string(pos_ + 1) + ": " + why);
  }
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip();
    if (pos_ < s_.size() && s_[pos_] == c) return ++pos_, true;
    return false;
  }
  std::string word() {
    skip();
    const auto start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  spec chain() {
    spec c{spec::form::chain, gaussian{}, {}};
    do c.parts.push_back(term());
    while (eat('+'));
    return c.parts.size() == 1 ? c.parts[0] : c;
  }
  spec term() {
    const auto at = pos_;
    const auto name = word();
    if (name.empty()) fail("expected a noise name");
    if (name == "one_of") {
      if (!eat('(')) fail("expected '(' after one_of");
      if (++depth_ > max_depth) fail("one_of nested more than " + std::to_string(max_depth) + " deep");
      spec o{spec::form::one_of, gaussian{}, {}};
      do o.parts.push_back(chain());
      while (eat(','));
      if (!eat(')')) fail("expected ')' to close one_of");
      --depth_;
      return o;
    }
    if (const auto p = presets().find(name); p != presets().end()) return spec_parser(p->second.first).parse();
    std::map<std::string, std::string> args;
    if (eat('(')) {
      if (!eat(')')) {
        do {
          const auto key = word();
          if (key.empty() || !eat('=')) fail("expected name=value");
          skip();
          const auto start = pos_;
          while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != ')') ++pos_;
          auto value = std::string(s_.substr(start, pos_ - start));
          while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
          if (value.empty()) fail(name + ": " + key + "= has no value");
          if (!args.emplace(key, value).second) fail(name + ": " + key + " is given twice");
        } while (eat(','));
        if (!eat(')')) fail("expected ')'");
      }
    }
    return {spec::form::model, model(name, args, at), {}};
  }

  range number(const std::string& model, const std::string& key, const std::string& v, float lo, float hi) const {
    auto to_float = [&](const std::string& t) {
      try {
        std::size_t used = 0;
        const float f = std::stof(t, &used);
        if (used != t.size()) throw std::invalid_argument(t);
        return f;
      } catch (const std::exception&) {
        fail(model + ": " + key + "='" + v + "' is not a number or a range lo..hi");
      }
    };
    const auto dots = v.find("..");
    const range r = dots == std::string::npos ? range(to_float(v)) : range(to_float(v.substr(0, dots)), to_float(v.substr(dots + 2)));
    if (!std::isfinite(r.lo) || !std::isfinite(r.hi)) fail(model + ": " + key + "=" + v + " is not finite");
    if (!(r.lo >= lo && r.hi <= hi && r.lo <= r.hi))
      fail(model + ": " + key + "=" + v + " is out of range [" + range(lo).str() + ", " +
           (std::isinf(hi) ? std::string("inf") : range(hi).str()) + "]");
    return r;
  }
  /// A parameter that is one number, not drawn per image.
  float single(range r, const std::string& model, const std::string& key) const {
    if (r.lo != r.hi) fail(model + ": " + key + " is one number, not a range");
    return r.lo;
  }
  static upsampling up(const std::string& v, const spec_parser& p) {
    if (v == "nearest") return upsampling::nearest;
    if (v == "bicubic") return upsampling::bicubic;
    if (v == "random") return upsampling::random;
    p.fail("upsampling must be nearest, bicubic or random, not '" + v + "'");
  }

  any_model model(const std::string& name, std::map<std::string, std::string>& args, std::size_t at) {
    const float inf = INFINITY;
    auto take = [&](const char* key) {
      auto it = args.find(key);
      if (it == args.end()) return std::string();
      auto v = it->second;
      args.erase(it);
      return v;
    };
    auto sigma_or_var = [&](const std::string& n, range fallback) {
      const auto sigma = take("sigma"), var = take("var");
      if (!sigma.empty() && !var.empty()) fail(n + ": give sigma or var, not both");
      if (!var.empty()) return std::pair{number(n, "var", var, 0, inf), true};
      return std::pair{sigma.empty() ? fallback : number(n, "sigma", sigma, 0, inf), false};
    };
    auto opt = [&](const char* key, range fallback, float lo, float hi, const std::string& n) {
      const auto v = take(key);
      return v.empty() ? fallback : number(n, key, v, lo, hi);
    };
    auto clip = [&](const std::string& n) {  // clip=on|off: whether values stay in [0, 1]
      const auto v = take("clip");
      if (v.empty() || v == "on") return true;
      if (v != "off") fail(n + ": clip must be on or off, not '" + v + "'");
      return false;
    };
    any_model m;
    if (name == "gaussian") {
      const auto [r, is_var] = sigma_or_var(name, 0.1f);
      m = gaussian{r, is_var, clip(name)};
    } else if (name == "speckle") {
      const auto [r, is_var] = sigma_or_var(name, 0.1f);
      m = speckle{r, is_var, clip(name)};
    }
    else if (name == "salt_pepper") m = salt_pepper{opt("amount", 0.05f, 0, 1, name), single(opt("salt", 0.5f, 0, 1, name), name, "salt")};
    else if (name == "poisson") {
      const auto peak = opt("peak", 30.0f, 0, inf, name);
      if (!(peak.lo > 0)) fail("poisson: peak must be > 0");
      m = poisson{peak, clip(name)};
    } else if (name == "bernoulli") m = bernoulli{opt("p", 0.5f, 0, 1, name)};
    else if (name == "impulse") m = impulse{opt("amount", 0.1f, 0, 1, name)};
    else if (name == "text") m = text{opt("count", range(5.0f, 15.0f), 0, 1000, name), opt("size", range(0.04f, 0.12f), 0.001f, 1, name)};
    else if (name == "low_res" || name == "mixed_res") {
      const auto f = take("factor");
      std::int64_t factor = f.empty() ? (name == "low_res" ? 2 : 4) : f == "random" ? 0 : -1;
      if (factor < 0 && f.size() <= 2 && std::all_of(f.begin(), f.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        factor = std::stoll(f);  // any whole factor: seed 004's 2 and 4, seed 002's 7 (Fashion-MNIST's 28 to 4)
      if (factor == 1 || factor < 0 || factor > 16 || (name == "mixed_res" && factor == 0))
        fail(name + ": factor must be a whole number from 2 to 16" + (name == "low_res" ? std::string(", or random (2 or 4)") : ""));
      const auto u = take("upsampling");
      const auto method = u.empty() ? upsampling::nearest : up(u, *this);
      if (name == "low_res") m = low_res{factor, method};
      else m = mixed_res{factor, method, opt("sharp", range(0.25f, 0.5f), 0, 1, name)};
    } else {
      pos_ = at;
      fail("unknown noise '" + name + "' (see --help for the list)");
    }
    if (!args.empty()) fail(name + ": unknown parameter '" + args.begin()->first + "'");
    return m;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};
}  // namespace detail

/// Parses a noise spec; throws spec_error naming the problem and where it is.
inline spec parse_spec(std::string_view text) { return detail::spec_parser(text).parse(); }

/// `s` with every model's clipping off (compose.hpp's unclipped, through chains and one_of).
inline spec unclipped(spec s) {
  if (s.shape_of == spec::form::model) std::visit([](auto& m) { m = noise::unclipped(m); }, s.model);
  for (auto& p : s.parts) p = unclipped(p);
  return s;
}

}  // namespace hush::noise
