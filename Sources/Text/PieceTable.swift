/// Piece text → id, looked up by a span of UTF-8 bytes without building a String per candidate: the
/// BPE merge loop asks "is left+right a piece?" for every adjacent pair, which dominates encoding time.
/// Open addressing with linear probing over one contiguous byte store; FNV-1a hash. Pieces are compared
/// as bytes, never as Strings (String equality is canonical equivalence, and the Llama vocabulary holds
/// canonically equal but distinct pieces).
struct PieceTable: Sendable {
    fileprivate struct Entry {
        var offset: Int32
        var length: Int32
        var id: Int32
        var hash: UInt32
    }

    private var storage: [UInt8] = [0]  // never empty, so that its base address exists
    private var entries: [Entry] = []
    /// Index into `entries`, or -1 for an empty slot.
    private var slots: [Int32]
    private let mask: Int
    private(set) var maxLength = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { entries.count }

    @inline(__always)
    fileprivate static func hash(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<count { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    /// Adds `text` → `id` unless `text` is already present (the first definition wins, as in
    /// sentencepiece's InsertIfNotPresent).
    mutating func insert(_ text: String, id: Int32) {
        guard lookup(text) == nil else { return }
        let utf8 = Array(text.utf8) + [0]  // the terminator keeps the pointer valid for empty text
        let h = utf8.withUnsafeBufferPointer { Self.hash($0.baseAddress!, utf8.count - 1) }
        let index = Int32(entries.count)
        entries.append(Entry(offset: Int32(storage.count), length: Int32(utf8.count - 1), id: id, hash: UInt32(truncatingIfNeeded: h)))
        storage.append(contentsOf: utf8.dropLast())
        maxLength = max(maxLength, utf8.count - 1)
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = index
    }

    func lookup(_ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { bytes in withView { $0.lookup(bytes) } }
    }

    /// Runs `body` with a read-only view for fast lookups; the view must not escape `body`.
    @inline(__always)
    func withView<R>(_ body: (View) -> R) -> R {
        storage.withUnsafeBufferPointer { store in
            entries.withUnsafeBufferPointer { entries in
                slots.withUnsafeBufferPointer { slots in
                    body(View(storage: store.baseAddress!, entries: entries.baseAddress, slots: slots.baseAddress!, mask: mask))
                }
            }
        }
    }

    struct View {
        fileprivate let storage: UnsafePointer<UInt8>
        fileprivate let entries: UnsafePointer<Entry>?
        fileprivate let slots: UnsafePointer<Int32>
        fileprivate let mask: Int

        /// The id of the piece spelled by `count` bytes at `bytes`, or -1.
        @inline(__always)
        func id(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
            guard let entries else { return -1 }
            let h = PieceTable.hash(bytes, count)
            let shortHash = UInt32(truncatingIfNeeded: h)
            var slot = Int(truncatingIfNeeded: h) & mask
            while true {
                let index = Int(slots[slot])
                if index < 0 { return -1 }
                let entry = entries[index]
                if entry.hash == shortHash && Int(entry.length) == count {
                    let start = storage + Int(entry.offset)
                    var i = 0
                    while i < count && start[i] == bytes[i] { i += 1 }
                    if i == count { return entry.id }
                }
                slot = (slot + 1) & mask
            }
        }

        func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
            guard let base = bytes.baseAddress else {
                let empty: UInt8 = 0
                return withUnsafePointer(to: empty) { let id = self.id($0, 0); return id >= 0 ? id : nil }
            }
            let id = self.id(base, bytes.count)
            return id >= 0 ? id : nil
        }
    }
}
