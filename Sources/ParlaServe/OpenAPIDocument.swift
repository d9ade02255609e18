/// The OpenAPI 3.0 description of the control API, served at `GET /openapi.json`. Kept beside the handlers it
/// describes; `ParlaServeTests` checks that every route the server knows is in it and that it parses.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.0.3",
      "info": {
        "title": "Parla control API",
        "version": "1",
        "description": "Drive a talking face: text or audio in, avatar, mood and gaze, status and metrics out. When the server runs with --token, every request needs 'Authorization: Bearer TOKEN'. Errors are JSON objects {\"error\": \"...\"} naming the limit they hit. Default limits: JSON bodies 64 KiB, /say text 4000 bytes, one utterance 300 s, audio bodies 32 MiB, the queue 32 utterances, 600 s and 96 MiB of audio, 4 utterances waiting for synthesis, WebSocket messages 4 MiB (text 64 KiB), 20 requests/s per client (bursts of 40)."
      },
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
          "Streamed": {"type": "object", "properties": {
            "streamed": {"type": "number", "description": "seconds of audio received and played"},
            "interrupted": {"type": "boolean", "description": "DELETE /queue or a barge-in cut it; the rest of the body was dropped"}}},
          "Queued": {"type": "object", "properties": {
            "id": {"type": "integer"}, "duration": {"type": "number", "description": "seconds"},
            "queue": {"type": "integer", "description": "utterances waiting after it is queued"}}},
          "Controls": {"type": "object", "additionalProperties": false, "properties": {
            "emotion": {"type": "string", "enum": ["neutral", "happy", "sad", "angry", "surprised"]},
            "intensity": {"type": "number", "minimum": 0, "maximum": 1},
            "gazeX": {"type": "number", "minimum": -1, "maximum": 1},
            "gazeY": {"type": "number", "minimum": -1, "maximum": 1},
            "headDistance": {"type": "number", "minimum": 0.5, "maximum": 3},
            "motionScale": {"type": "number", "minimum": 0, "maximum": 4},
            "still": {"type": "boolean"}}},
          "Status": {"type": "object", "properties": {
            "speaking": {"type": "boolean"}, "utterance": {"type": "integer", "nullable": true},
            "position": {"type": "number", "nullable": true}, "queue": {"type": "integer"},
            "queued": {"type": "array", "items": {"type": "integer"}}, "fps": {"type": "number"},
            "lagMs": {"type": "number"}, "framesShown": {"type": "integer"}, "droppedFrames": {"type": "integer"},
            "utterancesStarted": {"type": "integer"}, "utterancesInterrupted": {"type": "integer"},
            "avatar": {"type": "string"}, "sink": {"type": "string"},
            "controls": {"$ref": "#/components/schemas/Controls"}, "uptime": {"type": "number"}}}
        },
        "responses": {
          "BadRequest": {"description": "malformed body or value", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Unauthorized": {"description": "missing or wrong bearer token", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "TooLarge": {"description": "body over the size limit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "TooMany": {"description": "rate limit", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Busy": {"description": "rate limit, the queue is full (32 utterances, 600 s or 96 MiB of audio), or 4 utterances already wait for synthesis; Retry-After: 1", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      },
      "security": [{"bearer": []}],
      "paths": {
        "/say": {"post": {
          "summary": "Say text with the built-in voice (espeak-ng); the mouth follows its phonemes.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string"}, "voice": {"type": "string", "example": "en-us"},
            "rate": {"type": "integer", "minimum": 80, "maximum": 450}, "pitch": {"type": "integer", "minimum": 0, "maximum": 100},
            "ssml": {"type": "boolean"}, "interrupt": {"type": "boolean", "description": "barge-in: cut what is playing and drop the queue"}}}}}},
          "responses": {"202": {"description": "queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Queued"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
            "413": {"description": "body over 64 KiB, text over 4000 bytes, or speech that would last over 300 s (synthesis stops there)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "422": {"description": "unknown voice or unsayable text"},
            "429": {"$ref": "#/components/responses/Busy"}, "503": {"description": "the server is stopping"}}}},
        "/speak": {"post": {
          "summary": "Speak recorded audio: a WAV file (queued as an utterance, at most 300 s), or raw PCM with ?format=FORMAT:RATE:CHANNELS, played while it uploads (through the PCM stream, like WebSocket binary messages; the body is read at the pace it plays, 10 s ahead at most; one upload at a time).",
          "parameters": [
            {"name": "format", "in": "query", "schema": {"type": "string", "example": "s16le:22050:1"}},
            {"name": "interrupt", "in": "query", "schema": {"type": "boolean"}}],
          "requestBody": {"required": true, "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
          "responses": {"202": {"description": "WAV: queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Queued"}}}},
            "200": {"description": "raw PCM: played (sent once the upload ends)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Streamed"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
            "409": {"description": "raw PCM: another upload is playing"},
            "413": {"description": "body over 32 MiB, or a WAV over 300 s", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "415": {"description": "not WAV and no ?format"},
            "429": {"$ref": "#/components/responses/Busy"}}}},
        "/avatar": {"post": {
          "summary": "Switch the avatar with a cross-fade: JSON {path, fade} or the avatar file as the body (?fade=seconds).",
          "requestBody": {"required": true, "content": {
            "application/json": {"schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}, "fade": {"type": "number"}}}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
          "responses": {"200": {"description": "switched", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
            "413": {"$ref": "#/components/responses/TooLarge"}, "422": {"description": "not a valid avatar file"}}}},
        "/controls": {
          "get": {"summary": "The current controls.", "responses": {"200": {"description": "controls", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Controls"}}}}}},
          "put": {"summary": "Change any subset of the controls (emotion + intensity, gaze, head distance, motion scale, still).",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Controls"}}}},
            "responses": {"200": {"description": "the controls now", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Controls"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}},
        "/status": {"get": {"summary": "Speaking or not, the queue, fps, lag.",
          "responses": {"200": {"description": "status", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}},
        "/queue": {"delete": {"summary": "Stop talking now: cut the current utterance and drop the queue.",
          "responses": {"200": {"description": "how many were dropped", "content": {"application/json": {"schema": {"type": "object", "properties": {"cleared": {"type": "integer"}}}}}}}}},
        "/metrics": {"get": {"summary": "Prometheus text exposition: fps, frame-time histogram, lag, dropped frames, xruns, CPU temperature, utterances, requests.",
          "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"summary": "This document.", "responses": {"200": {"description": "OpenAPI 3.0"}}}},
        "/ws": {"get": {"summary": "WebSocket: status JSON twice a second out; binary PCM chunks (?format=s16le:16000:1, sent at the pace they play; they drive the face through the streaming composer) and {type: blendshapes|stop} text messages in. A message over 4 MiB (text: 64 KiB) closes the connection with 1009, checked while its frames arrive.",
          "parameters": [{"name": "format", "in": "query", "schema": {"type": "string", "example": "s16le:16000:1"}}],
          "responses": {"101": {"description": "switching to WebSocket"}}}}
      }
    }
    """#
}
