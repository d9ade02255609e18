#!/bin/bash
# Runs inside the display-test guest (Board/test-kms), in the host's root seen through 9p, as root.
# Reads its settings from /parla-results/env, writes everything to /parla-results, and records each check as a
# "PASS name" or "FAIL name: why" line in /parla-results/guest-checks.txt. The host takes screendumps meanwhile
# and asks for the stop by creating /parla-results/stop-main.
R=/parla-results
source "$R/env"      # PARLA_BIN, AVATAR, AUDIO, MODE, SERVE_BACKGROUND
: > "$R/guest-checks.txt"
pass() { echo "PASS $1" >> "$R/guest-checks.txt"; echo "guest: PASS $1"; }
fail() { echo "FAIL $1: $2" >> "$R/guest-checks.txt"; echo "guest: FAIL $1: $2"; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "${DETAIL:-command failed: $*}"; fi; }

# Waits until FILE has at least N lines (or the process PID exits, or TIMEOUT seconds pass).
wait_lines() {
  local file=$1 n=$2 pid=$3 timeout=$4 t=0
  while (( t < timeout * 5 )); do
    [ -f "$file" ] && (( $(wc -l < "$file") >= n )) && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2; t=$((t + 1))
  done
  return 1
}

# Sends SIGTERM to PID and stores its exit status in RC.
stop_parla() { kill -TERM "$1" 2>/dev/null; wait "$1"; RC=$?; }

crtc_line() { grep -m1 '^  crtc ' "$1"; }

LIVE=("$PARLA_BIN" live --avatar "$AVATAR" --audio "$AUDIO" --output Virtual-1 --mode "$MODE")

# 1. The DRM device and what parla sees on it.
DETAIL="no /dev/dri/card0 (virtio-gpu not loaded?)" check dri-device test -e /dev/dri/card0
"$PARLA_BIN" live --list-outputs > "$R/outputs-before.txt" 2>&1
DETAIL="$(head -c 300 "$R/outputs-before.txt")" check list-outputs grep -q "connector Virtual-1 (id [0-9]*): connected" "$R/outputs-before.txt"

# 2. The main run: atomic KMS, monotonic clock. The host dumps the screen twice, then asks for the stop.
"${LIVE[@]}" --audio-device none --stats --trace "$R/trace.csv" > "$R/live.log" 2>&1 &
pid=$!
DETAIL="parla live did not present 3 frames (see live.log)" check live-presents wait_lines "$R/trace.csv" 4 "$pid" 180
for _ in $(seq 1 600); do [ -f "$R/stop-main" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
stop_parla "$pid"
DETAIL="exit status $RC: $(tail -c 300 "$R/live.log" | tr '\n' ' ')" check sigterm-exit-0 test "$RC" -eq 0
DETAIL="no 'restored crtc' line in live.log" check crtc-restored-by-parla grep -q "^display: restored crtc" "$R/live.log"
"$PARLA_BIN" live --list-outputs > "$R/outputs-after.txt" 2>&1
DETAIL="before: $(crtc_line "$R/outputs-before.txt"); after: $(crtc_line "$R/outputs-after.txt")" \
  check crtc-same-after-exit test "$(crtc_line "$R/outputs-before.txt")" = "$(crtc_line "$R/outputs-after.txt")"

# 3. Legacy KMS (SetCrtc + PageFlip), looping the clip.
"${LIVE[@]}" --audio-device none --kms legacy --loop --trace "$R/trace-legacy.csv" > "$R/live-legacy.log" 2>&1 &
pid=$!
DETAIL="no frames presented (see live-legacy.log)" check legacy-presents wait_lines "$R/trace-legacy.csv" 4 "$pid" 180
stop_parla "$pid"
DETAIL="exit status $RC" check legacy-exit-0 test "$RC" -eq 0
DETAIL="$(grep -m1 '^display:' "$R/live-legacy.log")" check legacy-interface grep -q "legacy KMS" "$R/live-legacy.log"
DETAIL="no 'restored crtc' line" check legacy-crtc-restored grep -q "^display: restored crtc" "$R/live-legacy.log"

# 4. Sound through snd-aloop: parla plays into the loopback, arecord takes it from the other end.
if [ -e /proc/asound/Loopback ]; then
  arecord -q -D hw:Loopback,1,0 -f S16_LE -r 16000 -c 1 "$R/loopback.wav" 2> "$R/arecord.log" &
  rec=$!
  sleep 0.5
  "${LIVE[@]}" --audio-device hw:Loopback,0,0 --stats --trace "$R/trace-audio.csv" > "$R/live-audio.log" 2>&1 &
  pid=$!
  DETAIL="no frames presented (see live-audio.log)" check audio-presents wait_lines "$R/trace-audio.csv" 3 "$pid" 180
  # Stall the writer for a second (SIGSTOP): the loopback runs dry, parla must recover and carry on.
  sleep 1
  kill -STOP "$pid"; sleep 1; kill -CONT "$pid"
  sleep 3
  stop_parla "$pid"
  kill -INT "$rec"; wait "$rec"
  DETAIL="exit status $RC: $(tail -c 300 "$R/live-audio.log" | tr '\n' ' ')" check audio-exit-0 test "$RC" -eq 0
  DETAIL="$(grep -m1 '^audio:' "$R/live-audio.log")" check audio-device-opened grep -q "^audio: ALSA 'hw:Loopback,0,0' at 16000 Hz" "$R/live-audio.log"
  DETAIL="$(grep -m1 '^live summary' "$R/live-audio.log")" check audio-underrun-recovered grep -Eq "^live summary: .*audio underruns [1-9]" "$R/live-audio.log"
else
  fail audio-loopback "snd-aloop is not loaded"
fi
# 5. The microphone through snd-aloop: aplay plays the clip into one end, `parla live --mic` captures the other
#    end and the face follows what it hears. The trace says which motion each picture showed.
if [ -e /proc/asound/Loopback ]; then
  "$PARLA_BIN" live --avatar "$AVATAR" --mic hw:Loopback,1,0 --output Virtual-1 --mode "$MODE" --size 256 --stats \
    --trace "$R/trace-mic.csv" > "$R/live-mic.log" 2>&1 &
  pid=$!
  # Pictures appear while the loopback is silent: the idle face.
  DETAIL="no frames presented (see live-mic.log)" check mic-presents wait_lines "$R/trace-mic.csv" 3 "$pid" 180
  idle_lines=$(wc -l < "$R/trace-mic.csv")
  aplay -q -D hw:Loopback,0,0 -d 6 "$AUDIO" 2> "$R/aplay.log" &
  play=$!
  # Stall the reader for a second mid-speech: the capture overruns, parla recovers and keeps following.
  sleep 3
  kill -STOP "$pid"; sleep 1; kill -CONT "$pid"
  wait "$play"
  # Where the composer is slower than real time (TCG emulation), the captured speech waits in parla's backlog and
  # its motion comes late: give it up to 90 s to reach the screen.
  for _ in $(seq 1 450); do
    awk -F, -v skip="$idle_lines" 'NR > skip && $5 >= 0.2 { found = 1 } END { exit !found }' "$R/trace-mic.csv" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  stop_parla "$pid"
  DETAIL="exit status $RC: $(tail -c 300 "$R/live-mic.log" | tr '\n' ' ')" check mic-exit-0 test "$RC" -eq 0
  DETAIL="$(grep -m1 '^audio:' "$R/live-mic.log")" check mic-device-opened grep -q "^audio: ALSA capture 'hw:Loopback,1,0' at 16000 Hz" "$R/live-mic.log"
  # The mouth opened while the clip played (jawOpen ≥ 0.2 in a picture shown after the idle ones) and was
  # nearly shut in another: the captured speech moved it.
  jaw_range=$(awk -F, -v skip="$idle_lines" 'NR > skip { if ($5 > hi) hi = $5; if (lo == "" || $5 < lo) lo = $5 } END { printf "%.3f %.3f", lo, hi }' "$R/trace-mic.csv")
  DETAIL="jawOpen range over the pictures during speech: $jaw_range" \
    check mic-mouth-follows-speech awk -v r="$jaw_range" 'BEGIN { split(r, v, " "); exit !(v[2] >= 0.2 && v[1] <= 0.1) }'
  DETAIL="$(grep -m1 '^live summary' "$R/live-mic.log")" check mic-overrun-recovered grep -Eq "^live summary: .*capture overruns [1-9]" "$R/live-mic.log"
  DETAIL="no sound-to-photon line in live-mic.log" check mic-latency-reported grep -q "sound-to-photon .* ms measured" "$R/live-mic.log"
fi
# 6. The GPU path: GBM surface + EGL, the GLES decoder drawing into the buffer that is flipped (on virtio-gpu
#    without virgl Mesa's GBM falls back to kms_swrast: llvmpipe renders into dumb buffers; EGL_LOG_LEVEL and
#    LIBGL_DEBUG make Mesa say which driver it loaded). Slow under TCG, hence --size 256 and --loop (speech frames
#    keep coming) and --still (frames seconds apart would otherwise differ by head motion around the eyes as much
#    as around the mouth); --hud, so the GPU path's stats box is checked in the dumps too (and this path is kept
#    with it: gles-gbm-scanout); the host takes two screendumps (kms_host.py dumps-gles), then asks for the stop.
DETAIL="$(grep -m1 'GBM/EGL' "$R/outputs-before.txt")" check gles-listed grep -q "GBM/EGL: .*GLES 3.1 compute yes" "$R/outputs-before.txt"
EGL_LOG_LEVEL=debug LIBGL_DEBUG=verbose LP_NATIVE_VECTOR_WIDTH=128 "${LIVE[@]}" --audio-device none --backend gles --still \
  --hud --loop --size 256 --stats --trace "$R/trace-gles.csv" > "$R/live-gles.log" 2>&1 &
pid=$!
DETAIL="no frames presented (see live-gles.log)" check gles-presents wait_lines "$R/trace-gles.csv" 4 "$pid" 180
DETAIL="$(grep -m1 '^display: ' "$R/live-gles.log")" check gles-gbm-scanout grep -q "^display: GBM/EGL scan-out" "$R/live-gles.log"
DETAIL="$(grep -m1 -i 'dri.so\|driver' "$R/live-gles.log")" check gles-mesa-kms-swrast grep -q "kms_swrast" "$R/live-gles.log"
for _ in $(seq 1 2400); do [ -f "$R/stop-gles" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
stop_parla "$pid"
DETAIL="exit status $RC: $(tail -c 300 "$R/live-gles.log" | tr '\n' ' ')" check gles-exit-0 test "$RC" -eq 0
DETAIL="no 'restored crtc' line in live-gles.log" check gles-crtc-restored grep -q "^display: restored crtc" "$R/live-gles.log"
"$PARLA_BIN" live --list-outputs > "$R/outputs-after-gles.txt" 2>&1
DETAIL="before: $(crtc_line "$R/outputs-before.txt"); after: $(crtc_line "$R/outputs-after-gles.txt")" \
  check gles-crtc-same-after-exit test "$(crtc_line "$R/outputs-before.txt")" = "$(crtc_line "$R/outputs-after-gles.txt")"

# 7. The field testers' bench where a display exists: the null-sink run, then the same 300 frames on the panel
#    (DRM master, preferred mode, dumb buffers, one page flip per frame), the CRTC restored afterwards.
"$PARLA_BIN" bench --json "$R/bench.json" > "$R/bench.log" 2>&1
RC=$?
DETAIL="exit status $RC: $(tail -c 300 "$R/bench.log" | tr '\n' ' ')" check bench-exit-0 test "$RC" -eq 0
DETAIL="$(grep -m1 '^panel' "$R/bench.log")" check bench-panel-stage grep -Eq "^panel +[0-9.]+ +[0-9.]+ +decode \+ blit \+ page flip" "$R/bench.log"
DETAIL="$(grep -m1 '^panel:' "$R/bench.log")" \
  check bench-panel-flipped grep -Eq "^panel: /dev/dri/card0 Virtual-1 .*: (299|300) of 300 frames flipped .*, 0 lost" "$R/bench.log"
"$PARLA_BIN" live --list-outputs > "$R/outputs-after-bench.txt" 2>&1
DETAIL="before: $(crtc_line "$R/outputs-before.txt"); after: $(crtc_line "$R/outputs-after-bench.txt")" \
  check bench-crtc-same-after-exit test "$(crtc_line "$R/outputs-before.txt")" = "$(crtc_line "$R/outputs-after-bench.txt")"
# 8. parla serve, the kiosk mode: its default sink is the panel, with live's display options (here a coloured border,
#    which the host checks in its screendump). A /say through the control API on loopback (serve_client.py); once
#    /status says the face speaks, the host takes a screendump (kms_host.py dumps-serve) and asks for the stop;
#    SIGTERM must restore the CRTC. The guest has no network configured: bring up loopback for the API.
ip link set lo up 2>/dev/null || busybox ip link set lo up
"$PARLA_BIN" serve --avatar "$AVATAR" --listen 127.0.0.1:8080 --output Virtual-1 --mode "$MODE" --size 256 \
  --background "$SERVE_BACKGROUND" --audio-device none --stats > "$R/serve.log" 2>&1 &
pid=$!
listening=1
for _ in $(seq 1 900); do
  grep -q "listening on 127.0.0.1:8080" "$R/serve.log" && { listening=0; break; }
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
DETAIL="$(tail -c 300 "$R/serve.log" | tr '\n' ' ')" check serve-listens test "$listening" -eq 0
DETAIL="$(grep -m1 'display: /dev/dri' "$R/serve.log")" \
  check serve-on-panel grep -q "display: /dev/dri/card0 (virtio_gpu), Virtual-1 640x480" "$R/serve.log"
python3 "$(dirname "$0")/serve_client.py" "$R" > "$R/serve-client.log" 2>&1
DETAIL="$(tail -c 300 "$R/serve-client.log" | tr '\n' ' ')" check serve-say-speaks test -f "$R/serve-speaking"
DETAIL="$(head -c 300 "$R/serve-speaking" 2>/dev/null)" check serve-status-kms grep -q '"sink": *"kms"' "$R/serve-speaking"
for _ in $(seq 1 600); do [ -f "$R/stop-serve" ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
stop_parla "$pid"
DETAIL="exit status $RC: $(tail -c 300 "$R/serve.log" | tr '\n' ' ')" check serve-sigterm-exit-0 test "$RC" -eq 0
DETAIL="no 'display: restored crtc' line in serve.log" check serve-crtc-restored grep -q "display: restored crtc" "$R/serve.log"
"$PARLA_BIN" live --list-outputs > "$R/outputs-after-serve.txt" 2>&1
DETAIL="before: $(crtc_line "$R/outputs-before.txt"); after: $(crtc_line "$R/outputs-after-serve.txt")" \
  check serve-crtc-same-after-exit test "$(crtc_line "$R/outputs-before.txt")" = "$(crtc_line "$R/outputs-after-serve.txt")"
touch "$R/guest-done"
