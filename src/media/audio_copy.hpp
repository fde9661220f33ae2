// The audio of a source copied into a Muxer beside its video: packet for packet, interleaved
// by time, each stream with its tags and disposition. A stream the container cannot hold as
// it is (PCM in MP4, AAC in WebM) is re-encoded to a codec it holds (AAC, Opus, ...), or left
// out where even that cannot be done.
// The source is a file (opened through a Demuxer) or a live stream's AudioRelay.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "media/audio_relay.hpp"
#include "media/av.hpp"

namespace framepipe {

class Demuxer;
class Muxer;
struct AudioTranscoder;

class AudioCopy {
 public:
  // Adds the source's audio streams to `mux` (before its header is written).
  AudioCopy(Muxer& mux, const std::string& file);
  AudioCopy(Muxer& mux, std::shared_ptr<AudioRelay> relay);
  ~AudioCopy();
  AudioCopy(const AudioCopy&) = delete;
  AudioCopy& operator=(const AudioCopy&) = delete;

  // Copies the packets whose time is at or before `seconds` (a live relay: those that have come).
  void copy_until(double seconds);
  // Drops the packets up to `seconds` (a destination opened again after an outage: its audio
  // goes on from where the video does).
  void skip_until(double seconds);
  void finish();  // the rest, and the re-encoders' last samples

  int64_t packets() const { return packets_; }
  const std::string& transcoded() const { return transcoded_; }  // "stream 1 (pcm_s16le)", ...
  const std::string& transcoded_to() const { return transcoded_to_; }  // what they became: "AAC", "Opus"
  const std::string& skipped() const { return skipped_; }
  // What did not reach the file: packets that could not be decoded for re-encoding, and (a
  // relay's) packets over its limit or of a later connection whose codec setup changed.
  const std::string& lost() const { return lost_; }

 private:
  void map_streams();
  bool add_transcoder(int input);
  int read(AVPacket* p);  // 1: a packet; 0: none yet (a relay); -1: the end
  // The next packet of a copied stream in pkt_, kept pending until taken; false where none
  // has come yet (a relay) or the input ended.
  bool next_pending();
  bool pending_after(double seconds) const;  // the pending packet's time is past `seconds`
  void note_losses();

  Muxer& mux_;
  std::unique_ptr<Demuxer> file_;      // the file
  std::shared_ptr<AudioRelay> relay_;  // or the relay
  std::vector<CopiedStream> streams_;  // every stream of the input (only audio is copied)
  std::vector<int> map_;               // input stream -> output stream, -1 for not copied
  std::map<int, std::unique_ptr<AudioTranscoder>> transcoders_;  // input stream -> AAC
  av::PacketPtr pkt_ = av::make_packet();
  bool pending_ = false, done_ = false;
  int64_t packets_ = 0, undecodable_ = 0;
  std::string transcoded_, transcoded_to_, skipped_, lost_;
};

}  // namespace framepipe
