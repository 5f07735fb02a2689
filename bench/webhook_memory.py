#!/usr/bin/env python3
"""Peak memory of `palisade serve` under concurrent maximum-size admission reviews.

    python3 bench/webhook_memory.py [--binary target/release/palisade] [--concurrent 50] \
        [-- SERVE-OPTION ...]

Starts the webhook on a loopback port with a generated certificate, sends CONCURRENT reviews at
once, each just under the 6 MiB body limit, in three shapes (a Pod with tens of thousands of
containers, an object with hundreds of thousands of values, a Pod whose one annotation is
nearly 6 MB: the only shape that is fully reviewed), three rounds, and prints the server's peak
resident memory (VmHWM) and the answers it gave. Only loopback is used.
"""

import argparse
import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

LIMIT = 6 * 1024 * 1024


def review(uid, obj):
    return json.dumps({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": obj["kind"]},
            "namespace": "team-a",
            "operation": "CREATE",
            "userInfo": {"username": "bench"},
            "object": obj,
        },
    }).encode()


def fill(make, unit):
    """The largest body under the limit built by make(n)."""
    n = (LIMIT - 1024) // unit
    body = make(n)
    while len(body) >= LIMIT:
        n = n * 95 // 100
        body = make(n)
    return body


def shapes():
    def containers(n):
        cs = [{"name": f"c{i}", "image": "a:1", "securityContext": {"privileged": True}}
              for i in range(n)]
        return review("containers", {"apiVersion": "v1", "kind": "Pod",
                                     "metadata": {"name": "p", "namespace": "team-a"},
                                     "spec": {"containers": cs}})

    def values(n):
        return review("values", {"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "m", "namespace": "team-a"},
                                 "data": {f"k{i}": "v" for i in range(n)}})

    def annotation(n):
        return review("annotation", {"apiVersion": "v1", "kind": "Pod",
                                     "metadata": {"name": "p", "namespace": "team-a",
                                                  "annotations": {"note": "x" * n}},
                                     "spec": {"containers": [{"name": "c", "image": "a:1"}]}})

    return [fill(containers, 80), fill(values, 12), fill(annotation, 1)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def post(ctx, port, body, answers):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                          b"content-type: application/json\r\n"
                          + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                          + body)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        status = data.split(b" ", 2)[1].decode()
        payload = data.split(b"\r\n\r\n", 1)[1]
        answer = json.loads(payload).get("response", {})
        code = answer.get("status", {}).get("code", "")
        answers.append(f"{status}/{'allowed' if answer.get('allowed') else 'denied'}{code and ' ' + str(code)}")
    except Exception as err:  # noqa: BLE001 - every failure is reported in the summary
        answers.append(f"error: {err}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/release/palisade")
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("serve_args", nargs="*", help="more `palisade serve` options")
    args = parser.parse_args()

    port = free_port()
    server = subprocess.Popen(
        [args.binary, "serve", "--no-config", "--self-signed", "127.0.0.1",
         "--addr", f"127.0.0.1:{port}"] + args.serve_args,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ca = base64.b64decode(server.stdout.readline().strip()).decode()
    ctx = ssl.create_default_context(cadata=ca)
    time.sleep(0.5)
    idle = hwm_kib(server.pid)
    bodies = shapes()
    answers = []
    started = time.time()
    for _ in range(args.rounds):
        threads = [threading.Thread(target=post,
                                    args=(ctx, port, bodies[i % len(bodies)], answers))
                   for i in range(args.concurrent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    took = time.time() - started
    peak = hwm_kib(server.pid)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    counts = {}
    for a in answers:
        counts[a] = counts.get(a, 0) + 1
    sizes = ", ".join(f"{len(b) / 1e6:.2f} MB" for b in bodies)
    print(f"bodies: {sizes}")
    print(f"{args.rounds} rounds of {args.concurrent} concurrent reviews in {took:.1f} s")
    print(f"answers: {json.dumps(counts, sort_keys=True)}")
    print(f"peak RSS: {peak / 1024:.0f} MiB (idle {idle / 1024:.0f} MiB)")
    return 0 if not any(a.startswith("error") for a in answers) else 1


if __name__ == "__main__":
    sys.exit(main())
