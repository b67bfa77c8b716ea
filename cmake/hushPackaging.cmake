# Debian packages through cpack (`cd build && cpack`), from the install rules' two components:
#
#   libhush-dev  the headers, the CMake package (find_package(hush)) and hush.pc: everything a
#                program needs to compile against hush. Its dependencies are the -dev packages the
#                CMake package finds (cmake/hushDependencies.cmake).
#   hush-tools   the command-line programs (hush-infer, hush-denoise, ...), the shipped denoiser
#                weights and ImageNet's class names; its library dependencies are computed from
#                the binaries by dpkg-shlibdeps.
#
# Both install under /usr. CI (.ci/run) builds them, checks that apt could install them on this
# system, unpacks them into a throw-away root and builds a consumer against that root.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hush)
set(CPACK_PACKAGE_VENDOR "the hush developers")
set(CPACK_PACKAGE_CONTACT "the hush developers <hush@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)

set(CPACK_COMPONENTS_ALL dev)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libhush-dev)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "hush: neural networks for noise-robust vision as C++20 types (headers, CMake package, pkg-config)\n\
Header-only: layers, losses and noise generators compose at compile time; forward and backward are\n\
derived from the network's type. The cpu backend runs oneDNN and OpenBLAS; the thrust backend runs\n\
Thrust kernels (OpenMP here, CUDA with nvcc).")
# What find_package(hush) and hush.pc need: xtensor (the interop header), OpenBLAS's OpenMP build
# (the one hush links), oneDNN, zlib and JSON for the weight files. OpenCV (hush::opencv), Thrust
# (hush::thrust) and MPI (hush::mpi) serve optional targets.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "g++ (>= 4:12), xtl-dev, xtensor-dev (>= 0.24), libxtensor-blas-dev (>= 0.20), libopenblas-openmp-dev | libopenblas-dev, libdnnl-dev, nlohmann-json3-dev, zlib1g-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "libopencv-dev, libthrust-dev, cmake (>= 3.21), pkg-config")
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "libopenmpi-dev, hush-tools")

if(HUSH_BUILD_TOOLS)
  list(APPEND CPACK_COMPONENTS_ALL tools)
  set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME hush-tools)
  set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION science)
  set(CPACK_DEBIAN_TOOLS_PACKAGE_SHLIBDEPS ON)
  set(CPACK_COMPONENT_TOOLS_DESCRIPTION
      "hush's programs: classify, denoise, add noise, train robust classifiers and denoisers\n\
hush-infer, hush-denoise (with a shipped blind denoiser), hush-noise, hush-quality,\n\
hush-robustness, hush-resgan, hush-mae, hush-front-ends, hush-noise-gallery, hush-denoise-app.")
  set(CPACK_DEBIAN_TOOLS_PACKAGE_RECOMMENDS "openmpi-bin")
endif()
include(CPack)
