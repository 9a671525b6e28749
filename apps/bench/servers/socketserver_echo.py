"""Baseline: the chapter's design, a thread per client, as socketserver.ThreadingTCPServer.

Each client gets its own thread that reads lines and writes each one back (one write per line,
wfile is unbuffered). Prints {"port": N, "pid": P} on stdout once listening on 127.0.0.1.
"""
import json
import os
import signal
import socketserver
import sys


class LineEcho(socketserver.StreamRequestHandler):
    disable_nagle_algorithm = True

    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default queue of 5 drops connects when a thousand clients arrive at once.
    request_queue_size = 4096


def main():
    server = Server(("127.0.0.1", 0), LineEcho)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    sys.stdout.write(json.dumps({"port": server.server_address[1], "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
