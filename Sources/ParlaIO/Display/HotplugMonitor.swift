import Foundation

/// Kernel uevents for DRM hotplug (`SUBSYSTEM=drm`, `HOTPLUG=1`) from a netlink socket
/// (`NETLINK_KOBJECT_UEVENT`, the kernel's multicast group 1: what udev itself listens to, no udev needed).
/// Where the socket cannot be opened (no netlink in a container, seccomp) it is simply absent and the loop falls
/// back to probing the connector when a flip fails.
final class HotplugMonitor {
    /// The socket, or -1.
    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 8192)

    /// `NETLINK_KOBJECT_UEVENT` from linux/netlink.h (not imported into Swift).
    private static let kobjectUevent: Int32 = 15

    init() {
        let s = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                       Self.kobjectUevent)
        guard s >= 0 else { fd = -1; return }
        // struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; }
        var address = [UInt8](repeating: 0, count: 12)
        address.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: sa_family_t(AF_NETLINK), toByteOffset: 0, as: sa_family_t.self)
            raw.storeBytes(of: UInt32(1), toByteOffset: 8, as: UInt32.self)   // the kernel's uevent group
        }
        let bound = address.withUnsafeBytes { raw in
            bind(s, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
        guard bound == 0 else { close(s); fd = -1; return }
        fd = s
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Reads every queued uevent; true when one of them is a DRM hotplug event.
    func drain() -> Bool {
        guard fd >= 0 else { return false }
        var hotplug = false
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return hotplug }
            if Self.isDRMHotplug(buffer.prefix(n)) { hotplug = true }
        }
    }

    /// Whether one uevent message (`ACTION@DEVPATH\0KEY=VALUE\0…`) is a DRM hotplug event.
    static func isDRMHotplug<C: Collection>(_ message: C) -> Bool where C.Element == UInt8 {
        let fields = message.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return fields.contains("SUBSYSTEM=drm") && fields.contains("HOTPLUG=1")
    }

    /// Waits until a uevent arrives, `stop` fires, or `seconds` pass; true when stopped.
    func wait(seconds: Double, stop: StopSignal) -> Bool {
        var fds = [pollfd(fd: stop.fd, events: Int16(POLLIN), revents: 0)]
        if fd >= 0 { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        let ms = Int32(max(0, min(seconds * 1000, 60_000)).rounded(.up))
        while true {
            let r = poll(&fds, nfds_t(fds.count), ms)
            if r < 0 && errno == EINTR { continue }
            return r > 0 && fds[0].revents != 0
        }
    }
}
