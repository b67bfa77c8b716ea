# Finds hush's dependencies and wraps them in three interface targets. Used both by hush's own
# build and by the installed package config, so a consumer resolves them on their own machine.
include(CMakeFindDependencyMacro)

# Core: OpenBLAS (CBLAS), OpenMP for the host threads; xtensor 0.24 and xtensor-blas 0.20 for the
# user's side of the arrays (hush/interop/xtensor.hpp: a program linking hush::hush can view its
# tensors as xtensor expressions and use xt::linalg on them; the core includes neither).
#
# Prefer the OpenMP build of OpenBLAS (Debian's libopenblas-openmp-dev) over the pthreads one
# that Debian's alternatives pick: with two thread pools, OpenMP's spinning workers starve
# OpenBLAS's threads (the small CNN's training step ran 8.5x slower, docs/performance.md). Seeding
# FindBLAS/FindLAPACK's cache entries makes every later find (xtensor-blas's too) agree; a value
# the user set is kept.
find_library(HUSH_OPENBLAS_OPENMP NAMES openblas NO_DEFAULT_PATH
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp /usr/lib/openblas-openmp
             DOC "OpenBLAS built with OpenMP")
mark_as_advanced(HUSH_OPENBLAS_OPENMP)
if(HUSH_OPENBLAS_OPENMP)
  foreach(_hush_var BLAS_openblas_LIBRARY LAPACK_openblas_LIBRARY)
    if(NOT DEFINED ${_hush_var})
      set(${_hush_var} ${HUSH_OPENBLAS_OPENMP} CACHE FILEPATH "OpenBLAS (OpenMP build), chosen by hush")
    endif()
  endforeach()
endif()
set(BLA_VENDOR OpenBLAS)
find_dependency(xtl)
find_dependency(xtensor 0.24)
find_dependency(xtensor-blas 0.20)
find_dependency(OpenMP)
find_dependency(Threads)
find_dependency(BLAS)
if(NOT TARGET hush_deps_core)
  add_library(hush_deps_core INTERFACE)
  find_dependency(ZLIB)
  find_dependency(nlohmann_json 3)
  target_link_libraries(hush_deps_core INTERFACE xtensor xtensor-blas ${BLAS_LIBRARIES} ZLIB::ZLIB nlohmann_json::nlohmann_json
                        OpenMP::OpenMP_CXX Threads::Threads)
  # oneDNN (Debian's libdnnl-dev, the library PyTorch's CPU convolutions run): the cpu backend's
  # convolutions when found; HUSH_WITH_DNNL=OFF keeps them on im2col + OpenBLAS. Found by its
  # header and library, not its CMake config: Debian's config demands OpenCL's development
  # files (its GPU runtime), which hush's C-API use of the CPU engine never needs.
  if(NOT DEFINED HUSH_WITH_DNNL OR HUSH_WITH_DNNL)
    find_path(HUSH_DNNL_INCLUDE_DIR dnnl.h DOC "Directory holding oneDNN's dnnl.h")
    find_library(HUSH_DNNL_LIBRARY dnnl DOC "oneDNN's library")
    mark_as_advanced(HUSH_DNNL_INCLUDE_DIR HUSH_DNNL_LIBRARY)
  endif()
  if(HUSH_DNNL_INCLUDE_DIR AND HUSH_DNNL_LIBRARY AND (NOT DEFINED HUSH_WITH_DNNL OR HUSH_WITH_DNNL))
    target_include_directories(hush_deps_core SYSTEM INTERFACE ${HUSH_DNNL_INCLUDE_DIR})
    target_link_libraries(hush_deps_core INTERFACE ${HUSH_DNNL_LIBRARY})
    target_compile_definitions(hush_deps_core INTERFACE HUSH_WITH_DNNL=1)
    set(HUSH_HAS_DNNL ON)
  elseif(NOT DEFINED HUSH_WITH_DNNL OR HUSH_WITH_DNNL)
    message(STATUS "hush: oneDNN not found (libdnnl-dev); convolutions use im2col + OpenBLAS")
  endif()
endif()

# Thrust: the CUDA toolkit's CCCL when present, otherwise Debian's libthrust-dev.
if(NOT TARGET hush_deps_thrust)
  find_path(HUSH_THRUST_INCLUDE_DIR thrust/version.h
            HINTS /usr/local/cuda/include/cccl ENV CUDA_PATH PATH_SUFFIXES include/cccl
            DOC "Directory holding thrust/version.h")
  add_library(hush_deps_thrust INTERFACE)
  if(HUSH_THRUST_INCLUDE_DIR)
    # -isystem: Thrust's own headers are not ours to warn about.
    target_include_directories(hush_deps_thrust SYSTEM INTERFACE ${HUSH_THRUST_INCLUDE_DIR})
    target_compile_definitions(hush_deps_thrust INTERFACE
      $<$<NOT:$<COMPILE_LANGUAGE:CUDA>>:THRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP>)
    target_link_libraries(hush_deps_thrust INTERFACE OpenMP::OpenMP_CXX)
  else()
    message(WARNING "hush: Thrust not found (install libthrust-dev or the CUDA toolkit); "
                    "hush::thrust will not compile")
  endif()
endif()

# OpenCV 4: only the modules hush uses.
find_package(OpenCV 4 QUIET COMPONENTS core imgproc imgcodecs)
if(NOT TARGET hush_deps_opencv)
  add_library(hush_deps_opencv INTERFACE)
  if(OpenCV_FOUND)
    target_link_libraries(hush_deps_opencv INTERFACE ${OpenCV_LIBS})
  else()
    message(WARNING "hush: OpenCV 4 not found (install libopencv-dev); hush::opencv will not link")
  endif()
endif()

# MPI (Debian's libopenmpi-dev), optional: hush::mpi, data-parallel training across processes
# (distributed/mpi.hpp). Without it hush builds and trains as before, in one process.
find_package(MPI QUIET COMPONENTS CXX)
if(NOT TARGET hush_deps_mpi AND MPI_CXX_FOUND)
  add_library(hush_deps_mpi INTERFACE)
  target_link_libraries(hush_deps_mpi INTERFACE MPI::MPI_CXX)
endif()
