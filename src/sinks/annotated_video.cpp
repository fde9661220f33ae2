#include "sinks/annotated_video.hpp"

#include <algorithm>
#include <cmath>

#include "framepipe/sinks/annotate.hpp"
#include "sinks/preview_server.hpp"

namespace framepipe {

namespace {

// The classes an annotated frame shows: the best three.
std::vector<ClassScore> drawn_classes(const Prediction& p) {
  return {p.top.begin(), p.top.begin() + static_cast<ptrdiff_t>(std::min<size_t>(p.top.size(), 3))};
}

// Another connection may have another time base (rare): rounded to the nearest unit.
int64_t rescale_pts(int64_t pts, Rational from, Rational to) {
  if (from == to) return pts;
  const long double seconds = static_cast<long double>(pts) * from.num / from.den;
  return static_cast<int64_t>(std::llround(seconds * to.den / to.num));
}

}  // namespace

std::vector<std::string> audio_notes(const VideoWriter& w) {
  std::vector<std::string> notes;
  if (!w.audio_transcoded().empty())
    notes.push_back(w.path() + " cannot hold the audio " + w.audio_transcoded() + " as it is; it was re-encoded to " + w.audio_transcoded_to());
  if (!w.audio_skipped().empty())
    notes.push_back(w.path() + " cannot hold the audio " + w.audio_skipped() + "; it was left out");
  if (!w.audio_lost().empty()) notes.push_back(w.path() + " lacks " + w.audio_lost());
  for (const std::string& o : w.outages()) notes.push_back(w.path() + ": the destination " + o);
  return notes;
}

Annotator::Annotator(const std::string& video, std::string out, const ReaderOptions& base, PreviewServer* preview,
                     const std::string& format, int hls_window)
    : out_(std::move(out)), preview_(preview) {
  ReaderOptions o = base;
  o.image = ImageOptions{};  // RGB at the source size
  reader_ = std::make_unique<VideoReader>(Source(video), o);
  if (out_.empty()) return;  // the preview's pictures only
  VideoWriterOptions w;
  w.format = format;
  w.hls_window = hls_window;
  w.audio_from = video;
  if (!o.autorotate) w.display_matrix = reader_->info().video.display_matrix;  // shown upright all the same
  writer_ = std::make_unique<VideoWriter>(out_, reader_->out_width(), reader_->out_height(),
                                          reader_->info().video.time_base, w);
}

void Annotator::result(int64_t index, const Prediction& p) {
  advance_to(index);
  last_ = index;
  objects_ = p.objects;
  classes_ = drawn_classes(p);
}

std::vector<std::string> Annotator::finish(bool complete) {
  advance_to(complete ? INT64_MAX : last_ + 1);
  if (!writer_) return {};
  writer_->close(complete);
  return audio_notes(*writer_);
}

void Annotator::advance_to(int64_t index) {
  while (next_ < index && reader_->next(frame_)) {
    next_ = frame_.info.index + 1;
    if (!writer_ && !(preview_ && preview_->watched())) continue;  // nobody to draw for
    draw_objects(frame_, objects_);
    draw_classes(frame_, classes_);
    if (writer_) writer_->write(frame_.data(), clock_.next(frame_.info.pts));
    if (preview_) preview_->picture(frame_.data(), frame_.width, frame_.height, PixelFormat::Rgb);
  }
}

LiveAnnotator::LiveAnnotator(std::string out, PixelFormat order, std::shared_ptr<AudioRelay> audio,
                             PreviewServer* preview, std::string format, int hls_window)
    : out_(std::move(out)),
      order_(order),
      audio_(std::move(audio)),
      preview_(preview),
      format_(std::move(format)),
      hls_window_(hls_window) {}

void LiveAnnotator::frame(Frame& f, double recording_offset, const Prediction& p, const Geometry& g,
                          Rational time_base) {
  if (!started_) {
    started_ = true;
    if (!out_.empty()) {
      VideoWriterOptions w;
      w.input = order_;
      w.tune = "zerolatency";  // frames reach the file as they come, with the audio beside them
      w.audio_relay = audio_;
      w.format = format_;
      w.hls_window = hls_window_;
      writer_ = std::make_unique<VideoWriter>(out_, f.width, f.height, time_base, w);
    }
    width_ = f.width;
    height_ = f.height;
    time_base_ = time_base;
  }
  if (!writer_ && !(preview_ && preview_->watched())) return;  // nobody to draw for
  std::vector<Detection> objects = p.objects;
  for (auto& d : objects) d.box = g.box_to_output(d.box);
  draw_objects(f, objects, order_);
  draw_classes(f, drawn_classes(p), order_);
  if (preview_) preview_->picture(f.data(), f.width, f.height, order_);
  if (!writer_ || f.width != width_ || f.height != height_) return;  // a reconnect at another size: not this file's
  // In this file's time base, on the recording's clock; never at or before the frame written last.
  const int64_t pts = rescale_pts(f.info.pts, time_base, time_base_) +
                      std::llround(recording_offset * time_base_.den / time_base_.num);
  last_ = std::max(pts, last_ + 1);
  writer_->write(f.data(), last_);
}

std::vector<std::string> LiveAnnotator::finish() {
  if (!writer_) return {};
  writer_->close();
  return audio_notes(*writer_);
}

}  // namespace framepipe
