// A time base or a rate as FFmpeg keeps it: num / den, exactly.
#pragma once

namespace framepipe {

struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den ? static_cast<double>(num) / den : 0.0; }
  bool operator==(const Rational&) const = default;
};

}  // namespace framepipe
