/// The pending timers in memory: a binary min-heap of (deliver time, timer-log index), so the next
/// due timer is found in O(1) and each insert or removal costs O(log n) — 100,000 pending timers
/// take 1.6 MB and about 17 comparisons per operation.
struct TimerHeap: Sendable {
    /// One pending timer.
    struct Item: Hashable, Sendable {
        /// When it is due, ms since the epoch.
        var deliverAt: Int64
        /// Its timer-log index (the timer topic's queue offset).
        var index: Int64

        /// Earlier deliver time first; equal times in arrival order.
        static func precedes(_ left: Item, _ right: Item) -> Bool {
            left.deliverAt < right.deliverAt || (left.deliverAt == right.deliverAt && left.index < right.index)
        }
    }

    /// The heap array: `items[i]` precedes its children `2i+1` and `2i+2`.
    private var items: [Item] = []

    /// Number of pending timers.
    var count: Int { items.count }

    /// The earliest timer, if any.
    var first: Item? { items.first }

    /// Adds a timer.
    mutating func insert(_ item: Item) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Item.precedes(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest timer when it is due at `now`.
    mutating func popDue(now: Int64) -> Item? {
        guard let top = items.first, top.deliverAt <= now else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return top }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count, Item.precedes(items[left], items[smallest]) { smallest = left }
            if right < items.count, Item.precedes(items[right], items[smallest]) { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
