#pragma once
// The one include shim for xtensor. hush codes against xtensor 0.24 (Debian 12); xtensor 0.25
// moved its headers into subfolders (xtensor/containers/, xtensor/views/ ...), so every hush
// header includes xtensor through this file and only this file needs to learn new paths.

#if __has_include(<xtensor/containers/xtensor.hpp>)
#include <xtensor/containers/xadapt.hpp>
#include <xtensor/containers/xtensor.hpp>
#include <xtensor/core/xmath.hpp>
#include <xtensor/views/xview.hpp>
#else
#include <xtensor/xadapt.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>
#endif
