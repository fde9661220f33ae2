// Drawing results on frames: boxes with label, score and track id, and a class caption.
// Colours are fixed per track id (or per class where untracked), so an object keeps its
// colour through a video.
#pragma once

#include <string>
#include <vector>

#include "framepipe/image/pixel_format.hpp"
#include "framepipe/media/frame.hpp"
#include "framepipe/post/prediction.hpp"

namespace framepipe {

// Boxes in the frame's own pixel coordinates; `order` is the frame's channel order.
void draw_objects(Frame& frame, const std::vector<Detection>& objects, PixelFormat order = PixelFormat::Rgb);
// A caption in the top-left corner: "label 0.93", one line per class given.
void draw_classes(Frame& frame, const std::vector<ClassScore>& classes, PixelFormat order = PixelFormat::Rgb);

}  // namespace framepipe
