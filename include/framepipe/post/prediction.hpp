// What a model said about one frame or clip, in source pixels: class scores, boxes, an
// embedding. post/ makes them from raw outputs; temporal/, sinks/ and pipeline/ use them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace framepipe {

struct ClassScore {
  int index = 0;
  std::string label;
  float score = 0;
};

struct Detection {
  std::array<double, 4> box{};  // x1, y1, x2, y2
  int cls = 0;
  std::string label;
  float score = 0;
  int64_t track_id = -1;  // set by Tracker; -1 untracked
};

struct Prediction {
  std::vector<float> scores;    // classify: every class's probability (for temporal/)
  std::vector<ClassScore> top;  // classify: the best k, best first
  std::vector<Detection> objects;
  std::vector<float> embedding;  // embed: L2-normalised
};

}  // namespace framepipe
