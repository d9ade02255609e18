import Dispatch

/// Splits `0..<count` (e.g. output rows) into `threads` contiguous chunks and runs them concurrently with
/// `DispatchQueue.concurrentPerform`; with one thread (the default) the body runs inline on the caller's thread.
public enum ParallelFor {
    /// Calls `body(chunkIndex, range)` once per non-empty chunk; `chunkIndex < threads` selects per-thread scratch.
    public static func run(_ count: Int, threads: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        precondition(count >= 0 && threads >= 1, "parallel for: bad count or thread count")
        let chunks = min(threads, count)
        if chunks <= 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The chunks are disjoint and the call returns only after all of them: sharing `body` is safe.
            nonisolated(unsafe) let shared = body
            DispatchQueue.concurrentPerform(iterations: chunks) { k in
                shared(k, count * k / chunks..<count * (k + 1) / chunks)
            }
        }
    }
}
