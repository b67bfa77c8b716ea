#pragma once
// Line charts as PNG, drawn with OpenCV: curves of loss and accuracy per epoch, where a person
// would rather look than read a CSV.
//
//   hush::io::chart loss{"loss", "epoch", "cross-entropy", {{"train", epochs, losses}}};
//   hush::io::save_charts("results/curves.png", {loss, accuracy});   // panels side by side
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "hush/io/opencv.hpp"

namespace hush::io {

/// One curve of a chart: its name in the legend and its points (x, y); points whose y is not
/// finite are left out.
struct series {
  std::string name;
  std::vector<double> x, y;
};

/// A line chart for render() or save_charts(): a title, the axes' labels and its curves, each
/// drawn in a colour of its own with a legend.
struct chart {
  std::string title, x_label, y_label;
  std::vector<series> lines;
};

namespace detail {
/// Tick step of 1, 2 or 5 × 10^k giving about `target` ticks over `span`.
inline double nice_step(double span, int target = 5) {
  const double raw = span / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}
inline std::string tick_text(double v, double step) {
  char buf[32];
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
inline cv::Scalar palette(std::size_t i) {  // matplotlib's tab10, in BGR
  static const cv::Scalar colours[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},  {40, 39, 214},
                                       {189, 103, 148}, {75, 86, 140}, {194, 119, 227}, {127, 127, 127}};
  return colours[i % 8];
}
}  // namespace detail

/// Draws one chart into a width × height BGR image.
inline cv::Mat render(const chart& c, int width = 640, int height = 420) {
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const int left = 70, right = 20, top = 40, bottom = 55;
  const cv::Rect area(left, top, width - left - right, height - top - bottom);
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : c.lines)
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.y[i])) {
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
        y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
      }
  if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // nothing to draw: empty axes
  if (x0 > 0 && x0 <= x1 - x0) x0 = 0;  // epochs and steps read best from 0
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;
  const auto px = [&](double x) { return area.x + static_cast<int>(std::lround((x - x0) / (x1 - x0) * area.width)); };
  const auto py = [&](double y) {
    return area.y + area.height - static_cast<int>(std::lround((y - y0) / (y1 - y0) * area.height));
  };
  const auto font = cv::FONT_HERSHEY_SIMPLEX;
  const cv::Scalar ink(40, 40, 40), grid(225, 225, 225);

  const double ys = detail::nice_step(y1 - y0), xs = detail::nice_step(x1 - x0);
  for (double v = std::ceil(y0 / ys) * ys; v <= y1; v += ys) {
    cv::line(img, {area.x, py(v)}, {area.x + area.width, py(v)}, grid, 1);
    const auto t = detail::tick_text(v, ys);
    cv::putText(img, t, {area.x - 8 - 9 * static_cast<int>(t.size()), py(v) + 5}, font, 0.42, ink, 1, cv::LINE_AA);
  }
  for (double v = std::ceil(x0 / xs) * xs; v <= x1 + 1e-9; v += xs) {
    cv::line(img, {px(v), area.y}, {px(v), area.y + area.height}, grid, 1);
    const auto t = detail::tick_text(v, xs);
    cv::putText(img, t, {px(v) - 4 * static_cast<int>(t.size()), area.y + area.height + 18}, font, 0.42, ink, 1,
                cv::LINE_AA);
  }
  cv::rectangle(img, area, ink, 1);
  cv::putText(img, c.title, {left, 26}, font, 0.6, ink, 1, cv::LINE_AA);
  cv::putText(img, c.x_label, {area.x + area.width / 2 - 4 * static_cast<int>(c.x_label.size()), height - 14}, font,
              0.45, ink, 1, cv::LINE_AA);
  cv::Mat label(24, std::max(1, 9 * static_cast<int>(c.y_label.size()) + 8), CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(label, c.y_label, {4, 17}, font, 0.45, ink, 1, cv::LINE_AA);
  cv::rotate(label, label, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int ly = std::max(0, area.y + area.height / 2 - label.rows / 2);
  if (ly + label.rows <= img.rows) label.copyTo(img(cv::Rect(4, ly, label.cols, label.rows)));

  std::vector<cv::Point> drawn;  // every point and segment midpoint, for placing the legend
  for (std::size_t k = 0; k < c.lines.size(); ++k) {
    const auto& s = c.lines[k];
    std::vector<cv::Point> pts;
    for (std::size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.y[i])) pts.emplace_back(px(s.x[i]), py(s.y[i]));
    const auto colour = detail::palette(k);
    if (pts.size() > 1) cv::polylines(img, pts, false, colour, 2, cv::LINE_AA);
    for (const auto& p : pts) cv::circle(img, p, 3, colour, cv::FILLED, cv::LINE_AA);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      drawn.push_back(pts[i]);
      if (i + 1 < pts.size())
        for (int f = 1; f < 4; ++f) drawn.push_back(pts[i] + (pts[i + 1] - pts[i]) * f / 4);
    }
  }
  // The legend on a white box in the corner that hides the fewest of the curves' points (the
  // top-right one when it hides none): a final epoch's value is what a reader looks for.
  int widest = 0;
  for (const auto& s : c.lines) widest = std::max(widest, 8 * static_cast<int>(s.name.size()));
  const int legend_w = std::min(area.width / 2, 36 + widest), legend_h = 18 * static_cast<int>(c.lines.size()) + 6;
  cv::Rect box;
  std::size_t least = std::numeric_limits<std::size_t>::max();
  for (const cv::Point corner : {cv::Point(area.x + area.width - legend_w - 6, area.y + 6), cv::Point(area.x + 6, area.y + 6),
                                 cv::Point(area.x + area.width - legend_w - 6, area.y + area.height - legend_h - 6),
                                 cv::Point(area.x + 6, area.y + area.height - legend_h - 6)}) {
    const cv::Rect candidate(corner.x, corner.y, legend_w, legend_h);
    const auto hidden = static_cast<std::size_t>(
        std::count_if(drawn.begin(), drawn.end(), [&](const cv::Point& p) { return candidate.contains(p); }));
    if (hidden < least) least = hidden, box = candidate;
  }
  if (!c.lines.empty()) {
    cv::rectangle(img, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::rectangle(img, box, grid, 1);
  }
  for (std::size_t k = 0; k < c.lines.size(); ++k) {
    const cv::Point at(box.x + 6, box.y + 12 + 18 * static_cast<int>(k));
    cv::line(img, at, at + cv::Point(22, 0), detail::palette(k), 2, cv::LINE_AA);
    cv::putText(img, c.lines[k].name, at + cv::Point(28, 5), font, 0.42, ink, 1, cv::LINE_AA);
  }
  return img;
}

/// Renders the charts side by side and writes them as one PNG (atomically).
inline void save_charts(const std::filesystem::path& path, const std::vector<chart>& charts, int width = 640,
                        int height = 420) {
  std::vector<cv::Mat> panels;
  for (const auto& c : charts) panels.push_back(render(c, width, height));
  cv::Mat out;
  if (panels.empty()) out = cv::Mat(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  else cv::hconcat(panels, out);
  write_image(path, out);
}

}  // namespace hush::io
