import Foundation

/// A minimal blocking HTTP/1.1 + WebSocket client over a real TCP socket on loopback, so the tests exercise the
/// server exactly as curl or a robot would (no client library in between).
struct LoopbackClient {
    let port: UInt16
    var headers: [String: String] = [:]

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    }

    static func connect(port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { close(fd); throw NSError(domain: "connect", code: Int(errno)) }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func send(_ fd: Int32, _ data: Data) {
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                off += n
            }
        }
    }

    /// Sends one request (`Connection: close`) and reads the whole response. With `chunks`, the body goes out
    /// with chunked transfer encoding, one chunk per element, `pace` seconds apart.
    func request(_ method: String, _ path: String, body: Data? = nil, chunks: [Data]? = nil, pace: TimeInterval = 0,
                 contentType: String? = nil, extraHeaders: [String: String] = [:]) throws -> Response {
        let fd = try Self.connect(port: port)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers.merging(extraHeaders, uniquingKeysWith: { $1 }) { head += "\(k): \(v)\r\n" }
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if let chunks {
            head += "Transfer-Encoding: chunked\r\n\r\n"
            Self.send(fd, Data(head.utf8))
            for (i, c) in chunks.enumerated() {
                if i > 0, pace > 0 { usleep(UInt32(pace * 1e6)) }
                Self.send(fd, Data(String(c.count, radix: 16).utf8) + Data("\r\n".utf8) + c + Data("\r\n".utf8))
            }
            Self.send(fd, Data("0\r\n\r\n".utf8))
        } else {
            head += "Content-Length: \(body?.count ?? 0)\r\n\r\n"
            Self.send(fd, Data(head.utf8) + (body ?? Data()))
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if let r = Self.parse(data), r.complete { return r.response }
        }
        guard let r = Self.parse(data) else { throw NSError(domain: "no response", code: 0) }
        return r.response
    }

    func json(_ method: String, _ path: String, _ object: Any) throws -> Response {
        try request(method, path, body: try JSONSerialization.data(withJSONObject: object), contentType: "application/json")
    }

    static func parse(_ data: Data) -> (response: Response, complete: Bool)? {
        guard let end = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        var headers = [String: String]()
        for line in head.dropFirst() {
            if let c = line.firstIndex(of: ":") {
                headers[line[..<c].lowercased()] = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let body = data[end.upperBound...]
        let length = headers["content-length"].flatMap(Int.init) ?? body.count
        return (Response(status: status, headers: headers, body: Data(body.prefix(length))), body.count >= length)
    }

    // MARK: - WebSocket

    /// Opens `/ws…`, returning the socket after the 101 response.
    func webSocket(_ path: String) throws -> Int32 {
        let fd = try Self.connect(port: port)
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        Self.send(fd, Data((head + "\r\n").utf8))
        var data = Data()
        var byte: UInt8 = 0
        while data.range(of: Data("\r\n\r\n".utf8)) == nil {
            guard recv(fd, &byte, 1, 0) == 1 else { close(fd); throw NSError(domain: "ws handshake", code: 0) }
            data.append(byte)
        }
        guard String(decoding: data, as: UTF8.self).hasPrefix("HTTP/1.1 101") else {
            close(fd)
            throw NSError(domain: "ws refused: \(String(decoding: data, as: UTF8.self))", code: 0)
        }
        return fd
    }

    /// Sends one masked frame (opcode 1 text, 2 binary, 0 continuation; `fin` false: more fragments follow).
    static func sendFrame(_ fd: Int32, opcode: UInt8, _ payload: Data, fin: Bool = true) {
        var frame = Data([(fin ? 0x80 : 0) | opcode])
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            frame.append(0x80 | 126)
            frame.append(contentsOf: [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)])
        } else {
            frame.append(0x80 | 127)
            for s in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> s) & 0xFF)) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame.append(contentsOf: mask)
        frame.append(contentsOf: payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        send(fd, frame)
    }

    /// Reads one unmasked server frame: (opcode, payload).
    static func readFrame(_ fd: Int32) throws -> (UInt8, Data) {
        func read(_ n: Int) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: n)
            var got = 0
            while got < n {
                let r = recv(fd, &out[got], n - got, 0)
                guard r > 0 else { throw NSError(domain: "ws read", code: 0) }
                got += r
            }
            return out
        }
        let h = try read(2)
        var length = Int(h[1] & 0x7F)
        if length == 126 { let b = try read(2); length = Int(b[0]) << 8 | Int(b[1]) }
        else if length == 127 { length = try read(8).reduce(0) { $0 << 8 | Int($1) } }
        return (h[0] & 0x0F, Data(try read(length)))
    }
}
