#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every system call PetrelStore makes, in one place: file descriptors, mappings, durability,
/// directories and disk space. Each failure becomes a `StoreError` carrying the path and `errno`.
/// Keeping them here makes it easy to see which calls can block, and to keep them out of locks.
public enum System {
    /// `strerror` text for an errno.
    public static func describe(errno code: Int32) -> String { String(cString: strerror(code)) }

    /// The error for the current `errno`.
    static func failure(_ operation: String, path: String) -> StoreError {
        let code = errno
        return StoreError(.ioFailure, "\(operation) failed", path: path, errno: code)
    }

    /// Opens (and with `create`, creates) a file for reading and writing.
    public static func open(_ path: String, create: Bool) throws(StoreError) -> Int32 {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let descriptor = Glibc.open(path, flags, 0o644)
        guard descriptor >= 0 else { throw failure("open", path: path) }
        return descriptor
    }

    /// Closes a descriptor. A failed close is reported, not ignored.
    public static func close(_ descriptor: Int32, path: String) throws(StoreError) {
        guard Glibc.close(descriptor) == 0 else { throw failure("close", path: path) }
    }

    /// The size of an open file.
    public static func fileSize(_ descriptor: Int32, path: String) throws(StoreError) -> Int64 {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("fstat", path: path) }
        return Int64(status.st_size)
    }

    /// Reserves `size` bytes of real disk blocks, so a later write into the mapping cannot fail
    /// with SIGBUS for lack of space. Falls back to `ftruncate` where the file system has no fallocate.
    public static func preallocate(_ descriptor: Int32, size: Int64, path: String) throws(StoreError) {
        let result = posix_fallocate(descriptor, 0, off_t(size))
        if result == 0 { return }
        if result == EOPNOTSUPP || result == EINVAL {
            guard ftruncate(descriptor, off_t(size)) == 0 else { throw failure("ftruncate", path: path) }
            return
        }
        throw StoreError(.ioFailure, "posix_fallocate of \(size) bytes failed", path: path, errno: result)
    }

    /// Sets a file's length.
    public static func truncate(_ descriptor: Int32, size: Int64, path: String) throws(StoreError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw failure("ftruncate", path: path) }
    }

    /// Maps `size` bytes of a file shared and writable.
    public static func map(_ descriptor: Int32, size: Int, path: String) throws(StoreError) -> UnsafeMutableRawPointer {
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let address, address != MAP_FAILED else { throw failure("mmap", path: path) }
        return address
    }

    /// Unmaps a mapping.
    public static func unmap(_ address: UnsafeMutableRawPointer, size: Int) {
        // munmap fails only for arguments this type never passes; nothing could be done anyway.
        _ = munmap(address, size)
    }

    /// Makes bytes `[offset, offset + length)` of a mapping durable (msync MS_SYNC on whole pages).
    public static func syncMapping(
        _ base: UnsafeMutableRawPointer, offset: Int, length: Int, path: String
    ) throws(StoreError) {
        guard length > 0 else { return }
        let page = pageSize
        let start = offset / page * page
        let end = offset + length
        guard msync(base + start, end - start, MS_SYNC) == 0 else { throw failure("msync", path: path) }
    }

    /// Asks the kernel to read a range ahead or to keep it (best effort: advice may be ignored).
    public static func adviseWillNeed(_ base: UnsafeMutableRawPointer, size: Int) {
        _ = madvise(base, size, MADV_WILLNEED)
    }

    /// Faults in `[offset, offset + length)` of a shared mapping for writing without changing its
    /// contents (MADV_POPULATE_WRITE, Linux 5.14+), so the writer's copies never stop in a page fault
    /// that zero-fills a page. Older kernels get read faults instead (one load per page), which moves
    /// the zero-fill out of the writer's way too. Safe while another thread writes the same range.
    public static func populateForWrite(_ base: UnsafeMutableRawPointer, offset: Int, length: Int) {
        guard length > 0 else { return }
        let page = pageSize
        let start = offset / page * page
        let populateWrite: Int32 = 23  // MADV_POPULATE_WRITE
        if madvise(base + start, offset + length - start, populateWrite) == 0 { return }
        var cursor = start
        var sink: UInt8 = 0
        while cursor < offset + length {
            sink &+= base.load(fromByteOffset: cursor, as: UInt8.self)
            cursor += page
        }
        withExtendedLifetime(sink) {}
    }

    /// Writes all of `bytes` at `offset`.
    public static func writeAll(
        _ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String
    ) throws(StoreError) {
        var written = 0
        while written < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(offset) + off_t(written))
            if result < 0 {
                if errno == EINTR { continue }
                throw failure("pwrite", path: path)
            }
            written += result
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer at end of file.
    public static func read(_ descriptor: Int32, count: Int, at offset: Int64, path: String) throws(StoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var total = 0
        while total < count {
            let result = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + total, count - total, off_t(offset) + off_t(total)) }
            if result < 0 {
                if errno == EINTR { continue }
                throw failure("pread", path: path)
            }
            if result == 0 { break }
            total += result
        }
        return Array(bytes[0..<total])
    }

    /// fdatasync: the file's data (and the metadata needed to read it) are durable.
    public static func syncData(_ descriptor: Int32, path: String) throws(StoreError) {
        guard fdatasync(descriptor) == 0 else { throw failure("fdatasync", path: path) }
    }

    /// fsync of a directory, so a rename or a new file inside it is durable.
    public static func syncDirectory(_ path: String) throws(StoreError) {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open directory", path: path) }
        defer { _ = Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync directory", path: path) }
    }

    /// Atomically replaces `destination` with `source`.
    public static func rename(_ source: String, to destination: String) throws(StoreError) {
        guard Glibc.rename(source, destination) == 0 else { throw failure("rename to \(destination)", path: source) }
    }

    /// Removes a file; a file that is already gone is not an error.
    public static func remove(_ path: String) throws(StoreError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink", path: path) }
    }

    /// Removes an empty directory; a missing one is not an error.
    public static func removeDirectory(_ path: String) throws(StoreError) {
        guard rmdir(path) == 0 || errno == ENOENT else { throw failure("rmdir", path: path) }
    }

    /// Creates a directory and its parents.
    public static func makeDirectories(_ path: String) throws(StoreError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw failure("mkdir", path: prefix) }
            prefix += "/"
        }
    }

    /// Names in a directory (without `.` and `..`), sorted; empty when the directory does not exist.
    public static func listDirectory(_ path: String) throws(StoreError) -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw failure("opendir", path: path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Whether a path exists.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether a path is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    /// Last modification time of a file, in milliseconds since the epoch.
    public static func modificationTime(_ path: String) throws(StoreError) -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw failure("stat", path: path) }
        return Int64(status.st_mtim.tv_sec) * 1000 + Int64(status.st_mtim.tv_nsec) / 1_000_000
    }

    /// Sets a file's modification time (used when a segment is sealed, and by retention tests).
    public static func setModificationTime(_ path: String, milliseconds: Int64) throws(StoreError) {
        var times = [timespec](repeating: timespec(), count: 2)
        times[0] = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        times[1] = times[0]
        guard utimensat(AT_FDCWD, path, times, 0) == 0 else { throw failure("utimensat", path: path) }
    }

    /// Fraction of the file system holding `path` that is in use, 0…1 (as `df` counts it).
    public static func diskUsageRatio(_ path: String) throws(StoreError) -> Double {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw failure("statvfs", path: path) }
        let total = Double(info.f_blocks)
        guard total > 0 else { return 0 }
        let available = Double(info.f_bavail)
        let free = Double(info.f_bfree)
        let used = total - free
        return used / (used + available)
    }

    /// Takes an exclusive advisory lock on a file, failing when another process holds it for more
    /// than `patienceMilliseconds`. The wait covers a lock that outlives its holder's `close` for an
    /// instant: a child the process is spawning right then shares every open file until its exec
    /// drops the close-on-exec ones, lock files included, so a store closed and reopened at once by
    /// a process that also spawns children (a test run, an embedding application) could be refused.
    public static func lockExclusively(_ path: String, patienceMilliseconds: Int = 1000) throws(StoreError) -> Int32 {
        let descriptor = try open(path, create: true)
        var waited = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR, waited < patienceMilliseconds else {
                _ = Glibc.close(descriptor)
                throw StoreError(.locked, "another process has this store open", path: path, errno: code)
            }
            usleep(10_000)
            waited += 10
        }
        return descriptor
    }

    /// The memory page size.
    public static let pageSize: Int = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Milliseconds since the epoch (clock_gettime is served by the vDSO, not a real system call).
    public static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// Monotonic nanoseconds, for deadlines and latency.
    public static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
