// libespeak-ng (Debian: libespeak-ng-dev): speech synthesis with phoneme events. Only ParlaVoice uses it.
#include <espeak-ng/speak_lib.h>
#include <espeak-ng/espeak_ng.h>
