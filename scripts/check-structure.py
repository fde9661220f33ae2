#!/usr/bin/python3
"""The structure the design asks for, checked on the tree (ctest runs it as `structure`).

  1. Every include points down: a file in layer L (src/L/, include/framepipe/L/) includes only
     headers of L or of the layers below it, in the order of LAYERS.
  2. No source file over MAX_FILE_LINES lines; no function or lambda body over MAX_FUNCTION_LINES
     (src/, apps/, python/; tests are exempt).
  3. Nothing at the repository's root but the project's own files.

Prints every breach as FILE:LINE: what, and exits 1 if there is one.
"""
import os
import re
import subprocess
import sys

# Bottom first. sinks sit below pipeline: the pipeline writes through them, they never run it.
LAYERS = ["common", "media", "image", "reader", "sample", "tensor", "infer", "post", "temporal", "sinks",
          "pipeline", "corpus"]
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 80
ROOT_FILES = {".ci", ".gitignore", "CMakeLists.txt", "Makefile", "README.md", "apps", "bench", "cmake", "fuzz",
              "pyproject.toml", "setup.py",
              "include", "python", "scripts", "src", "tests"}
SOURCE = (".cpp", ".hpp", ".cu", ".h")
CONTROL = ("if", "for", "while", "switch", "catch")


def layer_of(path):
    parts = path.split("/")
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[:2] == ["include", "framepipe"] and len(parts) > 3:
        return parts[2]
    if parts[:2] == ["include", "framepipe"]:
        return "common"  # error.hpp: the bottom of everything
    return None


def included_layer(target):
    t = target[len("framepipe/"):] if target.startswith("framepipe/") else target
    first = t.split("/")[0]
    if first in LAYERS:
        return first
    if "/" not in t and target.startswith("framepipe/"):
        return "common"
    return None


def check_includes(path, text, out):
    own = layer_of(path)
    if own not in LAYERS:
        return
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
        if not m:
            continue
        lay = included_layer(m.group(1))
        if lay and LAYERS.index(lay) > LAYERS.index(own):
            out.append(f"{path}:{n}: {own}/ includes {m.group(1)} from {lay}/, a layer above it")


def strip_code(text):
    """Comments, strings and characters blanked out (newlines kept), so braces can be counted."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            d = text.find("(", i + 2)
            end = ")" + text[i + 2:d] + '"'
            j = text.find(end, d)
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # a digit separator: 1'000'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def is_function_head(head):
    h = " ".join(head.split())
    h = re.sub(r"^(else\s+)", "", h)
    if not h or re.match(r"(%s)\b" % "|".join(CONTROL), h):
        return False
    h = re.sub(r"(\s*->\s*[\w:<>,\s*&]+)$", "", h)  # a trailing return type
    h = re.sub(r"(\s+(const|noexcept|override|final|mutable))+$", "", h)
    return h.endswith(")") or h.endswith("]")


def check_functions(path, text, out):
    code = strip_code(text)
    stack, head, depth, line = [], [], 0, 1
    for c in code:
        if c == "\n":
            line += 1
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "{":
            stack.append((line, is_function_head("".join(head))))
            head = []
        elif c == "}":
            if stack:
                start, fn = stack.pop()
                if fn and line - start + 1 > MAX_FUNCTION_LINES:
                    out.append(f"{path}:{start}: a function of {line - start + 1} lines (at most {MAX_FUNCTION_LINES})")
            head = []
        elif c == ";" and depth == 0:
            head = []
        else:
            head.append(c)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    try:
        files = subprocess.run(["git", "ls-files"], check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        files = [os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs if ".git" not in d]
    out = []
    for f in sorted(files):
        top = f.split("/")[0]
        if top not in ROOT_FILES:
            out.append(f"{f}:1: not one of the project's own files at the root")
        if not f.endswith(SOURCE) or top not in ("src", "include", "apps", "python") or not os.path.exists(f):
            continue
        text = open(f, encoding="utf-8").read()
        check_includes(f, text, out)
        lines = text.count("\n")
        if lines > MAX_FILE_LINES:
            out.append(f"{f}:1: {lines} lines (at most {MAX_FILE_LINES})")
        check_functions(f, text, out)
    for o in out:
        print(o)
    print(f"structure: {len(out)} breaches in {len(files)} files", file=sys.stderr)
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
