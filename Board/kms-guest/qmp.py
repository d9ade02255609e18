#!/usr/bin/env python3
"""A minimal QMP client for Board/test-kms: connect to QEMU's monitor socket and run commands.

    qmp.py SOCKET screendump FILE.png      the scanned-out picture as PNG
    qmp.py SOCKET stop | cont | quit       pause, resume, or end the guest
"""
import json
import socket
import sys
import time


class QMP:
    def __init__(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rw")
        self.read()  # greeting
        self.command("qmp_capabilities")

    def read(self):
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError("QMP connection closed")
            message = json.loads(line)
            if "event" not in message:
                return message

    def command(self, name, **arguments):
        request = {"execute": name}
        if arguments:
            request["arguments"] = arguments
        self.file.write(json.dumps(request) + "\n")
        self.file.flush()
        reply = self.read()
        if "error" in reply:
            raise RuntimeError(f"{name}: {reply['error'].get('desc', reply['error'])}")
        return reply.get("return")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    qmp = QMP(argv[1])
    if argv[2] == "screendump":
        qmp.command("screendump", filename=argv[3], format="png")
    else:
        qmp.command(argv[2])


if __name__ == "__main__":
    main(sys.argv)
