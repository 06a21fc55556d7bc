// WorkerThread.swift -- a joinable OS thread (pthread) for a blocking serving loop.

import CGNUExtensions
import Glibc

/// A dedicated, joinable OS thread that runs one closure.
///
/// The UDP loops block in `recvmmsg`, so they run on their own threads rather than on a
/// NIO event loop (as NSD's and Knot's UDP workers do).
struct WorkerThread: Sendable {
    private let handle: pthread_t

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept by Linux).
    ///
    /// - Throws: `ServerError` with code `.threadFailed` if `pthread_create` fails.
    init(name: String, body: @escaping @Sendable () -> Void) throws(ServerError) {
        final class Context {
            let name: String
            let body: @Sendable () -> Void
            init(name: String, body: @escaping @Sendable () -> Void) { self.name = name; self.body = body }
        }
        let context = Unmanaged.passRetained(Context(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            // Balanced by passRetained above; the thread owns the context from here on.
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            _ = gnu_set_thread_name(context.name)
            context.body()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Context>.fromOpaque(context).release()
            throw ServerError(.threadFailed, "\(name): pthread_create failed: \(String(cString: strerror(result)))")
        }
        self.handle = handle
    }

    /// Waits until the thread's closure has returned.
    func join() {
        _ = pthread_join(handle, nil)
    }
}
