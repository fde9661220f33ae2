// The preview's HTTP side is as small as a browser needs: GET only, one request per
// connection, Connection: close. See preview_server.hpp.
#include "sinks/preview_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
}

#include "framepipe/error.hpp"
#include "media/av.hpp"

namespace framepipe {

namespace {

constexpr size_t kResults = 20;
constexpr int kSendTimeoutMs = 10000;  // a viewer that takes nothing for this long is dropped

const char* kPage = R"html(<!doctype html>
<html><head><meta charset="utf-8"><title>framepipe preview</title>
<style>
body{margin:0;background:#111;color:#ddd;font:14px/1.4 system-ui,sans-serif;display:flex;gap:16px;padding:16px}
#video{max-width:70vw;max-height:90vh;object-fit:contain;background:#000}
#side{flex:1;min-width:280px}
pre{white-space:pre-wrap;word-break:break-all;background:#1b1b1b;padding:8px;margin:0 0 12px;font-size:12px}
h1{font-size:16px;margin:0 0 8px}
</style></head>
<body><img id="video" src="/video" alt="the annotated video">
<div id="side"><h1>framepipe</h1>
<div>results: <span id="count">0</span></div>
<pre id="results">waiting for results</pre>
<h1>stages</h1><pre id="metrics"></pre></div>
<script>
async function poll(){
  try{
    const r=await fetch('/results',{cache:'no-store'});
    const j=await r.json();
    document.getElementById('count').textContent=j.count;
    document.getElementById('results').textContent=j.results.slice(-5).map(x=>JSON.stringify(x)).join('\n')||'waiting for results';
    document.getElementById('metrics').textContent=(j.metrics||[]).map(m=>m.stage+': '+m.items+' items, '+(m.items_per_s||0).toFixed(1)+'/s').join('\n');
  }catch(e){}
  setTimeout(poll,500);
}
poll();
</script></body></html>
)html";

// Writes all of `data` to `fd`, waiting at most kSendTimeoutMs for the viewer to take each
// part; false when it went away or stalled, or `stop` was set.
bool send_all(int fd, const char* data, size_t n, const std::atomic<bool>& stop) {
  int waited = 0;
  while (n > 0) {
    if (stop.load()) return false;
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, 200);  // in slices, so that a stop is seen at once
    if (ready < 0 || (p.revents & (POLLERR | POLLHUP))) return false;
    if (ready == 0) {
      if ((waited += 200) >= kSendTimeoutMs) return false;
      continue;
    }
    waited = 0;
    const ssize_t sent = ::send(fd, data, n, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

bool send_all(int fd, const std::string& s, const std::atomic<bool>& stop) { return send_all(fd, s.data(), s.size(), stop); }

// The request's path, from its first line ("" where none came within a few seconds).
std::string request_path(int fd) {
  std::string req;
  char buf[1024];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    const ssize_t got = ::recv(fd, buf, sizeof buf, 0);
    if (got <= 0) break;
    req.append(buf, static_cast<size_t>(got));
  }
  if (req.rfind("GET ", 0) != 0) return {};
  const size_t end = req.find(' ', 4);
  std::string path = req.substr(4, end == std::string::npos ? std::string::npos : end - 4);
  if (const size_t q = path.find('?'); q != std::string::npos) path.resize(q);
  return path;
}

std::string response(const char* status, const char* type, const std::string& body) {
  return std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

struct PreviewServer::Impl {
  std::string host;
  int port = 0;
  int listen_fd = -1;
  std::atomic<bool> stop{false};
  std::atomic<int> viewers{0}, video_viewers{0};
  std::thread acceptor;
  struct Client {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::list<Client> clients;  // the acceptor's; finished ones are joined as new ones come

  // The newest JPEG and what /results says, under mu; `version` counts pictures.
  mutable std::mutex mu;
  std::condition_variable fresh;
  std::shared_ptr<const std::string> jpeg;
  uint64_t version = 0;
  std::deque<std::string> results;
  int64_t result_count = 0;
  std::string metrics = "[]";

  // The encoder, used by the run's thread only.
  av::CodecContext enc;
  av::SwsPtr sws;
  av::FramePtr yuv = av::make_frame();
  av::PacketPtr packet = av::make_packet();
  int enc_w = 0, enc_h = 0;
  int sws_fmt = -1;
  std::chrono::steady_clock::time_point last_picture{};

  void serve();
  void client(int fd);
  void stream(int fd);
  std::string results_json() const;
  std::string encode(const uint8_t* pixels, int w, int h, PixelFormat order);
};

PreviewServer::PreviewServer(const std::string& where) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  std::string host = "127.0.0.1", port = where;
  if (const size_t colon = where.rfind(':'); colon != std::string::npos) {
    host = where.substr(0, colon);
    port = where.substr(colon + 1);
  }
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (port.empty() || *end || p < 0 || p > 65535 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw ConfigError("preview: '" + where + "' is not [HOST:]PORT (an IPv4 address and a port, e.g. 8080 or 0.0.0.0:8080)");
  addr.sin_port = htons(static_cast<uint16_t>(p));
  m.host = host;
  m.listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (m.listen_fd < 0 || ::setsockopt(m.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::bind(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m.listen_fd, 16) != 0) {
    const int err = errno;
    if (m.listen_fd >= 0) ::close(m.listen_fd);
    throw IoError("preview: cannot listen on " + host + ":" + port + ": " + std::strerror(err), err);
  }
  socklen_t len = sizeof addr;
  ::getsockname(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m.port = ntohs(addr.sin_port);
  m.acceptor = std::thread([&m] { m.serve(); });
}

PreviewServer::~PreviewServer() {
  Impl& m = *impl_;
  m.stop = true;
  m.fresh.notify_all();
  if (m.acceptor.joinable()) m.acceptor.join();
  ::close(m.listen_fd);
  for (auto& c : m.clients) c.thread.join();
}

std::string PreviewServer::url() const { return "http://" + impl_->host + ":" + std::to_string(impl_->port) + "/"; }

bool PreviewServer::watched() const { return impl_->video_viewers.load() > 0; }

void PreviewServer::Impl::serve() {
  while (!stop.load()) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    if (viewers.load() >= kMaxViewers) {
      send_all(fd, response("503 Service Unavailable", "text/plain", "too many viewers\n"), stop);
      ::close(fd);
      continue;
    }
    for (auto c = clients.begin(); c != clients.end();) {
      if (!c->done.load()) {
        ++c;
        continue;
      }
      c->thread.join();
      c = clients.erase(c);
    }
    ++viewers;
    Client& c = clients.emplace_back();
    c.thread = std::thread([this, fd, &c] {
      client(fd);
      ::close(fd);
      --viewers;
      c.done = true;
    });
  }
}

void PreviewServer::Impl::client(int fd) {
  const std::string path = request_path(fd);
  if (path == "/" || path == "/index.html") {
    send_all(fd, response("200 OK", "text/html; charset=utf-8", kPage), stop);
  } else if (path == "/results") {
    send_all(fd, response("200 OK", "application/json", results_json()), stop);
  } else if (path == "/video") {
    ++video_viewers;
    stream(fd);
    --video_viewers;
  } else {
    send_all(fd, response("404 Not Found", "text/plain", "not here: /, /video, /results\n"), stop);
  }
}

void PreviewServer::Impl::stream(int fd) {
  if (!send_all(fd, std::string("HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n"
                                "Cache-Control: no-store\r\nConnection: close\r\n\r\n"), stop))
    return;
  uint64_t sent = 0;
  for (;;) {
    std::shared_ptr<const std::string> picture;
    {
      std::unique_lock lock(mu);
      fresh.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop.load() || version != sent; });
      if (stop.load()) return;
      if (version == sent || !jpeg) continue;
      picture = jpeg;  // the newest: pictures made while this viewer was busy are skipped
      sent = version;
    }
    const std::string head = "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " +
                             std::to_string(picture->size()) + "\r\n\r\n";
    if (!send_all(fd, head, stop) || !send_all(fd, *picture, stop) || !send_all(fd, "\r\n", 2, stop)) return;
  }
}

std::string PreviewServer::Impl::results_json() const {
  std::lock_guard lock(mu);
  std::string out = "{\"count\": " + std::to_string(result_count) + ", \"results\": [";
  for (size_t k = 0; k < results.size(); ++k) out += (k ? ", " : "") + results[k];
  return out + "], \"metrics\": " + metrics + "}";
}

void PreviewServer::result(const std::string& json_line) {
  std::lock_guard lock(impl_->mu);
  impl_->results.push_back(json_line);
  if (impl_->results.size() > kResults) impl_->results.pop_front();
  ++impl_->result_count;
}

void PreviewServer::metrics(const std::string& json) {
  std::lock_guard lock(impl_->mu);
  impl_->metrics = json;
}

void PreviewServer::picture(const uint8_t* pixels, int width, int height, PixelFormat order) {
  Impl& m = *impl_;
  if (!watched()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - m.last_picture < std::chrono::milliseconds(1000 / kFps)) return;
  m.last_picture = now;
  auto jpeg = std::make_shared<const std::string>(m.encode(pixels, width, height, order));
  {
    std::lock_guard lock(m.mu);
    m.jpeg = std::move(jpeg);
    ++m.version;
  }
  m.fresh.notify_all();
}

// JPEG by libavcodec's MJPEG encoder (full-range 4:2:0), no module to load.
std::string PreviewServer::Impl::encode(const uint8_t* pixels, int w, int h, PixelFormat order) {
  const int fmt = order == PixelFormat::Gray ? AV_PIX_FMT_GRAY8 : order == PixelFormat::Bgr ? AV_PIX_FMT_BGR24
                                                                                             : AV_PIX_FMT_RGB24;
  if (!enc || w != enc_w || h != enc_h) {
    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) throw UnsupportedError("preview: this FFmpeg has no MJPEG encoder");
    av::CodecContext c(avcodec_alloc_context3(codec));
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUVJ420P;
    c->time_base = AVRational{1, kFps};
    c->flags |= AV_CODEC_FLAG_QSCALE;
    c->global_quality = FF_QP2LAMBDA * 4;
    if (int r = avcodec_open2(c.get(), codec, nullptr); r < 0) av::throw_error(ErrorKind::Unsupported, r, "cannot open the MJPEG encoder for", "the preview");
    enc = std::move(c);
    enc_w = w;
    enc_h = h;
    yuv.reset(av_frame_alloc());
    yuv->format = AV_PIX_FMT_YUVJ420P;
    yuv->width = w;
    yuv->height = h;
    if (int r = av_frame_get_buffer(yuv.get(), 0); r < 0) av::throw_error(ErrorKind::Io, r, "cannot allocate a frame for", "the preview");
    sws_fmt = -1;
  }
  if (fmt != sws_fmt || !sws) {
    sws.reset(sws_getContext(w, h, static_cast<AVPixelFormat>(fmt), w, h, AV_PIX_FMT_YUVJ420P, SWS_BILINEAR, nullptr,
                             nullptr, nullptr));
    if (!sws) throw UnsupportedError("preview: no conversion to JPEG's pixels");
    sws_fmt = fmt;
  }
  if (int r = av_frame_make_writable(yuv.get()); r < 0) av::throw_error(ErrorKind::Io, r, "cannot reuse a frame for", "the preview");
  const uint8_t* planes[1] = {pixels};
  const int stride[1] = {w * (order == PixelFormat::Gray ? 1 : 3)};
  sws_scale(sws.get(), planes, stride, 0, h, yuv->data, yuv->linesize);
  std::string out;
  if (avcodec_send_frame(enc.get(), yuv.get()) < 0) return out;
  while (avcodec_receive_packet(enc.get(), packet.get()) == 0) {
    out.append(reinterpret_cast<const char*>(packet->data), static_cast<size_t>(packet->size));
    av_packet_unref(packet.get());
  }
  return out;
}

}  // namespace framepipe
