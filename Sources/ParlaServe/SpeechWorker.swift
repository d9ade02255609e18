import Foundation

/// Runs the slow part of `POST /say` and `POST /speak` (synthesis, decoding, resampling, motion composition: up to
/// seconds of CPU for a long utterance) on one thread of its own, one job at a time, at a lower scheduling priority
/// than the render loop. Request handlers await it without holding a thread of Swift's cooperative pool, which has
/// one thread per core and serves every request: two long `/say` jobs run there left no thread for `GET /status`
/// for a minute on a 2-core machine, and two at once beside the render loop made it drop frames.
///
/// At most `maximumWaiting` jobs wait behind the running one; more are refused with 429 at once.
final class SpeechWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var started = false
    private var running = false
    let maximumWaiting: Int
    /// Added to the worker thread's nice value (Linux schedules threads by it: the render loop keeps 0).
    static let niceIncrement: Int32 = 5

    init(maximumWaiting: Int) {
        self.maximumWaiting = max(0, maximumWaiting)
    }

    /// Runs `body` on the worker thread and returns its result; throws 429 when `maximumWaiting` jobs already wait.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard !stopping else {
                continuation.resume(throwing: APIError(.serviceUnavailable, "the server is stopping"))
                return
            }
            guard jobs.count < maximumWaiting || (!running && jobs.isEmpty) else {
                continuation.resume(throwing: APIError(.tooManyRequests,
                    "busy: \(jobs.count) utterances wait to be synthesized or composed (at most \(maximumWaiting) may wait); retry shortly"))
                return
            }
            if !started {
                started = true
                let thread = Thread { [self] in loop() }
                thread.name = "parla-speech"
                thread.start()
            }
            jobs.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
        }
    }

    /// Lets the jobs queued finish, then ends the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// glibc's `malloc_trim`, which Swift's Glibc module does not declare.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()

    private func loop() {
        // On Linux the nice value belongs to the thread: `who` 0 is the calling thread, not the whole process.
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        _ = setpriority(which, 0, getpriority(which, 0) + Self.niceIncrement)
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            running = true
            condition.unlock()
            job()
            // A job frees tens of MB (decoded audio, features); hand what malloc keeps back to the system so the
            // resident size follows what the queue holds.
            _ = Self.mallocTrim?(0)
            condition.lock()
            running = false
            condition.unlock()
        }
    }
}
