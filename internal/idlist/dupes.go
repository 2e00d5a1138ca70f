package idlist

import (
	"hash/maphash"
	"math/bits"
	"sync"
)

// MaxTrackedIDs bounds the distinct IDs whose repeats are found: the set
// holds a 64-bit hash of each, in a table at most half full, so it costs
// at most 16 MiB (2^21 slots of 8 bytes) whatever the file size.
//
// Hashes stand for the IDs: two distinct IDs with the same hash would be
// taken for one. With 2^20 IDs the odds that any two collide are about
// 3 in 100 million (n²/2^65).
const MaxTrackedIDs = 1 << 20

const firstIDSlots = 1 << 12

// idSet remembers IDs by their 64-bit hashes, up to MaxTrackedIDs.
type idSet struct {
	seed  maphash.Seed
	slots []uint64 // open addressing, linear probing; 0 is an empty slot
	n     int
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed()} }

// add reports whether v was added before. full means v is new and the set
// has no room left for it: it was not added.
func (s *idSet) add(v []byte) (seen, full bool) {
	return s.addHash(s.hash(v))
}

func (s *idSet) hash(v []byte) uint64 { return maphash.Bytes(s.seed, v) }

func (s *idSet) addHash(h uint64) (seen, full bool) {
	if h == 0 {
		h = 1
	}
	if s.slots == nil {
		s.slots = getSlots(firstIDSlots)
	}
	i := s.find(h)
	if s.slots[i] == h {
		return true, false
	}
	if s.n == MaxTrackedIDs {
		return false, true
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
		i = s.find(h)
	}
	s.slots[i] = h
	s.n++
	return false, false
}

// touch reads the slot where h starts its probe, so that a batch of
// touches waits for its cache misses together rather than one by one.
func (s *idSet) touch(h uint64) uint64 {
	if s.slots == nil {
		return 0
	}
	return s.slots[h&uint64(len(s.slots)-1)]
}

// find returns the slot holding h, or the empty slot where it belongs.
func (s *idSet) find(h uint64) int {
	mask := uint64(len(s.slots) - 1)
	i := h & mask
	for s.slots[i] != 0 && s.slots[i] != h {
		i = (i + 1) & mask
	}
	return int(i)
}

// fullSetBytes is the content size from which a list surely holds
// MaxTrackedIDs IDs: at 40 bytes a line, more than a UUID and its line
// break take.
const fullSetBytes = 40 * MaxTrackedIDs

// expect prepares for the IDs of content of the given size: the table a
// large list ends with, at once, rather than grown by doubling, each
// growth moving every ID and holding the old table and the new.
func (s *idSet) expect(size int64) {
	if size >= fullSetBytes && s.n == 0 {
		putSlots(s.slots)
		s.slots = getSlots(2 * MaxTrackedIDs)
	}
}

func (s *idSet) grow() {
	old := s.slots
	s.slots = getSlots(2 * len(old))
	for _, h := range old {
		if h != 0 {
			s.slots[s.find(h)] = h
		}
	}
	putSlots(old)
}

// release hands the set's table on to the next set; the set is empty
// after it.
func (s *idSet) release() {
	putSlots(s.slots)
	s.slots, s.n = nil, 0
}

// slotPools recycle tables, one pool per size (by its log2), so that a
// plan checking hundreds of lists, a few at a time, reuses a few tables
// instead of leaving one per list (and per growth) to the collector.
var slotPools [bits.UintSize]sync.Pool

func getSlots(n int) []uint64 {
	if p, ok := slotPools[bits.Len(uint(n))].Get().(*[]uint64); ok {
		clear(*p)
		return *p
	}
	return make([]uint64, n)
}

func putSlots(t []uint64) {
	if len(t) > 0 {
		slotPools[bits.Len(uint(len(t)))].Put(&t)
	}
}
