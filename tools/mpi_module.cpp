// libhush-mpi.so: the MPI communicator (distributed/mpi.hpp) as a module that hush's programs
// load only when a launcher started them as several processes (distributed/launch.hpp), so that
// they run alone without MPI installed.
#include "hush/distributed/launch.hpp"
#include "hush/distributed/mpi.hpp"

#include <string_view>

extern "C" __attribute__((visibility("default"))) hush::distributed::communicator* hush_mpi_world_v2(int* argc, char*** argv) {
  return new hush::distributed::mpi_communicator(argc, argv);
}
static_assert(std::string_view(hush::distributed::mpi_module_entry) == "hush_mpi_world_v2", "the entry's name, above");
