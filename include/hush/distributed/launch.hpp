#pragma once
// The processes this program was started with. `mpirun -np 4 hush-robustness ...` (or a
// cluster's launcher) starts four processes that are to train as one (distributed/): each asks
// launched_world() for its communicator. MPI is loaded only then, from hush's MPI module
// (libhush-mpi.so: built where libopenmpi-dev is found, installed in lib/hush/ beside bin/), so
// a program run alone needs no MPI installed at all.
//
//   int main(int argc, char** argv) {
//     const auto world = hush::distributed::launched_world(&argc, &argv);  // null when alone
//     options.comm = world.get();
// or, with what every such program does about output and failures, launched_main below:
//   int run(int argc, char** argv, hush::distributed::communicator* world);   // world: null when alone
//   int main(int argc, char** argv) { return hush::distributed::launched_main(argc, argv, "hush-x", run); }
//
// Started by a launcher hush does not recognise, HUSH_MPI=1 asks for MPI all the same;
// HUSH_MPI_MODULE names the module's file when it is not where the program expects it.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "hush/core/error.hpp"
#include "hush/distributed/communicator.hpp"

namespace hush::distributed {

/// What the module exports; the version changes whenever communicator's layout does.
inline constexpr const char* mpi_module_entry = "hush_mpi_world_v2";

/// The number of processes a launcher started with this one (Open MPI's mpirun, MPICH's Hydra
/// or Slurm's PMI), and the variable that said so; {1, ""} when none did.
inline std::pair<int, std::string> launched_processes() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name); v && std::atoi(v) > 0) return {std::atoi(v), name};
  return {1, ""};
}

/// Where the MPI module is: HUSH_MPI_MODULE, else lib/hush/libhush-mpi.so beside this program's bin/.
inline std::filesystem::path mpi_module_path() {
  if (const char* v = std::getenv("HUSH_MPI_MODULE"); v && *v) return v;
  char self[PATH_MAX];
  const auto n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  const std::filesystem::path exe = n > 0 ? std::filesystem::path(std::string(self, std::size_t(n))) : std::filesystem::path{};
  return exe.parent_path().parent_path() / "lib" / "hush" / "libhush-mpi.so";
}

/// The communicator of the processes started with this one, over MPI; none (null) when this
/// process runs alone. Throws, naming the module and why, when a launcher started several
/// processes and MPI cannot be loaded.
inline std::unique_ptr<communicator> launched_world(int* argc, char*** argv) {
  const auto [processes, by] = launched_processes();
  const char* forced = std::getenv("HUSH_MPI");
  if (processes <= 1 && !(forced && std::string(forced) == "1")) return nullptr;
  const auto module = mpi_module_path();
  const std::string why = processes > 1 ? "started as one of " + std::to_string(processes) + " processes (" + by + ")"
                                        : "HUSH_MPI=1";
  // RTLD_GLOBAL: Open MPI's own plugins, loaded later, resolve their symbols in libmpi.
  void* handle = ::dlopen(module.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle)
    throw error(why + ", but hush's MPI module " + module.string() + " could not be loaded: " + ::dlerror() +
                " (it is built when libopenmpi-dev is installed; HUSH_MPI_MODULE names another file)");
  using entry = communicator* (*)(int*, char***);
  const auto make = reinterpret_cast<entry>(::dlsym(handle, mpi_module_entry));
  if (!make)
    throw error(module.string() + " is not this version's MPI module (it has no " + mpi_module_entry +
                "): rebuild hush's tools together");
  return std::unique_ptr<communicator>(make(argc, argv));  // never unloaded: its code runs to exit
}

/// The main() of a program that may be one of several processes: runs `run` with the launched
/// communicator (null when alone), lets process 0 alone write to the standard output, and
/// reports an exception as "<program> (process r): <what>" on the standard error. A process
/// that fails alone (an exception, or a non-zero code such as a bad option seen by it only)
/// ends every process of the run, which would otherwise wait for it forever.
template <class Run>
int launched_main(int argc, char** argv, const char* program, Run&& run) {
  std::unique_ptr<communicator> world;  // outlives run(): its failure must reach the others
  try {
    world = launched_world(&argc, &argv);
    if (world && !world->is_root() && !std::freopen("/dev/null", "w", stdout))
      throw error("cannot silence the standard output of process " + std::to_string(world->rank()));
    const int code = run(argc, argv, world.get());
    if (code != 0 && world && world->size() > 1) world->abort(code);
    return code;
  } catch (const std::exception& e) {
    const std::string who = world ? " (process " + std::to_string(world->rank()) + ")" : "";
    std::fprintf(stderr, "%s%s: %s\n", program, who.c_str(), explain(e).c_str());
    if (world && world->size() > 1) world->abort(1);
    return 1;
  }
}

}  // namespace hush::distributed
