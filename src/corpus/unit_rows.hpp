// A unit's predictions on disk, one row a line, at full precision: the corpus merge runs the
// result stage over them, and must get back exactly what the model gave.
#pragma once

#include "corpus/run_dir.hpp"
#include "framepipe/pipeline/predict.hpp"

namespace framepipe::corpus {

// `scores`: keep every class's score (what smoothing and events need), not only the top k.
Json row_json(const RowPrediction& row, bool scores);
RowPrediction row_from(const Json& j);

}  // namespace framepipe::corpus
