#!/usr/bin/env python3
"""Guest side of Board/test-kms's `parla serve` step: the control API's client on loopback.

    serve_client.py RESULTS [PORT]

POSTs a /say (a long text at a slow rate, so the face speaks for seconds even under TCG), then polls /status until
it says the face is speaking and frames were shown; writes that status to RESULTS/serve-speaking (the host's cue to
take its screendump) and exits 0. Exits non-zero with one line when the API does not answer or the face never
speaks. Standard library only.
"""
import json
import sys
import time
import urllib.request

TEXT = ("Welcome to the museum. This face is drawn by parla serve on the panel, while the control API listens on "
        "loopback. Ask me about the paintings in this room, and I will tell you who made them and when.")


def main():
    results = sys.argv[1]
    api = f"http://127.0.0.1:{sys.argv[2] if len(sys.argv) > 2 else 8080}"
    body = json.dumps({"text": TEXT, "rate": 110}).encode()
    request = urllib.request.Request(api + "/say", data=body, headers={"Content-Type": "application/json"},
                                     method="POST")
    with urllib.request.urlopen(request, timeout=120) as r:
        print("say:", r.status, r.read().decode(), flush=True)
    status = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with urllib.request.urlopen(api + "/status", timeout=60) as r:
            status = json.load(r)
        if status["speaking"] and status["framesShown"] > 0:
            print("status:", json.dumps(status), flush=True)
            with open(results + "/serve-speaking", "w") as f:
                json.dump(status, f)
            return 0
        time.sleep(0.2)
    sys.exit(f"serve_client: the face never spoke within 120 s: {json.dumps(status)}")


if __name__ == "__main__":
    sys.exit(main())
