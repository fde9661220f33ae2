"""The `framepipe` command of a pip-installed framepipe: the command-line program installed
beside framepipe's pure-Python parts (setup.py puts it there), run in place of this process."""
import os
import sys


def main():
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "framepipe")
    if not os.access(exe, os.X_OK):
        sys.exit(f"framepipe: the command-line program is not installed at {exe} (reinstall framepipe)")
    os.execv(exe, ["framepipe", *sys.argv[1:]])
