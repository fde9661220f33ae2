#include "image/angle_rotator.hpp"

#include <dlfcn.h>

#include <cstdio>
#include <mutex>
#include <type_traits>

extern "C" {
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/pixdesc.h>
}

#include "framepipe/error.hpp"

namespace framepipe {

namespace {

// The few libavfilter calls used, resolved once from the library FFmpeg 5.1 installs.
struct Avfilter {
  decltype(&avfilter_graph_alloc) graph_alloc = nullptr;
  decltype(&avfilter_graph_free) graph_free = nullptr;
  decltype(&avfilter_get_by_name) get_by_name = nullptr;
  decltype(&avfilter_graph_create_filter) create_filter = nullptr;
  decltype(&avfilter_link) link = nullptr;
  decltype(&avfilter_graph_config) config = nullptr;
  decltype(&av_buffersrc_add_frame_flags) add_frame = nullptr;
  decltype(&av_buffersink_get_frame) get_frame = nullptr;
  std::string error;  // why it could not be loaded
};

const Avfilter& avfilter() {
  static Avfilter api;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string so = "libavfilter.so." + std::to_string(LIBAVFILTER_VERSION_MAJOR);
    void* lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      api.error = so + ": " + dlerror();
      return;
    }
    auto get = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn && api.error.empty()) api.error = so + " has no " + name;
    };
    get(api.graph_alloc, "avfilter_graph_alloc");
    get(api.graph_free, "avfilter_graph_free");
    get(api.get_by_name, "avfilter_get_by_name");
    get(api.create_filter, "avfilter_graph_create_filter");
    get(api.link, "avfilter_link");
    get(api.config, "avfilter_graph_config");
    get(api.add_frame, "av_buffersrc_add_frame_flags");
    get(api.get_frame, "av_buffersink_get_frame");
  });
  return api;
}

}  // namespace

struct AngleRotator::Graph {
  AVFilterGraph* graph = nullptr;
  AVFilterContext* src = nullptr;
  AVFilterContext* sink = nullptr;
  int width = 0, height = 0, format = -1;
  AVFrame* in = av_frame_alloc();
  AVFrame* out = av_frame_alloc();
  ~Graph() {
    if (graph) avfilter().graph_free(&graph);
    av_frame_free(&in);
    av_frame_free(&out);
  }
};

AngleRotator::AngleRotator(double clockwise_degrees, std::string source)
    : degrees_(clockwise_degrees), source_(std::move(source)) {
  if (!avfilter().error.empty())
    throw UnsupportedError("'" + source_ + "': its display matrix turns the picture " + std::to_string(degrees_) +
                           " degrees, which the ffmpeg CLI does with libavfilter's rotate filter, and libavfilter "
                           "cannot be loaded (" + avfilter().error + "); open it with autorotate off");
}

AngleRotator::~AngleRotator() = default;

void AngleRotator::rebuild(const AVFrame* frame) {
  const Avfilter& api = avfilter();
  graph_ = std::make_unique<Graph>();
  Graph& g = *graph_;
  auto fail = [&](const char* what, int r) {
    char msg[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(r, msg, sizeof msg);
    throw UnsupportedError("'" + source_ + "': cannot turn its frames " + std::to_string(degrees_) +
                           " degrees as the ffmpeg CLI does (" + what + ": " + msg + ")");
  };
  g.graph = api.graph_alloc();
  if (!g.graph) fail("a filter graph", AVERROR(ENOMEM));
  g.graph->nb_threads = 1;
  char args[256];
  // As the CLI's buffer source: the sample aspect ratio does not change what rotate does.
  std::snprintf(args, sizeof args, "video_size=%dx%d:pix_fmt=%d:time_base=1/1:pixel_aspect=1/1", frame->width,
                frame->height, frame->format);
  if (int r = api.create_filter(&g.src, api.get_by_name("buffer"), "in", args, nullptr, g.graph); r < 0)
    fail("buffer", r);
  AVFilterContext* rotate = nullptr;
  std::snprintf(args, sizeof args, "%f*PI/180", degrees_);  // the CLI's own words for the angle
  if (int r = api.create_filter(&rotate, api.get_by_name("rotate"), "rotate", args, nullptr, g.graph); r < 0)
    fail("rotate", r);
  if (int r = api.create_filter(&g.sink, api.get_by_name("buffersink"), "out", nullptr, nullptr, g.graph); r < 0)
    fail("buffersink", r);
  if (int r = api.link(g.src, 0, rotate, 0); r < 0) fail("link", r);
  if (int r = api.link(rotate, 0, g.sink, 0); r < 0) fail("link", r);
  if (int r = api.config(g.graph, nullptr); r < 0) fail("configure", r);
  g.width = frame->width;
  g.height = frame->height;
  g.format = frame->format;
}

const AVFrame* AngleRotator::apply(const AVFrame* frame) {
  if (!graph_ || graph_->width != frame->width || graph_->height != frame->height || graph_->format != frame->format)
    rebuild(frame);
  const Avfilter& api = avfilter();
  Graph& g = *graph_;
  av_frame_unref(g.in);
  if (av_frame_ref(g.in, frame) < 0) throw Error(ErrorKind::Internal, "out of memory turning a frame");
  g.in->pts = 0;  // one frame in, one out: the graph needs no clock
  if (int r = api.add_frame(g.src, g.in, AV_BUFFERSRC_FLAG_KEEP_REF); r < 0)
    throw UnsupportedError("'" + source_ + "': the rotate filter refused a frame");
  av_frame_unref(g.out);
  if (int r = api.get_frame(g.sink, g.out); r < 0)
    throw Error(ErrorKind::Internal, "'" + source_ + "': the rotate filter gave no frame back");
  av_frame_copy_props(g.out, frame);
  return g.out;
}

}  // namespace framepipe
