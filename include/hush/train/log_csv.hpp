#pragma once
// Reading back the CSV logs the trainers keep in their checkpoints: rows of a fixed number of
// cells under a known header, and numbers that must be finite, with errors that name the
// checkpoint.
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

#include "hush/core/error.hpp"

namespace hush::train::detail {

/// The comma-separated cells of `line`; a trailing comma ends with an empty cell.
inline std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> c;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) c.push_back(cell);
  if (!line.empty() && line.back() == ',') c.emplace_back();
  return c;
}

/// `cell` as a finite number, or io_error naming `where`.
inline double csv_number(const std::string& cell, const std::string& where) {
  try {
    std::size_t used = 0;
    const double v = std::stod(cell, &used);
    if (used == cell.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw io_error(where + ": its log's value '" + cell + "' is not a finite number");
}

/// Calls row(cells) for every line of `text` after its header line, which must be `header` (none
/// when empty), each of `count` cells; io_error naming `where` and `what` otherwise.
template <class Row>
void csv_rows(const std::string& text, const std::string& header, std::size_t count, const std::string& where,
              const std::string& what, Row&& row) {
  std::istringstream in(text);
  std::string line;
  if (!header.empty() && (!std::getline(in, line) || line != header)) throw io_error(where + ": its " + what + " has no header");
  while (std::getline(in, line)) {
    const auto c = csv_cells(line);
    if (c.size() != count)
      throw io_error(where + ": a row of its " + what + " has " + std::to_string(c.size()) + " cells, not " + std::to_string(count));
    row(c);
  }
}

/// `cell` as an epoch number 1 to 10^6, or io_error naming `where`.
inline int csv_epoch(const std::string& cell, const std::string& where) {
  const double e = csv_number(cell, where);
  if (!(e >= 1 && e <= 1e6 && e == std::floor(e))) throw io_error(where + ": its log's epoch '" + cell + "' is not 1 to 10^6");
  return int(e);
}

/// The training loss per tenth of an epoch as a checkpoint keeps it: rows "epoch,loss" (the
/// denoiser's and the MAE's histories), and read back, naming `where` in errors.
inline std::string tenths_rows(const std::vector<std::array<double, 2>>& tenths) {
  std::string s;
  for (const auto& t : tenths) {
    char row[64];
    std::snprintf(row, sizeof row, "%.4f,%.7f\n", t[0], t[1]);
    s += row;
  }
  return s;
}
inline std::vector<std::array<double, 2>> parse_tenths(const std::string& text, const std::string& where) {
  std::vector<std::array<double, 2>> out;
  csv_rows(text, "", 2, where, "loss tenths", [&](const std::vector<std::string>& c) {
    out.push_back({csv_number(c[0], where), csv_number(c[1], where)});
  });
  return out;
}

}  // namespace hush::train::detail
