"""A TCP relay that delays every byte by a fixed time in each direction.

    python3 delay_relay.py TARGET_HOST:PORT DELAY_MS [off]

Listens on 127.0.0.1 (a free port, printed as `relay listening on PORT`),
and forwards each connection to TARGET, holding data DELAY_MS in each
direction without limiting throughput. SIGUSR1 turns the delay off and on
again (`off` starts without it). Tests use it as latency on a link where the
kernel has no netem qdisc.
"""

import collections
import signal
import socket
import sys
import threading
import time


# Whether data is held DELAY_MS; SIGUSR1 flips it.
delaying = [True]


def pump(source, sink, delay):
    queue = collections.deque()
    ready = threading.Condition()

    def send():
        while True:
            with ready:
                while not queue:
                    ready.wait()
                due, data = queue.popleft()
            time.sleep(max(0.0, due - time.monotonic()))
            if not data:
                sink.shutdown(socket.SHUT_WR)
                return
            try:
                sink.sendall(data)
            except OSError:
                return

    threading.Thread(target=send, daemon=True).start()
    while True:
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        with ready:
            queue.append((time.monotonic() + (delay if delaying[0] else 0), data))
            ready.notify()
        if not data:
            return


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    delay = float(sys.argv[2]) / 1000
    delaying[0] = sys.argv[3:] != ["off"]
    signal.signal(signal.SIGUSR1, lambda *_: delaying.__setitem__(0, not delaying[0]))
    server = socket.create_server(("127.0.0.1", 0))
    print(f"relay listening on {server.getsockname()[1]}", flush=True)
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(source, sink, delay),
                             daemon=True).start()


if __name__ == "__main__":
    main()
