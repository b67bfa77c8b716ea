// The command-line library the examples use (CLI11 2.1, header-only), alone: what it adds to an
// example's compile time, so bench/compile_cost/run.sh can tell it apart from hush's share.
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"three options"};
  int steps = 1;
  float rate = 0.1f;
  std::string out = "results";
  app.add_option("--steps", steps, "steps")->check(CLI::PositiveNumber);
  app.add_option("--rate", rate, "rate")->capture_default_str();
  app.add_option("--out", out, "folder");
  CLI11_PARSE(app, argc, argv);
  return steps;
}
