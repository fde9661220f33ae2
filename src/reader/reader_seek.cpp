// Positioning: which frame the decoder holds, reaching a frame by seeking or decoding forward,
// and checking that the frame reached is the one the index promised.
#include "reader/frame_cursor.hpp"

#include "image/rotate.hpp"

extern "C" {
#include <libswscale/swscale.h>
}

namespace framepipe {

void FrameCursor::note_damage() {
  // Damage reported while decoding a frame taints its keyframe group and the next (as the
  // index scan marks them): a later request there is read from the start, as a stream read
  // it, because a damaged picture decodes from what the decoder saw before (MJPEG's decodes
  // one way after the frame before it and another, without a word, after a seek:
  // fuzz/regressions/fuzz_access).
  // Only in a run from the start: after a seek, leading pictures of an open GOP report errors
  // that are no damage, and the seeked run is judged by its own accounting (close_run).
  const int64_t d = dec->damage();
  if (d == frame_damage) return;
  frame_damage = d;
  if (run_key != kRunFromStart || !index || cursor < 0 || cursor >= index->size()) return;
  const int64_t key = index->keyframe_at_or_before(cursor);
  damaged_keys.insert(key);
  for (int64_t i = cursor + 1; i < index->size(); ++i)
    if ((*index)[i].keyframe) {
      damaged_keys.insert(i);
      break;
    }
}

bool FrameCursor::decode_next() {
  const bool by_pts = index && index->timestamps_reliable();
  frame_damage = std::min(frame_damage, dec->damage());  // a fresh decoder counts from 0
  for (;;) {
    if (!dec->next(cur.get())) {
      have_cur = false;
      return false;
    }
    have_cur = true;
    frames_decoded.fetch_add(1, std::memory_order_relaxed);
    // (Not where packets were skipped: a frame out of place there is the skip's doing, and
    // goto_frame reads such a run again skipping nothing.)
    if (run_key == kRunFromStart && dec->damage() > 0 && dec->frame_threaded() && !demux->live() &&
        !dec->skipped_any())
      return redecode_on_one_thread(by_pts);
    if (!by_pts) {
      cursor = cursor_known ? cursor + 1 : 0;  // counting from a fresh start
      cursor_known = true;
      note_damage();
      return true;
    }
    // Placed by its packet's pts, which names it wherever decoding started (the best-effort
    // pts depends on what was decoded before).
    const int64_t ts = cur->pts != AV_NOPTS_VALUE ? cur->pts : frame_timestamp(cur.get());
    const int64_t idx = ts == AV_NOPTS_VALUE ? -1 : index->locate_source_pts(ts);
    if (idx >= 0) {
      // From the start with nothing skipped, the decoder gives every frame in order: one
      // that comes early means frames the index promised were never decoded.
      if (cursor_known && idx != cursor + 1 && run_key == kRunFromStart && !dec->skipped_any() && idx > cursor)
        throw DecodeError("'" + source.name() + "': the decoder gave frame " + std::to_string(idx) + " after frame " +
                          std::to_string(cursor) + ", so frames the index promised were not decoded (index by " +
                          index->provenance() + "); open it with index='decode'");
      cursor = idx;
      cursor_known = true;
      note_damage();
      return true;
    }
    if (cursor_known)  // never guessed: a frame the index does not know contradicts it
      throw DecodeError("'" + source.name() + "': after frame " + std::to_string(cursor) +
                        " the decoder gave a frame (packet pts " + std::to_string(ts) +
                        ") that the index does not have, so frame numbers cannot be trusted here (index by " +
                        index->provenance() + "); open it with index='decode'");
    // Right after a seek, a frame we cannot place (e.g. a broken leading frame): skip it.
  }
}

// Frame threads conceal damage by timing: two decodes of one damaged file differ (in the
// ffmpeg CLI too), and a frame read by index would differ from the same frame streamed. From
// the first damage a decode from the start meets (a seeked run that meets damage is read from
// the start: goto_frame), this reader decodes on one thread, as `ffmpeg -threads 1` does, and
// the frame at hand is decoded again that way. Frames before the damage are the same either
// way. (The decoder reports damage while decoding the damaged packet, before any frame that
// depends on it comes out.)
bool FrameCursor::redecode_on_one_thread(bool by_pts) {
  int64_t target = -1;
  if (!by_pts) {
    target = cursor_known ? cursor + 1 : 0;
  } else {
    const int64_t ts = cur->pts != AV_NOPTS_VALUE ? cur->pts : frame_timestamp(cur.get());
    target = ts == AV_NOPTS_VALUE ? -1 : index->locate_source_pts(ts);
  }
  decoder_threads = 1;
  set_wanted(nullptr, false);  // nothing skipped from here on (a batch's scope ends later)
  open_stream();
  seeks.fetch_add(1, std::memory_order_relaxed);
  if (target < 0) return decode_next();  // a frame nobody can place: on to the next one
  while (decode_next())
    if (cursor >= target) {
      if (cursor == target) return true;
      break;
    }
  throw DecodeError("'" + source.name() + "': frame " + std::to_string(target) +
                    " came from a multi-threaded decode of damaged data but not from a decode on one thread");
}

// Damage accounting. The decoder reports damage as it meets it (VideoReader::damage_reports,
// --strict); the reader decides which reports are damage:
// - from the start of the stream, every report is;
// - after a seek to a closed group, every report since the seek is;
// - after a seek that begins at an open GOP's keyframe (a recovery point, or an HEVC CRA),
//   the pictures decoded before the run's home group comes out refer to frames the decoder
//   never saw, and FFmpeg says so ("mmco: unref short failure", missing references): those
//   reports are not damage. From the home group's first frame on, reports count where a frame
//   is handed out after them; what a run reports after its last handed-out frame concerns
//   frames nobody took (read ahead past the target, skipped keyframe groups) and is dropped
//   with the run.
// A clean open-GOP file thus reports no damage by any route, and --strict fails only where
// damage lies in what is handed out or what it was decoded from.
void FrameCursor::mark_run() {
  run_mark = decoder_reports();
  run_refused_mark = decoder_refusals();
}

void FrameCursor::close_run() {
  const std::lock_guard lock(dec_mu);
  if (!dec) return;
  const int64_t now = decoder_reports();
  if (!run_excuses && now > run_mark) counted_damage.fetch_add(now - run_mark, std::memory_order_relaxed);
  mark_run();
}

void FrameCursor::abandon_run() {
  const std::lock_guard lock(dec_mu);
  mark_run();
}

void FrameCursor::land_run() {
  const std::lock_guard lock(dec_mu);
  run_landed = true;
  // The seek's landing is a claim too: MPEG-TS searches timestamps and can land elsewhere than
  // on the keyframe asked for (h264_opengop_long.ts: inside a group, or on another open GOP's
  // keyframe), and what it decodes before the home group then misses references as after
  // any such seek. Landing on the keyframe asked for, or on a clean one, excuses nothing.
  if (const int64_t pts = demux->landing_pts(); !run_excuses && pts != AV_NOPTS_VALUE) {
    const int64_t at = index->locate_source_pts(pts);
    run_excuses = at != std::max<int64_t>(run_key, 0) && (at < 0 || !(*index)[at].keyframe || (*index)[at].open_gop);
  }
  if (run_excuses) mark_run();
}

void FrameCursor::account_damage(int64_t t) {
  bool lost = false;
  {
    const std::lock_guard lock(dec_mu);
    const int64_t now = decoder_reports();
    if (now <= run_mark) return;
    lost = decoder_refusals() > run_refused_mark;
    counted_damage.fetch_add(now - run_mark, std::memory_order_relaxed);
    mark_run();
  }
  if (opt.strict || (opt.strict_lost && lost)) {
    const int64_t pts = index && t >= 0 && t < index->size() ? (*index)[t].pts : frame_timestamp(cur.get());
    throw DecodeError(std::string("damaged data") + (lost ? " (a packet the decoder refused: its picture is lost)" : "") +
                      " before frame " + std::to_string(t) + " (pts " + std::to_string(pts) + ") of '" +
                      source.name() + "' (strict mode)");
  }
}

void FrameCursor::seek_to_group(int64_t key, int64_t home) {
 
  seeks.fetch_add(1, std::memory_order_relaxed);
  close_run();
  run_key = key;
  run_home = std::max(home, key);
  if (!index || !index->timestamps_reliable()) {
    if (!fresh()) open_stream();  // exact restart for streams that must be counted
    run_key = run_home = kRunFromStart;
    return;
  }
  // By pts first: Matroska seeks by pts and MP4 by edit-list-shifted dts, and both land on
  // the keyframe itself. MPEG-TS searches any packet's dts, and lands past a keyframe
  // sought by pts; a reader that met such a landing seeks by dts from then on (at or
  // before the keyframe everywhere, a group early in MP4/MKV).
  const FrameEntry& e = (*index)[std::max<int64_t>(key, 0)];
  const int64_t ts = seek_by_dts && e.dts != INT64_MIN ? e.dts : e.source_pts;
  if (!demux->seek(ts)) {
    open_stream();
    return;
  }
  if (dec->damage() > 0 || dec->flush_keeps_state()) {
    // Damaged data can leave a decoder in a state a flush keeps (MJPEG after a damaged
    // picture decoded the next one wrong: fuzz/regressions/fuzz_access), and HEVC's pools
    // outlive a flush (Decoder::flush_keeps_state): a fresh one starts the group as a
    // stream's decoder started it.
    new_decoder();
  } else {
    dec->flush();
  }
  {
    const std::lock_guard lock(dec_mu);
    run_landed = false;
    // Key frames only send no packet before the wanted keyframe (Decoder::set_key_only):
    // decoding begins there, wherever the seek landed.
    const int64_t begins = key_only ? run_home : key;
    run_excuses = begins > 0 && (*index)[begins].open_gop;
    mark_run();
  }
  have_cur = cursor_known = false;
  cursor = -1;
}

plan::Position FrameCursor::position(int64_t t) const {
  plan::Position at;
  at.fresh = fresh();
  at.cursor = have_cur && cursor_known ? cursor : -1;
  at.in_flight = dec->in_flight_depth();
  at.skipped_pts = dec->may_have_skipped((*index)[t].source_pts);
  return at;
}

void FrameCursor::read_as_streamed(int64_t t, int64_t group) {
  damaged_keys.insert(group);
  if (in_pool) throw DamagedRun{};
  goto_frame_from_start(t);
}

void FrameCursor::goto_frame(int64_t t) {
  if (have_cur && cursor_known && cursor == t) return;
  const bool by_pts = index->timestamps_reliable();
  const int64_t group = by_pts ? index->keyframe_at_or_before(t) : -1;  // t's own keyframe group
  if ((*index)[t].damaged || damaged_keys.count(group)) return goto_frame_from_start(t);
  if (!plan::decodes_forward(*index, position(t), t, key_only))
    seek_to_group(plan::seek_start(*index, group, key_only), group);
  for (int retries = 0;;) {
    const int64_t before = cursor_known ? cursor : -1;
    const bool got = decode_next();
    if (got && run_key != kRunFromStart && !run_landed && cursor >= std::max<int64_t>(run_home, 0)) land_run();
    if (got && cursor == t) {
      const bool seeked = run_key != kRunFromStart;
      // Damage met on the way from the keyframe (after a seek), or met while frames around
      // it were skipped (a flipped bit in a slice header turns a reference frame into one a
      // skip drops: test_damage found a frame 38 that differed so): concealment depends on
      // what came before, so this frame may differ from the stream's.
      if (decoder_reports() > run_mark && (seeked || dec->skipped_any())) return read_as_streamed(t, group);
      // After the seek the container put another packet at this frame's timestamp than a
      // read from the start does (an AVI whose damaged idx1 numbers chunks otherwise than
      // the chunks themselves: fuzz/regressions/fuzz_access).
      if (seeked && !at_indexed_position(t)) return read_as_streamed(t, group);
      // A decode scan saw this frame otherwise: the data decodes differently after a seek
      // or a skip (silent damage that refers across groups or to skipped frames).
      if (!matches_index(t)) return read_as_streamed(t, group);
      account_damage(t);
      return;
    }
   
    if (got && cursor < t) continue;
    // The run did not deliver t. Where it landed and what it skipped are claims about the
    // container and the decoder; where they fail, the run is tried again with less of them:
    // a seek lands a group earlier, by dts (MPEG-TS lands past a keyframe sought by pts),
    // twice; then from the start with nothing skipped, as a stream is read.
    const bool skipping = wanted_pts || key_only;
    if ((run_key != kRunFromStart || skipping) && retries < kMaxRetries) {
      ++retries;
      seek_by_dts = seek_by_dts || run_key != kRunFromStart;
      abandon_run();  // what it reported came of a decode unlike the stream's
      if (retries == kMaxRetries || run_key == kRunFromStart) {
        set_wanted(nullptr, false);  // nothing skipped from here on (a batch's scope ends later)
        open_stream();
        seeks.fetch_add(1, std::memory_order_relaxed);
        retries = kMaxRetries;
      } else {
        const int64_t from = run_key > 0 ? index->keyframe_at_or_before(run_key - 1) : -1;
        seek_to_group(from, group);
      }
      continue;
    }
    missed(t, before, got);
  }
}

void FrameCursor::goto_frame_from_start(int64_t t) {
  if (in_pool) throw DamagedRun{};
  set_wanted(nullptr, false);  // nothing skipped from here on (a batch's scope ends later)
  const bool continuing = have_cur && cursor_known && cursor < t && run_key == kRunFromStart && !dec->skipped_any();
  if (!continuing && !fresh()) {
    open_stream();
    seeks.fetch_add(1, std::memory_order_relaxed);
  }
  for (;;) {
    const int64_t before = cursor_known ? cursor : -1;
    const bool got = decode_next();
    if (got && cursor == t) {
      if (!matches_index(t)) throw differs_from_index(t);
      account_damage(t);
      return;
    }
   
    if (got && cursor < t) continue;
    missed(t, before, got);
  }
}

void FrameCursor::missed(int64_t t, int64_t before, bool got) const {
  if (!got)
    throw DecodeError("frame " + std::to_string(t) + " of '" + source.name() +
                      "' could not be decoded: the stream ended after frame " + std::to_string(before));
  throw DecodeError("frame " + std::to_string(t) + " of '" + source.name() +
                    "' was not produced by the decoder (it went from frame " + std::to_string(before) + " to " +
                    std::to_string(cursor) + "); the file may be damaged");
}

DecodeError FrameCursor::differs_from_index(int64_t t) const {
  return DecodeError("frame " + std::to_string(t) + " of '" + source.name() +
                     "' decodes otherwise than when the index was made (damaged data concealed differently, as "
                     "frame threads do): open it with num_threads=1 for reproducible frames");
}

bool FrameCursor::at_indexed_position(int64_t t) const {
  const int64_t want = (*index)[t].pos, got = frame_packet_pos(cur.get());
  return want < 0 || got < 0 || want == got;
}

bool FrameCursor::matches_index(int64_t t) const {
  const uint64_t h = (*index)[t].hash;
  return h == 0 || frame_hash(cur.get()) == h;
}

FrameInfo FrameCursor::current_info() const {
  FrameInfo fi;
  fi.index = cursor;
  if (index && cursor >= 0 && cursor < index->size()) {
    const FrameEntry& e = (*index)[cursor];
    fi.pts = e.pts;
    fi.keyframe = e.keyframe;
    fi.t = index->seconds(e.pts);
  } else {
    const AVRational tb = demux->video_stream()->time_base;
    fi.pts = frame_timestamp(cur.get());
    fi.t = static_cast<double>(fi.pts) * tb.num / tb.den;
    fi.keyframe = frame_is_key(cur.get());
  }
  return fi;
}

void FrameCursor::convert_frame(const AVFrame* frame, uint8_t* dst) {
  frames_returned.fetch_add(1, std::memory_order_relaxed);
  if (rotator) {
    frame = rotator->apply(frame);
  } else if (upright.planar()) {
    if (turns_planes(frame->format, upright)) {
      rotate_frame(frame, upright, turned.get());
      frame = turned.get();
    } else {
      frame = convert_then_turn(frame);
    }
  }
  if (frame->width != geom.src_width || frame->height != geom.src_height) {
    // The stream changed size mid-way: keep the output size the caller was promised.
    ImageOptions o = opt.image;
    o.width = geom.out_width;
    o.height = geom.out_height;
    geom = make_geometry(frame->width, frame->height, o, 2, 2);
  }
  conv.convert(frame, geom, opt.image, dst, static_cast<size_t>(geom.out_width) * channels(opt.image.pix));
}

// What the CLI's transpose cannot take (4:2:2 turned a quarter), libavfilter converts first to
// the format it picks among those transpose takes (yuv444p for yuv422p), by a swscale pass of
// its defaults (bicubic); so does this, then turns that.
const AVFrame* FrameCursor::convert_then_turn(const AVFrame* frame) {
  const int fmt = transpose_input_format(frame->format);
  if (fmt < 0)
    throw UnsupportedError("'" + source.name() + "': no pixel format to turn its frames in; open it with autorotate off");
  ensure_frame_buffer(evened.get(), frame->width, frame->height, fmt);
  // The same context while size and formats stay (swscale compares them), a new one otherwise.
  evened_sws.reset(sws_getCachedContext(evened_sws.release(), frame->width, frame->height,
                                        static_cast<AVPixelFormat>(frame->format), frame->width, frame->height,
                                        static_cast<AVPixelFormat>(fmt), SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!evened_sws) throw UnsupportedError("'" + source.name() + "': swscale cannot convert its frames to turn them");
  sws_scale(evened_sws.get(), frame->data, frame->linesize, 0, frame->height, evened->data, evened->linesize);
  av_frame_copy_props(evened.get(), frame);
  rotate_frame(evened.get(), upright, turned.get());
  return turned.get();
}

size_t FrameCursor::frame_bytes() const {
  return static_cast<size_t>(geom.out_width) * geom.out_height * channels(opt.image.pix);
}

void FrameCursor::set_wanted(const std::vector<int64_t>* pts, bool keys) {
  wanted_pts = pts;
  key_only = keys;
  if (index && !frame_pts) {  // see Decoder::set_frame_pts
    auto sorted = std::make_shared<std::vector<int64_t>>();
    sorted->reserve(static_cast<size_t>(index->size()));
    for (const FrameEntry& e : index->frames()) sorted->push_back(e.source_pts);
    std::sort(sorted->begin(), sorted->end());
    frame_pts = std::move(sorted);
  }
  dec->set_wanted(pts);
  dec->set_key_only(keys);
  dec->set_frame_pts(frame_pts);
}

}  // namespace framepipe
