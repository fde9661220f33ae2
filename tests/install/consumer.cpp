// A program of a framepipe user, built against an installed framepipe (find_package or
// pkg-config; tests/python/test_install.py): prints frame N's index and pts, and writes it as
// a PNG (the image encoders are a module the installed library finds from where it lies).
//   consumer VIDEO N OUT_DIR   ->   "frame N pts P"
#include <cstdlib>
#include <iostream>

#include <framepipe/reader/video_reader.hpp>
#include <framepipe/sinks/frame_writer.hpp>
#include <framepipe/version.hpp>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: consumer VIDEO N OUT_DIR\n";
    return 2;
  }
  try {
    framepipe::VideoReader reader(argv[1]);
    const framepipe::Frame f = reader.frame(std::atoll(argv[2]));
    framepipe::FrameWriter(argv[3], framepipe::ImageFileFormat::Png, framepipe::PixelFormat::Rgb).write(f);
    std::cout << "frame " << f.info.index << " pts " << f.info.pts << " framepipe " << framepipe::kVersion << "\n";
  } catch (const std::exception& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
