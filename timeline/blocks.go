package timeline

import "github.com/logtriage/logtriage/parser"

// blockPool lends the text blocks the parts of large inputs are read
// into and takes them back once the merge has emitted every record of
// their part, so that a run reads into the same few megabytes instead of
// allocating (and zeroing, and collecting) as much memory as it reads.
//
// Before it lends blocks again it calls release, the caller's promise
// to keep none of their text (see MergeReusing). It takes back the
// blocks of releaseParts parts for each call: release costs the caller
// work for everything it kept since the last one (the engine copies the
// last record of every incident that has had a record since), and a
// call per part would be most of that work again for each part.
//
// get is safe for concurrent use; put is called by one goroutine at a
// time.
type blockPool struct {
	free    chan []byte
	release func()
	pending [][]byte // taken back, not yet released
	parts   int      // the parts pending holds the blocks of
}

// releaseParts is how many parts' blocks the pool takes back before it
// calls release and lends them again.
const releaseParts = 8

func newBlockPool(release func()) *blockPool {
	return &blockPool{free: make(chan []byte, poolBlocks()), release: release}
}

// poolBlocks is how many blocks the pool keeps: those of every part that
// may be in flight at once, parsed, waiting or being merged, for each
// input being cut, and those of the releaseParts parts taken back but not
// yet released. Blocks beyond that are left to the collector.
func poolBlocks() int {
	perPart := int(partSize/parser.BlockSize) + 2
	return (splitInputs*(partsAhead()+2) + releaseParts) * perPart
}

// get returns a block of parser.BlockSize bytes, a used one when there is
// one.
func (p *blockPool) get() []byte {
	select {
	case b := <-p.free:
		return b
	default:
		return make([]byte, parser.BlockSize)
	}
}

// put takes back the blocks of a part whose records are all emitted.
func (p *blockPool) put(blocks [][]byte) {
	if len(blocks) == 0 {
		return
	}
	p.pending = append(p.pending, blocks...)
	if p.parts++; p.parts < releaseParts {
		return
	}
	p.release()
	for _, b := range p.pending {
		if poisonBlocks {
			for i := range b {
				b[i] = 0xff
			}
		}
		select {
		case p.free <- b:
		default:
		}
	}
	clear(p.pending)
	p.pending, p.parts = p.pending[:0], 0
}

// poisonBlocks makes put overwrite every block it takes back, for the
// tests: text kept past release then reads as garbage at once, not
// only once its block is read into again. It is on under the race
// detector, so that every test of a program that reuses blocks checks
// that nothing is kept past release.
var poisonBlocks = raceEnabled
