#include "corpus/unit_rows.hpp"

namespace framepipe::corpus {

Json row_json(const RowPrediction& row, bool scores) {
  Json frames = Json::array();
  for (const auto& f : row.frames) frames.push_back({f.index, f.pts, f.t});
  Json j{{"f", std::move(frames)}};
  const Prediction& p = row.prediction;
  if (scores && !p.scores.empty()) j["s"] = p.scores;
  if (!p.top.empty()) {
    Json top = Json::array();
    for (const auto& c : p.top) top.push_back({c.index, c.label, c.score});
    j["c"] = std::move(top);
  }
  Json objects = Json::array();
  for (const auto& d : p.objects) objects.push_back({d.box[0], d.box[1], d.box[2], d.box[3], d.cls, d.label, d.score});
  if (!objects.empty()) j["o"] = std::move(objects);
  if (!p.embedding.empty()) j["e"] = p.embedding;
  return j;
}

RowPrediction row_from(const Json& j) {
  RowPrediction row;
  for (const auto& f : j.at("f")) row.frames.push_back({f[0].get<int64_t>(), f[1].get<int64_t>(), f[2].get<double>()});
  Prediction& p = row.prediction;
  if (j.contains("s")) p.scores = j["s"].get<std::vector<float>>();
  if (j.contains("c"))
    for (const auto& c : j["c"]) p.top.push_back({c[0].get<int>(), c[1].get<std::string>(), c[2].get<float>()});
  if (j.contains("o"))
    for (const auto& o : j["o"]) {
      Detection d;
      for (size_t k = 0; k < 4; ++k) d.box[k] = o[k].get<double>();
      d.cls = o[4].get<int>();
      d.label = o[5].get<std::string>();
      d.score = o[6].get<float>();
      p.objects.push_back(std::move(d));
    }
  if (j.contains("e")) p.embedding = j["e"].get<std::vector<float>>();
  return row;
}

}  // namespace framepipe::corpus
