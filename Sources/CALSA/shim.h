// alsa-lib for Swift. Used only by ParlaIO's audio code. Parameter structs are allocated with the
// snd_*_malloc functions (the *_alloca macros do not import).
#ifndef PARLA_CALSA_SHIM_H
#define PARLA_CALSA_SHIM_H

#include <alsa/asoundlib.h>

#endif
