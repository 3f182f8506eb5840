#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A second-language client: Python, from proto/PROTOCOL.md alone.

Generates smsr_pb2.py with protoc, starts smsrd (argv[1]) on a free loopback
port, then over one connection: ping, subscribe to events, submit a mixed
batch (codes, notices and promotions in Chinese and English, plus an invalid
number and an empty text), follow every accepted message to exactly one
final state, query the status history of one of them, and stop smsrd with
SIGTERM (exit status 0). Uses only Debian's python3-protobuf.

Usage: test_python_client.py SMSRD PROTO_DIR
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

FINAL = {3, 4, 5}  # EVENT_TYPE_DELIVERED, FAILED, EXPIRED


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


class Conn:
    """Framing (section 2): 4-byte big-endian length, then one message."""

    def __init__(self, pb, addr):
        host, port = addr.rsplit(":", 1)
        self.pb = pb
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.next_id = 1
        self.kept = []

    def send(self, req):
        req.call_id = self.next_id
        self.next_id += 1
        data = req.SerializeToString()
        self.sock.sendall(struct.pack(">I", len(data)) + data)
        return req.call_id

    def recv(self, deadline):
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= 4 + n:
                    resp = self.pb.Response()
                    resp.ParseFromString(self.buf[4:4 + n])
                    self.buf = self.buf[4 + n:]
                    return resp
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                if time.time() >= deadline:
                    return None
                continue
            if not chunk:
                return None
            self.buf += chunk

    def call(self, req, timeout=10):
        """Send and wait for the answer with this call_id; keep the rest."""
        cid = self.send(req)
        deadline = time.time() + timeout
        while True:
            resp = self.recv(deadline)
            if resp is None:
                fail("no answer to call %d" % cid)
            if resp.call_id == cid:
                return resp
            self.kept.append(resp)


def main():
    smsrd, proto_dir = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="smsr-py-")
    subprocess.run(["protoc", "-I", proto_dir, "--python_out=" + tmp,
                    os.path.join(proto_dir, "smsr.proto")], check=True)
    sys.path.insert(0, tmp)
    import smsr_pb2 as pb

    ready = os.path.join(tmp, "ready")
    daemon = subprocess.Popen([smsrd, "-q", "--tcp", "127.0.0.1:0", "--unix",
                               os.path.join(tmp, "s.sock"), "--ready-file", ready])
    try:
        deadline = time.time() + 10
        addr = None
        while time.time() < deadline and addr is None:
            if os.path.exists(ready):
                for line in open(ready):
                    if line.startswith("tcp="):
                        addr = line[4:].strip()
            time.sleep(0.05)
        if addr is None:
            fail("smsrd did not start")
        run(pb, Conn(pb, addr))
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            fail("smsrd did not stop on SIGTERM")
    if rc != 0:
        fail("smsrd exited %d" % rc)
    print("ok")


def run(pb, c):
    # 6.1 ping
    req = pb.Request()
    req.ping.payload = b"py"
    resp = c.call(req)
    if resp.HasField("error") or resp.ping.payload != b"py":
        fail("ping: %s" % resp)
    if resp.ping.server.protocol_version != 1 or resp.ping.server.max_batch < 10:
        fail("ping: server info %s" % resp.ping.server)

    # 8 subscribe first, so no event of the submit is missed
    req = pb.Request()
    req.subscribe.types.extend([pb.EVENT_TYPE_ACCEPTED, pb.EVENT_TYPE_DELIVERED,
                                pb.EVENT_TYPE_FAILED, pb.EVENT_TYPE_EXPIRED])
    sub = c.call(req)
    if sub.HasField("error") or sub.WhichOneof("body") != "subscribe":
        fail("subscribe: %s" % sub)
    sub_id = sub.call_id

    # 6.2 submit a mixed batch
    batch = [
        ("13812345678", "【淘宝网】验证码 528104，您正在登录淘宝，切勿告知他人。", pb.CLASS_VERIFICATION),
        ("+8618612345678", "Your parcel 7731 is at the front desk.", pb.CLASS_NOTICE),
        ("008613312345678", "【京东】双11狂欢，家电满3000减300，回TD退订", pb.CLASS_MARKETING),
        ("+14155550123", "Your Microsoft account security code is 804211.", pb.CLASS_VERIFICATION),
        ("13912345678", "【國泰世華】您的帳單已出帳，應繳金額NT$1,280。", pb.CLASS_NOTICE),
        ("15012345678", "H&M: 30% off new arrivals this weekend! Reply STOP to opt out.", pb.CLASS_MARKETING),
        ("12345", "hello", None),  # invalid number
        ("13812345678", "", None),  # empty text
    ]
    req = pb.Request()
    for to, text, _ in batch:
        m = req.submit.messages.add()
        m.recipient = to
        m.text = text
        m.client_ref = "py-%d" % len(req.submit.messages)
    resp = c.call(req)
    if resp.HasField("error"):
        fail("submit: %s" % resp.error)
    res = resp.submit.results
    if len(res) != len(batch) or resp.submit.accepted != 6:
        fail("submit: want 6 of 8 accepted, got %s" % resp.submit)
    for (to, text, want), r in zip(batch, res):
        if want is not None:
            if r.status != 0 or r.id == 0 or r.cls != want or not r.channel:
                fail("submit %r: %s" % (text, r))
    if (res[6].status, res[6].reason) != (1002, "invalid_number"):
        fail("invalid number: %s" % res[6])
    if (res[7].status, res[7].reason) != (1004, "empty_text"):
        fail("empty text: %s" % res[7])
    ids = {r.id for r in res if r.status == 0}

    # follow every accepted message to exactly one final state
    finals = {}
    accepted = set()
    deadline = time.time() + 60
    pending = c.kept
    c.kept = []
    while len(finals) < len(ids) and time.time() < deadline:
        resp = pending.pop(0) if pending else c.recv(deadline)
        if resp is None:
            break
        if resp.call_id != sub_id or resp.WhichOneof("body") != "event":
            continue
        ev = resp.event
        if ev.type == pb.EVENT_TYPE_OVERFLOW:
            fail("overflow on a quiet stream")
        if ev.id not in ids:
            continue
        if ev.type == pb.EVENT_TYPE_ACCEPTED:
            accepted.add(ev.id)
        elif ev.type in FINAL:
            if ev.id in finals:
                fail("two final events for %d" % ev.id)
            finals[ev.id] = pb.EventType.Name(ev.type)
    if set(finals) != ids:
        fail("final states for %d of %d messages" % (len(finals), len(ids)))
    print("final states:", sorted(finals.values()))

    # 6.3 status history of one message
    some = sorted(ids)[0]
    req = pb.Request()
    req.status.id = some
    resp = c.call(req)
    if resp.HasField("error") or len(resp.status.messages) != 1:
        fail("status: %s" % resp)
    st = resp.status.messages[0]
    types = [e.type for e in st.history]
    if (st.id != some or not st.final or st.segments != 1 or types[0] != pb.EVENT_TYPE_ACCEPTED
            or types[-1] not in FINAL):
        fail("status history: %s" % st)
    # 6.3 by client_ref
    req = pb.Request()
    req.status.client_ref = "py-1"
    resp = c.call(req)
    if resp.HasField("error") or resp.status.messages[0].client_ref != "py-1":
        fail("status by client_ref: %s" % resp)
    # 9: an unknown id is not_found
    req = pb.Request()
    req.status.id = 1
    resp = c.call(req)
    if resp.error.code != 1017 or resp.error.name != "not_found":
        fail("unknown id: %s" % resp)
    # 6.6 channel administration: drain, resume, remove
    req = pb.Request()
    req.channel_admin.name = "intl-b"
    req.channel_admin.drain.SetInParent()
    resp = c.call(req)
    if resp.HasField("error") or resp.channel_admin.channel.state != pb.CHANNEL_STATE_DRAINING:
        fail("drain: %s" % resp)
    req = pb.Request()
    req.channel_admin.name = "intl-b"
    req.channel_admin.remove.SetInParent()
    resp = c.call(req)
    if resp.HasField("error"):
        fail("remove: %s" % resp)
    req = pb.Request()
    req.channel_list.SetInParent()
    resp = c.call(req)
    states = {ch.name: ch.state for ch in resp.channel_list.channels}
    if states.get("intl-b") != pb.CHANNEL_STATE_REMOVED or states.get("intl-a") != pb.CHANNEL_STATE_UP:
        fail("channel_list after remove: %s" % states)
    req = pb.Request()
    req.channel_admin.name = "intl-b"
    req.channel_admin.remove.SetInParent()
    resp = c.call(req)
    if resp.error.name != "not_found":
        fail("second remove: %s" % resp)

    # 6.5 an MO reply "TD" puts its sender on the opt-out list: no marketing
    req = pb.Request()
    it = req.inject.items.add()
    it.mo.from_number = "+8613512345678"
    it.mo.to_number = "10690000"
    it.mo.text = "td"
    resp = c.call(req)
    if (resp.HasField("error") or resp.inject.results[0].status != 0
            or resp.inject.results[0].mo_action != pb.MO_ACTION_OPT_OUT):
        fail("inject mo: %s" % resp)
    req = pb.Request()
    m = req.submit.messages.add()
    m.recipient = "13512345678"
    m.text = "Weekend sale: 50% off everything"
    m.cls = pb.CLASS_MARKETING
    resp = c.call(req)
    if resp.HasField("error") or (resp.submit.results[0].status,
                                  resp.submit.results[0].reason) != (1032, "opted_out"):
        fail("marketing to an opted-out number: %s" % resp)

    # 8 unsubscribe
    req = pb.Request()
    req.unsubscribe.subscription = sub_id
    resp = c.call(req)
    if resp.HasField("error") or resp.unsubscribe.dropped != 0:
        fail("unsubscribe: %s" % resp)


if __name__ == "__main__":
    main()
