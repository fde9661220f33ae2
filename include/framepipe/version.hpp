// framepipe's version: what `framepipe --version`, framepipe.__version__ and a corpus run's
// fingerprint say.
#pragma once

namespace framepipe {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace framepipe
