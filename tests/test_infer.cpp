// infer/: every engine against PyTorch's own outputs, the trained test models against
// videos drawn by the ffmpeg CLI, the built-in detectors on real footage, and the errors a
// wrong model or a wrong input gets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <unistd.h>

#include "framepipe/error.hpp"
#include "framepipe/infer/backend.hpp"
#include "framepipe/pipeline/predict.hpp"
#include "framepipe/post/post.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "support/media_set.hpp"
#include "framepipe/temporal/temporal.hpp"
#include "support/reference.hpp"

namespace fs = std::filesystem;
using namespace framepipe;

namespace {

std::string model(const std::string& file) { return std::string(FRAMEPIPE_MODELS_DIR) + "/" + file; }

// The engines a test model runs on: LibTorch for the .pt, OpenCV DNN for the .onnx.
std::vector<std::string> engines() {
  std::vector<std::string> e{"opencv"};
  if (torchscript_available()) e.insert(e.begin(), "torchscript");
  return e;
}
std::string file_for(const std::string& name, const std::string& engine) {
  return model(name + (engine == "torchscript" ? ".pt" : ".onnx"));
}

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The boxes of a colour as the ffmpeg CLI decodes them: the bounding box of pixels whose
// channel `c` is high and the other two low. Right and bottom edges exclusive.
std::array<double, 4> drawn_box(const std::vector<uint8_t>& rgb, int w, int h, int c) {
  int x1 = w, y1 = h, x2 = -1, y2 = -1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t* p = &rgb[(static_cast<size_t>(y) * w + x) * 3];
      bool on = p[c] > 150;
      for (int o = 0; o < 3; ++o)
        if (o != c && p[o] > 110) on = false;
      if (!on) continue;
      x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x), y2 = std::max(y2, y);
    }
  return {double(x1), double(y1), double(x2 + 1), double(y2 + 1)};
}

}  // namespace

// ------------------------------------------------------------------ engines vs PyTorch
// The largest difference between the backend's output and PyTorch's on the input PyTorch
// saved when it exported the model (STEM.input.npy, STEM.output.npy); infinity where the
// outputs do not even have PyTorch's shape.
// `want`: another file of PyTorch's output on that input (default: the saved one).
double worst_against_pytorch(Backend& backend, const std::string& stem, const std::string& want_file = "") {
  Tensor input = read_npy(model(stem + ".input.npy"));
  Tensor want = read_npy(want_file.empty() ? model(stem + ".output.npy") : want_file);
  auto out = backend.run(input);
  EXPECT_EQ(out.size(), 1u);
  if (out.size() != 1 || out[0].tensor.shape() != want.shape()) {
    ADD_FAILURE() << stem << ": the output's shape is not PyTorch's";
    return INFINITY;
  }
  double worst = 0;
  for (int64_t i = 0; i < want.numel(); ++i)
    worst = std::max(worst, double(std::fabs(out[0].tensor.data_as<float>()[i] - want.data_as<float>()[i])));
  return worst;
}

class EngineVsPyTorch : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(EngineVsPyTorch, OutputsEqualPyTorchsWithin1e4) {
  const auto& [name, engine] = GetParam();
  if (engine == "torchscript" && !torchscript_available()) GTEST_SKIP() << "built without LibTorch";
  BackendOptions o;
  o.engine = engine;
  auto backend = open_backend(file_for(name, engine), o);
  EXPECT_STREQ(backend->engine(), engine == "torchscript" ? "torchscript" : "opencv-dnn");
  EXPECT_LE(worst_against_pytorch(*backend, name), 1e-4) << name << " on " << engine;
}

INSTANTIATE_TEST_SUITE_P(Models, EngineVsPyTorch,
                         ::testing::Combine(::testing::Values("shapes2d", "motion3d", "squares", "squares_v8"),
                                            ::testing::Values("torchscript", "opencv")),
                         [](const auto& p) { return std::get<0>(p.param) + "_" + std::get<1>(p.param); });

// ------------------------------------------------------------------ INT8
// shapes2d after post-training static quantization (scripts/make-test-models.py --only-int8):
// LibTorch runs it as PyTorch did, and on the drawn video it answers as its float twin.
TEST(Int8, QuantizedModelEqualsPyTorchAndAgreesWithItsFloatTwin) {
  if (!torchscript_available()) GTEST_SKIP() << "built without LibTorch";
  auto q = open_backend(model("shapes2d_int8.pt"));
  // PyTorch's output on this machine: quantized kernels (onednn) compute otherwise by the
  // CPU's instructions, and PyTorch itself differs from the output saved on an AVX-512 machine
  // by 0.55 on one with AVX2 only. Where /usr/bin/python3 has no torch, the saved output.
  const std::string here = (std::filesystem::temp_directory_path() /
                            ("framepipe_int8_" + std::to_string(::getpid()) + ".npy")).string();
  const std::string script =
      "import sys, numpy as np, torch\n"
      "m = torch.jit.load(sys.argv[1]); x = torch.from_numpy(np.load(sys.argv[2]))\n"
      "with torch.no_grad(): np.save(sys.argv[3], m(x).numpy())\n";
  const std::string cmd = "/usr/bin/python3 -c '" + script + "' " + model("shapes2d_int8.pt") + " " +
                          model("shapes2d_int8.input.npy") + " " + here + " 2>/dev/null";
  const bool ran = std::system(cmd.c_str()) == 0 && std::filesystem::exists(here);
  const double worst = worst_against_pytorch(*q, "shapes2d_int8", ran ? here : "");
  std::filesystem::remove(here);
  EXPECT_LE(worst, 1e-4) << (ran ? "against PyTorch on this machine" : "against PyTorch's saved output");

  auto f = open_backend(model("shapes2d.pt"));
  VideoReader reader(fpt::media("shapes.mp4"), reader_options_for(q->spec()));
  const SamplePlan plan = plan_sample(SampleSpec::parse("all"), reader);
  auto qrows = predict(reader, *q, plan, 8);
  auto frows = predict(reader, *f, plan, 8);
  ASSERT_EQ(qrows.size(), frows.size());
  int same = 0;
  double drift = 0;
  for (size_t i = 0; i < qrows.size(); ++i) {
    same += qrows[i].prediction.top.at(0).label == frows[i].prediction.top.at(0).label;
    for (size_t c = 0; c < 3; ++c)
      drift = std::max(drift, double(std::fabs(qrows[i].prediction.scores[c] - frows[i].prediction.scores[c])));
  }
  EXPECT_EQ(same, static_cast<int>(qrows.size())) << "top-1 of the INT8 model against the float one";
  EXPECT_LE(drift, 0.1) << "largest probability difference";
  std::printf("int8 vs float on shapes.mp4: top-1 agree %d/%zu, max probability difference %.4f, max output "
              "difference from PyTorch %.2e\n", same, qrows.size(), drift, worst);
}

// ------------------------------------------------------------------ trained models, new videos
class TrainedModels : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Backend> open(const std::string& name) {
    if (GetParam() == "torchscript" && !torchscript_available()) return nullptr;
    BackendOptions o;
    o.engine = GetParam();
    return open_backend(file_for(name, GetParam()), o);
  }
};

TEST_P(TrainedModels, ShapeClassifierNamesEachShapeOfTheDrawnVideo) {
  auto backend = open("shapes2d");
  if (!backend) GTEST_SKIP() << "built without LibTorch";
  VideoReader reader(fpt::media("shapes.mp4"), reader_options_for(backend->spec()));
  auto rows = predict(reader, *backend, plan_sample(SampleSpec::parse("all"), reader), 8);
  ASSERT_EQ(rows.size(), 75u);
  int checked = 0;
  for (const auto& r : rows) {
    const double t = r.frames[0].t;
    // shapes.mp4: circle for [0, 1) s, square [1, 2), triangle [2, 3); a frame away from each change.
    if (std::fmod(t, 1.0) < 0.05 || std::fmod(t, 1.0) > 0.95) continue;
    const char* want = t < 1 ? "circle" : t < 2 ? "square" : "triangle";
    EXPECT_EQ(r.prediction.top.at(0).label, want) << "frame " << r.frames[0].index << " t=" << t;
    ++checked;
  }
  EXPECT_GE(checked, 65);
}

TEST_P(TrainedModels, ClipClassifierNamesTheDirectionOfMotion) {
  auto backend = open("motion3d");
  if (!backend) GTEST_SKIP() << "built without LibTorch";
  for (std::string dir : {"left", "right", "up", "down"}) {
    VideoReader reader(fpt::media("motion_" + dir + ".mp4"), reader_options_for(backend->spec()));
    auto rows = predict(reader, *backend, plan_sample(SampleSpec::parse("clips:16:1:2:uniform"), reader), 2);
    ASSERT_EQ(rows.size(), 2u);
    for (const auto& r : rows) {
      ASSERT_EQ(r.frames.size(), 16u);
      EXPECT_EQ(r.prediction.top.at(0).label, dir) << "clip from frame " << r.frames[0].index;
      EXPECT_GT(r.prediction.top.at(0).score, 0.9f);
    }
  }
}

TEST_P(TrainedModels, DetectorBoxesMatchTheDrawnSquaresInSourcePixels) {
  for (std::string name : {"squares", "squares_v8"}) {  // YOLOv5 and YOLOv8 output layouts
    auto backend = open(name);
    if (!backend) GTEST_SKIP() << "built without LibTorch";
    VideoReader reader(fpt::media("squares.mp4"), reader_options_for(backend->spec()));
    ASSERT_EQ(reader.out_width(), 128);  // 160x120 letterboxed into 128x128
    const std::vector<int64_t> frames{0, 7, 12, 24};
    SamplePlan plan;
    plan.frames = frames;
    auto rows = predict(reader, *backend, plan, 4);
    auto ref = fpt::reference_frames(fpt::media("squares.mp4"), frames);
    const char* colours[] = {"red", "green", "blue"};
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& objects = rows[i].prediction.objects;
      EXPECT_EQ(objects.size(), 3u) << name << " frame " << frames[i];
      for (int c = 0; c < 3; ++c) {
        auto truth = drawn_box(ref.at(frames[i]), 160, 120, c);
        double best = 0;
        for (const auto& d : objects)
          if (d.label == colours[c]) best = std::max(best, iou(d.box, truth));
        EXPECT_GE(best, 0.7) << name << " frame " << frames[i] << " " << colours[c] << " square at [" << truth[0]
                             << ", " << truth[1] << ", " << truth[2] << ", " << truth[3] << "]";
      }
    }
  }
}

TEST_P(TrainedModels, SmoothedClassifierGivesOneSegmentPerShape) {
  auto backend = open("shapes2d");
  if (!backend) GTEST_SKIP() << "built without LibTorch";
  VideoReader reader(fpt::media("shapes.mp4"), reader_options_for(backend->spec()));
  ScoreSmoother smooth(Aggregate::Ema, 0, 0.5f);
  SegmentBuilder events({0.6f, 0.4f, 0.3}, backend->spec().labels);
  std::vector<Segment> got;
  double last_t = 0;
  predict(reader, *backend, plan_sample(SampleSpec::parse("all"), reader), 8, [&](std::vector<RowPrediction>& rows) {
    for (auto& r : rows) {
      for (auto& s : events.push(r.frames[0].t, r.frames[0].index, smooth.push(r.prediction.scores))) got.push_back(s);
      last_t = r.frames[0].t;
    }
  });
  for (auto& s : events.finish(last_t + 0.04)) got.push_back(s);
  std::sort(got.begin(), got.end(), [](const Segment& a, const Segment& b) { return a.start < b.start; });
  ASSERT_EQ(got.size(), 3u);
  const char* labels[] = {"circle", "square", "triangle"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[size_t(i)].label, labels[i]);
    EXPECT_NEAR(got[size_t(i)].start, i, 0.15) << labels[i];
    EXPECT_NEAR(got[size_t(i)].end, i + 1, 0.15) << labels[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, TrainedModels, ::testing::Values("torchscript", "opencv"),
                         [](const auto& p) { return p.param; });

// ------------------------------------------------------------------ built-in detectors
TEST(Builtin, HogPeopleFindsPeopleInVtest) {
  auto backend = open_backend("builtin:hog-people");
  VideoReader reader(fpt::media("real/vtest.avi"), reader_options_for(backend->spec()));
  ASSERT_EQ(reader.out_width(), 768);
  // 12 frames, one every 40 (0 to 440): people walk through the whole clip.
  auto rows = predict(reader, *backend, plan_sample(SampleSpec::parse("every:40"), reader), 4);
  ASSERT_EQ(rows.size(), 20u);
  rows.resize(12);
  int frames_with_people = 0, boxes = 0;
  for (const auto& r : rows) {
    frames_with_people += !r.prediction.objects.empty();
    for (const auto& d : r.prediction.objects) {
      ++boxes;
      EXPECT_EQ(d.label, "person");
      EXPECT_GE(d.box[0], 0);
      EXPECT_GE(d.box[1], 0);
      EXPECT_LE(d.box[2], 768);
      EXPECT_LE(d.box[3], 576);
      EXPECT_GT(d.box[3] - d.box[1], d.box[2] - d.box[0]);  // people stand: taller than wide
    }
  }
  EXPECT_GE(frames_with_people, 10) << "of 12 frames";
  EXPECT_GE(boxes, 15);
}

TEST(Builtin, MotionBoxesFollowTheMovingPatch) {
  auto backend = open_backend("builtin:motion");
  VideoReader reader(fpt::media("moving_patch.mp4"), reader_options_for(backend->spec()));
  auto rows = predict(reader, *backend, plan_sample(SampleSpec::parse("all"), reader), 5);
  ASSERT_EQ(rows.size(), 30u);
  const std::vector<int64_t> check{10, 20};  // in between, the patch at times comes out in pieces
  auto ref = fpt::reference_frames(fpt::media("moving_patch.mp4"), check);
  for (int64_t f : check) {
    // The patch as ffmpeg decodes it: every pixel away from the background grey (0x18).
    const auto& rgb = ref.at(f);
    int x1 = 160, y1 = 120, x2 = 0, y2 = 0;
    for (int y = 0; y < 120; ++y)
      for (int x = 0; x < 160; ++x) {
        const uint8_t* p = &rgb[(size_t(y) * 160 + size_t(x)) * 3];
        if (std::abs(p[0] - 24) > 30 || std::abs(p[1] - 24) > 30 || std::abs(p[2] - 24) > 30)
          x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x + 1), y2 = std::max(y2, y + 1);
      }
    ASSERT_EQ(y2 - y1, 32) << "reference patch at frame " << f;
    const std::array<double, 4> truth{double(x1), double(y1), double(x2), double(y2)};
    // Past MOG2's first frames, the moving region is the patch (boxes are dilated by 2 px; a
    // patch may come out in pieces): one box covers it, and none lies elsewhere.
    const auto& objects = rows[size_t(f)].prediction.objects;
    ASSERT_FALSE(objects.empty()) << "frame " << f;
    double best = 0;
    for (const auto& d : objects) {
      EXPECT_EQ(d.label, "motion");
      EXPECT_GT(iou(d.box, truth), 0) << "frame " << f << ": a box away from the patch";
      best = std::max(best, iou(d.box, truth));
    }
    EXPECT_GE(best, 0.6) << "frame " << f << ", patch [" << x1 << ", " << y1 << ", " << x2 << ", " << y2 << "]";
  }
}

class FacesIn : public ::testing::TestWithParam<const char*> {};

// faces_rotated.mp4 stores the picture turned, with a display matrix that turns it back:
// boxes are in the upright frame's pixels, so the face is where it is in faces.mp4.
TEST_P(FacesIn, FindsTheFaceInMessi5Upright) {
  auto backend = open_backend("builtin:faces");
  VideoReader reader(fpt::media(GetParam()), reader_options_for(backend->spec()));
  ASSERT_EQ(reader.out_width(), 548);
  ASSERT_EQ(reader.out_height(), 342);
  SamplePlan plan;
  plan.frames = {0};
  auto rows = predict(reader, *backend, plan, 1);
  ASSERT_EQ(rows.size(), 1u);
  // The face, read off messi5.jpg by eye (scripts/make-test-media.sh).
  const std::array<double, 4> face{222, 85, 265, 130};
  double best = 0;
  for (const auto& d : rows[0].prediction.objects) {
    EXPECT_EQ(d.label, "face");
    EXPECT_GE(d.box[0], 0);
    EXPECT_GE(d.box[1], 0);
    EXPECT_LE(d.box[2], 548);
    EXPECT_LE(d.box[3], 342);
    best = std::max(best, iou(d.box, face));
  }
  EXPECT_GE(best, 0.5) << rows[0].prediction.objects.size() << " boxes";
}

INSTANTIATE_TEST_SUITE_P(Builtin, FacesIn, ::testing::Values("faces.mp4", "faces_rotated.mp4"),
                         [](const auto& p) { return fpt::case_name(p.param); });

// ------------------------------------------------------------------ errors
TEST(ModelErrors, MissingFileNamesIt) {
  auto msg = error_of([] { open_backend("/nonexistent/model.pt"); });
  EXPECT_NE(msg.find("/nonexistent/model.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
}

TEST(ModelErrors, MissingDescriptionSaysWhatItNeeds) {
  auto dir = fpt::temp_dir("nodesc");
  fs::copy_file(model("shapes2d.onnx"), dir + "/lonely.onnx");
  auto msg = error_of([&] { open_backend(dir + "/lonely.onnx"); });
  EXPECT_NE(msg.find("lonely.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
}

TEST(ModelErrors, WrongFormatIsAModelErrorNamingTheFile) {
  auto dir = fpt::temp_dir("badformat");
  for (std::string ext : {".pt", ".onnx"}) {
    std::ofstream(dir + "/text" + ext) << "this is not a model\n";
    fs::copy_file(model("shapes2d.json"), dir + "/text.json", fs::copy_options::overwrite_existing);
    if (ext == ".pt" && !torchscript_available()) continue;
    try {
      open_backend(dir + "/text" + ext);
      ADD_FAILURE() << ext << " opened";
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("text" + ext), std::string::npos) << e.what();
    }
  }
  auto msg = error_of([&] { open_backend(dir + "/model.xyz"); });
  EXPECT_NE(msg.find("model.xyz"), std::string::npos) << msg;
}

TEST(ModelErrors, WrongInputShapeSaysExpectedAndGiven) {
  for (const auto& engine : engines()) {
    BackendOptions o;
    o.engine = engine;
    auto backend = open_backend(file_for("shapes2d", engine), o);
    Tensor wrong = Tensor::allocate({2, 3, 32, 32}, Layout::NCHW, DType::F32);
    auto msg = error_of([&] { backend->run(wrong); });
    EXPECT_NE(msg.find("expected [N, 3, 64, 64]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("given [2, 3, 32, 32]"), std::string::npos) << msg;
    Tensor bytes = Tensor::allocate({1, 3, 64, 64}, Layout::NCHW, DType::U8);
    msg = error_of([&] { backend->run(bytes); });
    EXPECT_NE(msg.find("dtype expected f32, given u8"), std::string::npos) << msg;
  }
}

TEST(ModelErrors, OnnxThatOpenCvCannotImportNamesTheNodeAndSuggestsTorchScript) {
  auto msg = error_of([] { open_backend(model("unsupported3d.onnx")); });
  EXPECT_NE(msg.find("GlobalAveragePool"), std::string::npos) << msg;
  EXPECT_NE(msg.find("onnx_node!/pool/GlobalAveragePool"), std::string::npos) << msg;
  EXPECT_NE(msg.find("TorchScript"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
}

TEST(ModelErrors, BadDescriptionsNameTheFileAndTheField) {
  EXPECT_NE(error_of([] { parse_model_spec("{\"input\": {\"width\": 8, \"height\": 8}}", "d.json", "m.onnx"); })
                .find("d.json: 'task' is missing"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_model_spec("{\"task\": \"classify\"}", "d.json", "m.onnx"); }).find("'input' is missing"),
            std::string::npos);
  auto msg = error_of([] { parse_model_spec("{\"task\": \"segment\", \"input\": {}}", "d.json", "m.onnx"); });
  EXPECT_NE(msg.find("unknown task 'segment'"), std::string::npos) << msg;
  msg = error_of([] { parse_model_spec("{not json", "d.json", "m.onnx"); });
  EXPECT_NE(msg.find("d.json"), std::string::npos) << msg;
  msg = error_of([] {
    parse_model_spec(R"({"task": "detect", "input": {"width": 8, "height": 8}, "detect": {"layout": "yolov9"}})",
                     "d.json", "m.onnx");
  });
  EXPECT_NE(msg.find("yolov5, yolov8"), std::string::npos) << msg;
  msg = error_of([] { open_backend("builtin:cats"); });
  EXPECT_NE(msg.find("builtin:hog-people"), std::string::npos) << msg;
}

// Each misspelt key is an error naming it and the key meant; every section is checked.
TEST(ModelErrors, MisspeltKeysAreErrorsThatNameTheKeyMeant) {
  const std::string base = R"("task": "classify", "input": {"width": 8, "height": 8)";
  const std::vector<std::array<std::string, 3>> cases = {
      {"{" + base + R"(, "meam": [0.5, 0.5, 0.5]}})", "'meam' in 'input'", "'mean'"},
      {"{" + base + R"(, "stdev": 0.2}})", "'stdev' in 'input'", "'std'"},
      {"{" + base + R"(}, "lables": ["a"]})", "'lables'", "'labels'"},
      {"{" + base + R"(}, "outptu": "logits"})", "'outptu'", "'output'"},
      {R"({"task": "detect", "input": {"width": 8, "height": 8}, "detect": {"cnof": 0.5}})", "'cnof' in 'detect'", "'conf'"},
      {"{" + base + R"(, "widht": 8}})", "'widht' in 'input'", "'width'"},
  };
  for (const auto& [text, key, meant] : cases) {
    const std::string msg = error_of([&] { parse_model_spec(text, "d.json", "m.onnx"); });
    EXPECT_NE(msg.find("d.json: unknown key " + key), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean " + meant), std::string::npos) << msg;
  }
  // All of them at once, not one a run.
  const std::string msg = error_of([&] {
    parse_model_spec("{" + base + R"(, "meam": 0.5, "stdev": 0.2}, "lables": ["a"], "outptu": "logits"})", "d.json", "m.onnx");
  });
  for (const char* k : {"'meam'", "'stdev'", "'lables'", "'outptu'"}) EXPECT_NE(msg.find(k), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { parse_model_spec("{" + base + R"(, "width": "64"}})", "d.json", "m.onnx"); })
                .find("'input.width' must be a whole number, not \"64\""),
            std::string::npos);
}

// The stated rules for values that cannot be right.
TEST(ModelErrors, ImpossibleValuesGetTheirStatedAnswer) {
  auto msg = error_of([] {
    parse_model_spec(R"({"task": "classify", "input": {"width": 8, "height": 8, "mean": [123.7, 116.3, 103.5],
                         "std": [58.4, 57.1, 57.4]}})", "d.json", "m.onnx");
  });
  EXPECT_NE(msg.find("look like 0-255 values, but 'input.scale' is true"), std::string::npos) << msg;
  // The same values with scale false are what they say.
  const ModelSpec s = parse_model_spec(R"({"task": "classify", "input": {"width": 8, "height": 8, "scale": false,
                         "mean": [123.7, 116.3, 103.5], "std": [58.4, 57.1, 57.4]}})", "d.json", "m.onnx");
  EXPECT_FALSE(s.scale);
  EXPECT_FLOAT_EQ(s.mean[0], 123.7f);
  // 0-1 values over 0-255 pixels: a warning, once for the description.
  for (int i = 0; i < 2; ++i) {
    ::testing::internal::CaptureStderr();
    parse_model_spec(R"({"task": "classify", "input": {"width": 8, "height": 8, "scale": false,
                         "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}})", "small.json", "m.onnx");
    const std::string err = ::testing::internal::GetCapturedStderr();
    if (i == 0) {
      EXPECT_NE(err.find("warning: model description small.json: 'input.mean' [0.485, 0.456, 0.406]"), std::string::npos)
          << err;
      EXPECT_NE(err.find("look like 0-1 values, but 'input.scale' is false"), std::string::npos) << err;
    } else {
      EXPECT_EQ(err, "") << "said once";
    }
  }
  msg = error_of([] { parse_model_spec(R"({"task": "classify", "input": {"width": 8, "height": 8, "clip_len": 16}})", "d.json", "m.onnx"); });
  EXPECT_NE(msg.find("clip-classify"), std::string::npos) << msg;
  msg = error_of([] { parse_model_spec(R"({"task": "detect", "input": {"width": 8, "height": 8}, "detect": {"conf": 25}})", "d.json", "m.onnx"); });
  EXPECT_NE(msg.find("'detect.conf' must be within 0-1, not 25"), std::string::npos) << msg;
  msg = error_of([] { parse_model_spec(R"({"task": "classify", "input": {"width": 8, "height": 8}, "detect": {}})", "d.json", "m.onnx"); });
  EXPECT_NE(msg.find("'detect' is given but the task is classify"), std::string::npos) << msg;
}

// Labels against the output's width, and an output without a row for each row of the batch.
TEST(ModelErrors, OutputsThatDoNotFitTheDescriptionAreErrors) {
  ModelSpec spec = parse_model_spec(R"({"task": "classify", "input": {"width": 8, "height": 8}, "labels": ["a", "b"]})",
                                    "d.json", "m.onnx");
  const Geometry g = make_geometry(8, 8, spec.image_options());
  auto outputs = [](std::vector<int64_t> shape) {
    std::vector<NamedTensor> out;
    out.push_back({"output0", Tensor::allocate(shape, Layout::NCHW, DType::F32)});
    std::fill_n(out[0].tensor.data_as<float>(), out[0].tensor.numel(), 0.f);
    return out;
  };
  auto msg = error_of([&] { postprocess(spec, outputs({8, 7}), g, 5, 8); });
  EXPECT_NE(msg.find("answers 7 classes per row but its description has 2 labels"), std::string::npos) << msg;
  msg = error_of([&] { postprocess(spec, outputs({1, 2}), g, 5, 8); });
  EXPECT_NE(msg.find("8 rows went in"), std::string::npos) << msg;
  EXPECT_EQ(postprocess(spec, outputs({8, 2}), g, 5, 8).size(), 8u);
  spec.output_index = 1;
  msg = error_of([&] { postprocess(spec, outputs({8, 2}), g, 5, 8); });
  EXPECT_NE(msg.find("select_output is 1 but the model has 1 output: 0: 'output0' [8, 2]"), std::string::npos) << msg;
}

// README.md's reference for the description: each example is one it accepts, of the kind
// its marker says.
TEST(ModelDescription, EveryReadmeExampleLoads) {
  std::ifstream in(FRAMEPIPE_README);
  ASSERT_TRUE(in) << FRAMEPIPE_README;
  std::string line, task, text;
  int examples = 0;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("<!-- model-example: ", 0) == 0) {
      task = line.substr(20, line.find(" -->") - 20);
    } else if (!task.empty() && line == "```json") {
      inside = true;
      text.clear();
    } else if (inside && line == "```") {
      SCOPED_TRACE(text);
      const ModelSpec s = parse_model_spec(text, "README example", "model.onnx");
      EXPECT_STREQ(to_string(s.task), task.c_str());
      ++examples;
      inside = false;
      task.clear();
    } else if (inside) {
      text += line + "\n";
    }
  }
  EXPECT_GE(examples, 5);  // a classifier, a YOLO and a torchvision detector, an embedder, a clip model
}

TEST(ModelErrors, ClipModelRefusesSingleFrames) {
  auto backend = open_backend(model("motion3d.onnx"));
  VideoReader reader(fpt::media("motion_left.mp4"), reader_options_for(backend->spec()));
  auto msg = error_of([&] { predict(reader, *backend, plan_sample(SampleSpec::parse("every:4"), reader), 2); });
  EXPECT_NE(msg.find("clips of 16 frames"), std::string::npos) << msg;
  EXPECT_NE(msg.find("clips:16:"), std::string::npos) << msg;
}

TEST(ModelSpecs, DescriptionDrivesReaderAndTensor) {
  ModelSpec s = load_model_spec(model("motion3d.pt"));
  EXPECT_EQ(s.task, Task::ClipClassify);
  EXPECT_EQ(s.clip_len, 16);
  EXPECT_EQ(s.input_shape(2), (std::vector<int64_t>{2, 3, 16, 32, 32}));
  EXPECT_EQ(s.labels, (std::vector<std::string>{"left", "right", "up", "down"}));
  EXPECT_EQ(s.format, ModelFormat::TorchScript);
  EXPECT_EQ(load_model_spec(model("motion3d.onnx")).format, ModelFormat::Onnx);
  ModelSpec d = load_model_spec(model("squares_v8.onnx"));
  EXPECT_EQ(d.detect.layout, DetectLayout::YoloV8);
  EXPECT_EQ(d.resize, ResizeMode::Letterbox);
  EXPECT_FLOAT_EQ(d.detect.conf, 0.4f);
}

TEST(ModelSpecs, DescriptionsMayCarryCommentsAndLabelFiles) {
  auto dir = fpt::temp_dir("desc");
  std::ofstream(dir + "/labels.txt") << "cat\ndog\r\n\nbird\n";
  std::ofstream(dir + "/m.json") << R"({"task": "classify",   // what it does
    "input": {"width": 32, "height": 24, "mean": 0.5, "std": [0.25, 0.5, 1]},  /* one value: all channels */
    "labels": "labels.txt", "output": "probabilities"})";
  ModelSpec s = parse_model_spec(
      [&] {
        std::ifstream in(dir + "/m.json");
        return std::string(std::istreambuf_iterator<char>(in), {});
      }(),
      dir + "/m.json", dir + "/m.onnx");
  EXPECT_EQ(s.labels, (std::vector<std::string>{"cat", "dog", "bird"}));
  EXPECT_EQ(s.mean, (std::array<float, 3>{0.5f, 0.5f, 0.5f}));
  EXPECT_FALSE(s.logits);
  EXPECT_EQ(s.input_shape(1), (std::vector<int64_t>{1, 3, 24, 32}));
}

// Darknet, Caffe and TensorFlow files written field by field by scripts/make-test-models.py
// (a 3x3 convolution, its bias and an activation), PyTorch's conv2d of the same weights as
// the reference.
class OtherFormats : public ::testing::TestWithParam<std::tuple<std::string, ModelFormat>> {};

TEST_P(OtherFormats, OpenCvDnnEqualsPyTorch) {
  const auto& [file, format] = GetParam();
  auto backend = open_backend(model(file));
  EXPECT_EQ(backend->spec().format, format);
  EXPECT_STREQ(backend->engine(), "opencv-dnn");
  const std::string stem = fs::path(file).stem().string();
  Tensor input = read_npy(model(stem + ".input.npy"));
  Tensor want = read_npy(model(stem + ".output.npy"));
  auto out = backend->run(input);
  ASSERT_EQ(out.at(0).tensor.shape(), want.shape());
  for (int64_t i = 0; i < want.numel(); ++i)
    ASSERT_NEAR(out[0].tensor.data_as<float>()[i], want.data_as<float>()[i], 1e-4) << file << " value " << i;
}

INSTANTIATE_TEST_SUITE_P(Files, OtherFormats,
                         ::testing::Values(std::make_tuple("tiny_darknet.weights", ModelFormat::Darknet),
                                           std::make_tuple("tiny_caffe.caffemodel", ModelFormat::Caffe),
                                           std::make_tuple("tiny_tf.pb", ModelFormat::TensorFlow)),
                         [](const auto& p) { return std::string(to_string(std::get<1>(p.param))); });

TEST(OtherFormatsErrors, ADarknetModelWithoutItsCfgSaysWhichFileItNeeds) {
  auto dir = fpt::temp_dir("darknet");
  fs::copy_file(model("tiny_darknet.weights"), dir + "/w.weights");
  std::ofstream(dir + "/w.json") << R"({"task": "embed", "input": {"width": 8, "height": 8}})";
  auto msg = error_of([&] { open_backend(dir + "/w.weights"); });
  EXPECT_NE(msg.find("\"config\""), std::string::npos) << msg;
}
