import CALSA
import Foundation

/// An open ALSA PCM with negotiated parameters: interleaved samples in the first of `formats` the device takes, the
/// rate and channel count closest to what was asked, periods of about `periodMilliseconds`. Shared by
/// ``ALSAPlayback`` (16-bit only) and ``ALSACapture`` (any ``ALSASampleFormat``); closed on deinit.
final class ALSAPCM {
    let handle: OpaquePointer
    let device: String
    let format: ALSASampleFormat
    let sampleRate: Int
    let channels: Int
    let periodFrames: Int
    let bufferFrames: Int

    init(device: String, stream: snd_pcm_stream_t, formats: [ALSASampleFormat] = [.s16le], sampleRate: Int, channels: Int,
         periodMilliseconds: Int, periods: Int) throws {
        self.device = device
        parla_alsa_silence_library_errors()
        var pcm: OpaquePointer?
        let opened = snd_pcm_open(&pcm, device, stream, 0)
        guard opened == 0, let pcm else {
            let what = stream == SND_PCM_STREAM_PLAYBACK ? "playback" : "capture"
            throw AudioDeviceError("ALSA \(what) device '\(device)': snd_pcm_open: \(String(cString: snd_strerror(opened))) (errno \(-opened))\(Self.hint(opened))",
                                   errno: -opened)
        }
        handle = pcm
        do {
            var hw: OpaquePointer?
            try alsaCall("snd_pcm_hw_params_malloc", device: device) { snd_pcm_hw_params_malloc(&hw) }
            defer { snd_pcm_hw_params_free(hw) }
            try alsaCall("snd_pcm_hw_params_any", device: device) { snd_pcm_hw_params_any(pcm, hw) }
            try alsaCall("snd_pcm_hw_params_set_access", device: device) {
                snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)
            }
            guard let format = ALSASampleFormat.negotiate(formats, offers: { snd_pcm_hw_params_test_format(pcm, hw, $0.alsa) == 0 }) else {
                throw AudioDeviceError("ALSA device '\(device)' takes none of \(formats.map(\.rawValue).joined(separator: ", ")) (it offers \(Self.offeredFormats(pcm, hw))); use a 'plughw:' or the 'default' device so ALSA converts")
            }
            try alsaCall("snd_pcm_hw_params_set_format", device: device) { snd_pcm_hw_params_set_format(pcm, hw, format.alsa) }
            self.format = format
            var ch = UInt32(channels)
            if snd_pcm_hw_params_set_channels(pcm, hw, ch) != 0 {
                try alsaCall("snd_pcm_hw_params_set_channels_near", device: device) {
                    snd_pcm_hw_params_set_channels_near(pcm, hw, &ch)
                }
            }
            var rate = UInt32(sampleRate)
            var dir: Int32 = 0
            try alsaCall("snd_pcm_hw_params_set_rate_near", device: device) { snd_pcm_hw_params_set_rate_near(pcm, hw, &rate, &dir) }
            var periodTime = UInt32(periodMilliseconds * 1000)
            try alsaCall("snd_pcm_hw_params_set_period_time_near", device: device) {
                snd_pcm_hw_params_set_period_time_near(pcm, hw, &periodTime, &dir)
            }
            var bufferTime = periodTime * UInt32(periods)
            try alsaCall("snd_pcm_hw_params_set_buffer_time_near", device: device) {
                snd_pcm_hw_params_set_buffer_time_near(pcm, hw, &bufferTime, &dir)
            }
            try alsaCall("snd_pcm_hw_params", device: device) { snd_pcm_hw_params(pcm, hw) }
            var period: snd_pcm_uframes_t = 0, buffer: snd_pcm_uframes_t = 0
            snd_pcm_hw_params_get_period_size(hw, &period, &dir)
            snd_pcm_hw_params_get_buffer_size(hw, &buffer)
            snd_pcm_hw_params_get_channels(hw, &ch)
            snd_pcm_hw_params_get_rate(hw, &rate, &dir)
            self.sampleRate = Int(rate)
            self.channels = Int(ch)
            self.periodFrames = Int(period)
            self.bufferFrames = Int(buffer)
            guard self.periodFrames > 0, self.bufferFrames >= self.periodFrames, self.channels > 0, self.sampleRate > 0 else {
                throw AudioDeviceError("ALSA device '\(device)' negotiated unusable parameters (rate \(rate), \(ch) channels, period \(period), buffer \(buffer))")
            }

            var sw: OpaquePointer?
            try alsaCall("snd_pcm_sw_params_malloc", device: device) { snd_pcm_sw_params_malloc(&sw) }
            defer { snd_pcm_sw_params_free(sw) }
            try alsaCall("snd_pcm_sw_params_current", device: device) { snd_pcm_sw_params_current(pcm, sw) }
            // Playback starts once the buffer is full less one period (a cushion against the first underrun);
            // capture starts on the first read.
            let start = stream == SND_PCM_STREAM_PLAYBACK ? max(period, buffer - period) : 1
            try alsaCall("snd_pcm_sw_params_set_start_threshold", device: device) {
                snd_pcm_sw_params_set_start_threshold(pcm, sw, start)
            }
            try alsaCall("snd_pcm_sw_params_set_avail_min", device: device) { snd_pcm_sw_params_set_avail_min(pcm, sw, period) }
            try alsaCall("snd_pcm_sw_params", device: device) { snd_pcm_sw_params(pcm, sw) }
        } catch {
            snd_pcm_close(pcm)
            throw error
        }
    }

    deinit {
        snd_pcm_close(handle)
    }

    /// Whether the device is playing or capturing right now.
    var isRunning: Bool { snd_pcm_state(handle) == SND_PCM_STATE_RUNNING }

    /// `snd_pcm_delay`: frames between the application pointer and what is heard (or was recorded) now; nil when
    /// the device is not in a state to tell (stopped, underrun).
    func delay() -> Int? {
        var d: snd_pcm_sframes_t = 0
        return snd_pcm_delay(handle, &d) == 0 ? Int(d) : nil
    }

    /// Recovers from an underrun/overrun (-EPIPE) or suspend (-ESTRPIPE) with `snd_pcm_recover`, and from an I/O
    /// error (-EIO, -EBADFD: some drivers report these when the hardware restarts, e.g. HDMI audio across a mode
    /// change, or a loopback whose other end stalled) by dropping and preparing the stream again.
    func recover(from error: Int32, call: String) throws {
        if error == -EIO || error == -EBADFD {
            snd_pcm_drop(handle)
            try alsaCall(call + " (restarting the stream after \(String(cString: snd_strerror(error))))", device: device) {
                snd_pcm_prepare(handle)
            }
            return
        }
        try alsaCall(call + " (recovering)", device: device) { snd_pcm_recover(handle, error, 1) }
    }

    /// The formats the device offers, by ALSA name ("S32_LE, S24_3LE"), for the error when none fits.
    private static func offeredFormats(_ pcm: OpaquePointer, _ hw: OpaquePointer?) -> String {
        var names = [String]()
        for raw in 0...Int32(SND_PCM_FORMAT_LAST.rawValue) {
            let f = snd_pcm_format_t(rawValue: raw)
            if snd_pcm_hw_params_test_format(pcm, hw, f) == 0, let name = snd_pcm_format_name(f) { names.append(String(cString: name)) }
        }
        return names.isEmpty ? "no format" : names.joined(separator: ", ")
    }

    private static func hint(_ error: Int32) -> String {
        switch -error {
        case ENOENT, ENODEV: return " (no such sound device: see `parla live --list-outputs`, or use --audio-device none)"
        case EBUSY: return " (another program is using it; try the 'default' device)"
        case EACCES, EPERM: return " (join the 'audio' group or run as root)"
        default: return ""
        }
    }
}
