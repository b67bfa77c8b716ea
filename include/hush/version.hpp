#pragma once
// The one place the version lives; CMakeLists.txt reads it from here.

#define HUSH_VERSION_MAJOR 0
#define HUSH_VERSION_MINOR 1
#define HUSH_VERSION_PATCH 0

namespace hush {
inline constexpr int version_major = HUSH_VERSION_MAJOR;
inline constexpr int version_minor = HUSH_VERSION_MINOR;
inline constexpr int version_patch = HUSH_VERSION_PATCH;
inline constexpr const char* version_string = "0.1.0";
}  // namespace hush
