#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Description: core/'s modules depend downward only, and the tools use the
public API only.

core/ has one folder per module, in layers (lowest first):
base <- msg <- cfg <- classify <- policy <- route <- chan <- journal <- router.
A file may include headers of its own module and of modules below it,
never above. Public headers (include/smsr/) include only other public
headers (client.h also the generated protocol, which it speaks). Programs in tools/ include no header of core/ (tools/train/ alone
may: it prints the classifier's internals for training).

Usage: check_layers.py SOURCE_DIR. Prints each violation; exits 1 if any.
"""
import os
import re
import sys

LAYERS = ["base", "msg", "cfg", "classify", "policy", "route", "chan", "journal", "router"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def sources(top):
    for d, _, names in os.walk(top):
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                yield os.path.join(d, n)


def main(root):
    core = os.path.join(root, "core")
    bad = []
    found = sorted(e for e in os.listdir(core) if os.path.isdir(os.path.join(core, e)))
    if found != sorted(LAYERS):
        bad.append("core/ folders %s are not the layers %s" % (found, LAYERS))
    for e in os.listdir(core):
        if e.endswith((".c", ".h")):
            bad.append("core/%s: every source lives in a module folder" % e)
    for path in sources(core):
        rel = os.path.relpath(path, core)
        mod = rel.split(os.sep)[0]
        if mod not in LAYERS:
            continue
        for inc in includes(path):
            if inc.startswith("smsr/"):
                continue
            head = inc.split("/")[0] if "/" in inc else mod
            if "/" not in inc and not os.path.exists(os.path.join(core, mod, inc)):
                bad.append("core/%s: \"%s\" is not in %s/; name its module" % (rel, inc, mod))
            elif head not in LAYERS:
                bad.append("core/%s: \"%s\" is outside core/" % (rel, inc))
            elif LAYERS.index(head) > LAYERS.index(mod):
                bad.append("core/%s (%s) includes \"%s\" from the layer above (%s)"
                           % (rel, mod, inc, head))
    for path in sources(os.path.join(root, "include")):
        for inc in includes(path):
            sibling = os.path.exists(os.path.join(os.path.dirname(path), inc))
            # The client library speaks the generated protocol types.
            proto = inc == "smsr.pb-c.h" and path.endswith("client.h")
            if not (inc.startswith("smsr/") or sibling or proto):
                bad.append("%s: public header includes \"%s\""
                           % (os.path.relpath(path, root), inc))
    tools = os.path.join(root, "tools")
    for path in sources(tools):
        rel = os.path.relpath(path, root)
        if rel.startswith(os.path.join("tools", "train") + os.sep):
            continue
        for inc in includes(path):
            if inc.split("/")[0] in LAYERS or os.path.exists(os.path.join(core, inc)):
                bad.append("%s: a tool includes the library's internal \"%s\"" % (rel, inc))
    for b in bad:
        print(b)
    print("layers: %d violation(s)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
