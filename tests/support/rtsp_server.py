"""A real RTSP server on loopback for the live tests: GStreamer's rtsp-server library (through
Debian's gir1.2-gst-rtsp-server-1.0), serving a live H.264 test pattern (a moving ball, a key
frame every second) at rtsp://127.0.0.1:PORT/s, with a tone beside it if asked (as a camera
with a microphone): Opus ("audio"), or G.711 mu-law at 8 kHz ("pcmu", what many IP cameras
send), over RTP on UDP or inside the RTSP connection, as the client asks.
The ffmpeg CLI cannot serve RTSP to a player, hence this.

    /usr/bin/python3 rtsp_server.py PORT [WxH] [FPS] [none|audio|pcmu]

Prints "ready" once it listens; runs until killed."""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    port = sys.argv[1]
    width, height = (sys.argv[2] if len(sys.argv) > 2 else "320x240").split("x")
    fps = sys.argv[3] if len(sys.argv) > 3 else "25"
    audio = sys.argv[4] if len(sys.argv) > 4 else "none"
    tone = {"none": "",
            "audio": "audiotestsrc is-live=true ! audioconvert ! opusenc ! rtpopuspay name=pay1 pt=97 ",
            "pcmu": "audiotestsrc is-live=true ! audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 "
                    "! mulawenc ! rtppcmupay name=pay1 "}[audio]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! openh264enc gop-size={fps} ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 "
        + tone + ")")
    factory.set_shared(True)
    server.get_mount_points().add_factory("/s", factory)
    if server.attach(None) == 0:
        sys.exit(f"rtsp_server: cannot listen on 127.0.0.1:{port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
