// Fills MediaInfo from an open Demuxer (and the measured index, when there is one).
#pragma once

#include "framepipe/media/media_info.hpp"
#include "media/demuxer.hpp"

namespace framepipe {

MediaInfo describe(const Demuxer& demuxer, const FrameIndex* index);

}  // namespace framepipe
