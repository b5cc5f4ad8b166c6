import CGraphviz

/// Parses DOT text into a cgraph graph whose object ids follow declaration order.
///
/// `agmemread` uses cgraph's default id discipline, which makes a named object's id the
/// address of its interned name. Subgraphs (clusters) are kept sorted by id, so their order —
/// and with it the layout and the order of the SVG output — would depend on where `malloc`
/// happened to put the names: two renders of one graph in one process gave different bytes.
/// This reader is `agmemread` with one change: an id discipline that declines to map names,
/// so cgraph keeps names in its internal map and hands out ids from a counter instead. Ids then
/// rise in the order objects are created, which is the order of the DOT source.
///
/// Callers hold `Graphviz`'s lock: the counter and the reader's cursor are shared state.
enum GraphvizReader {
    /// Reads one graph from `dot`, or nil when cgraph rejects it (the reason goes to `agerr`).
    static func read(_ dot: String) -> UnsafeMutablePointer<Agraph_t>? {
        nextID = 1
        var bytes = Array(dot.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> UnsafeMutablePointer<Agraph_t>? in
            var source = Source(bytes: buffer, cursor: 0)
            return withUnsafeMutablePointer(to: &source) { channel in
                agconcat(nil, channel, discipline)
            }
        }
    }

    /// The text being read and how far cgraph's scanner has got.
    private struct Source {
        var bytes: UnsafeMutableBufferPointer<UInt8>
        var cursor: Int
    }

    nonisolated(unsafe) private static var nextID: IDTYPE = 1

    /// Hands cgraph the source a line at a time, as `agmemread` does.
    private static let readLine: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?, Int32) -> Int32 = {
        channel, buffer, capacity in
        guard let channel, let buffer, capacity > 0 else { return 0 }
        let source = channel.assumingMemoryBound(to: Source.self)
        let bytes = source.pointee.bytes
        var cursor = source.pointee.cursor
        var count = 0
        while cursor < bytes.count, count < Int(capacity) {
            let byte = bytes[cursor]
            buffer[count] = CChar(bitPattern: byte)
            cursor += 1
            count += 1
            if byte == UInt8(ascii: "\n") { break }
        }
        source.pointee.cursor = cursor
        return Int32(count)
    }

    /// Ids for anonymous objects from a counter (odd numbers, as cgraph's own discipline uses);
    /// names are declined, which sends them to cgraph's internal name map.
    private static let mapID: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafeMutablePointer<CChar>?,
                                              UnsafeMutablePointer<IDTYPE>?, Int32) -> Int = {
        _, _, name, id, _ in
        guard name == nil, let id else { return 0 }
        id.pointee = nextID
        nextID += 2
        return 1
    }

    private static let discipline: UnsafeMutablePointer<Agdisc_t> = {
        let ids = UnsafeMutablePointer<Agiddisc_t>.allocate(capacity: 1)
        ids.initialize(to: Agiddisc_t(
            open: { graph, _ in UnsafeMutableRawPointer(graph) },
            map: mapID,
            alloc: { _, _, _ in 0 }, // explicit ids are not supported, as in cgraph's default
            free: { _, _, _ in },
            print: { _, _, _ in nil }, // names live in cgraph's internal map
            close: { _ in },
            idregister: { _, _, _ in }))
        let io = UnsafeMutablePointer<Agiodisc_t>.allocate(capacity: 1)
        io.initialize(to: Agiodisc_t(afread: readLine, putstr: AgIoDisc.putstr, flush: AgIoDisc.flush))
        let memory = UnsafeMutablePointer<Agmemdisc_t>.allocate(capacity: 1)
        memory.initialize(to: AgMemDisc)
        let discipline = UnsafeMutablePointer<Agdisc_t>.allocate(capacity: 1)
        discipline.initialize(to: Agdisc_t(mem: memory, id: ids, io: io))
        return discipline // lives as long as the process: graphs keep pointers to it
    }()
}
