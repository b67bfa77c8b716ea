#pragma once
// The one place the version lives; CMakeLists.txt reads it from here.

#define HUSH_VERSION_MAJOR 0
#define HUSH_VERSION_MINOR 1
#define HUSH_VERSION_PATCH 0

#define HUSH_STRINGIFY_(x) #x
#define HUSH_STRINGIFY(x) HUSH_STRINGIFY_(x)

namespace hush {
/// hush's major version (HUSH_VERSION_MAJOR).
inline constexpr int version_major = HUSH_VERSION_MAJOR;
/// hush's minor version (HUSH_VERSION_MINOR).
inline constexpr int version_minor = HUSH_VERSION_MINOR;
/// hush's patch version (HUSH_VERSION_PATCH).
inline constexpr int version_patch = HUSH_VERSION_PATCH;
/// hush's version as text: major.minor.patch.
inline constexpr const char* version_string =
    HUSH_STRINGIFY(HUSH_VERSION_MAJOR) "." HUSH_STRINGIFY(HUSH_VERSION_MINOR) "." HUSH_STRINGIFY(HUSH_VERSION_PATCH);
}  // namespace hush
