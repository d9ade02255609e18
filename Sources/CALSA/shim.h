// alsa-lib for Swift. Used only by ParlaIO's audio code. Parameter structs are allocated with the
// snd_*_malloc functions (the *_alloca macros do not import).
#ifndef PARLA_CALSA_SHIM_H
#define PARLA_CALSA_SHIM_H

#include <alsa/asoundlib.h>

static inline void parla_alsa_ignore_error(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

/// Stops alsa-lib printing its own "ALSA lib pcm.c:…" lines on stderr: Parla reports every failure itself, as
/// one line naming the device and the call (the handler is variadic, so it is defined here, not in Swift).
static inline void parla_alsa_silence_library_errors(void) {
    snd_lib_error_set_handler(parla_alsa_ignore_error);
}

#endif
