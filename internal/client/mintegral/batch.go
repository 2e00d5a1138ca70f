package mintegral

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// Terraform reads each audience on its own and in parallel; the batcher
// answers the reads that arrive together from one List call per page
// (ta_ids=a,b,c…), so a plan of hundreds of audiences does not cost a
// request each.

// batchWindow is how long a batch gathers reads after its first one: the
// most a read waits for others, whatever keeps arriving.
const batchWindow = 30 * time.Millisecond

// batcher coalesces GetAudience calls of one account.
type batcher struct {
	window time.Duration
	max    int // ids per request: a page of the List API
	// fetch reads ids with one request of client.
	fetch func(ctx context.Context, c *Client, ids []int64) ([]Audience, error)

	mu   sync.Mutex
	open *batch
}

// batch is one List call and the reads waiting for it.
type batch struct {
	client  *Client // whose request it is: the first reader's
	ids     []int64
	seen    map[int64]bool
	waiting int
	once    sync.Once // the call is sent once, by the timer or a full page
	ctx     context.Context
	cancel  context.CancelFunc
	timer   *time.Timer
	done    chan struct{}
	found   map[int64]*Audience
	err     error
}

var (
	batchersMu sync.Mutex
	batchers   = map[[sha256.Size]byte]*batcher{}
)

// batcherOf is the process's batcher for c's account: reads of the same
// endpoint and keys join, whichever Client they come through.
func batcherOf(c *Client) *batcher {
	key := sha256.Sum256([]byte(c.Endpoint + "\x00" + c.AccessKey + "\x00" + c.APIKey))
	batchersMu.Lock()
	defer batchersMu.Unlock()
	b, ok := batchers[key]
	if !ok {
		b = newBatcher(batchWindow, func(ctx context.Context, c *Client, ids []int64) ([]Audience, error) {
			return c.ListAudiences(ctx, AudienceFilter{IDs: ids})
		})
		batchers[key] = b
	}
	return b
}

func newBatcher(window time.Duration, fetch func(context.Context, *Client, []int64) ([]Audience, error)) *batcher {
	return &batcher{window: window, max: MaxListLimit, fetch: fetch}
}

// get returns audience id, nil when the List call does not show it, or
// the error of the batch's call, which every reader of the batch gets.
func (b *batcher) get(ctx context.Context, c *Client, id int64) (*Audience, error) {
	b.mu.Lock()
	bt := b.open
	if bt == nil {
		// The call outlives a reader that gives up, as long as another
		// still waits; it keeps the first reader's values (its logger).
		bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		bt = &batch{client: c, seen: map[int64]bool{}, ctx: bctx, cancel: cancel, done: make(chan struct{})}
		b.open = bt
		bt.timer = time.AfterFunc(b.window, func() {
			b.mu.Lock()
			b.close(bt)
			b.mu.Unlock()
			bt.once.Do(func() { b.send(bt) })
		})
	}
	if !bt.seen[id] {
		bt.seen[id] = true
		bt.ids = append(bt.ids, id)
	}
	bt.waiting++
	full := len(bt.ids) >= b.max
	if full { // a full page goes now; the next read starts another batch
		b.close(bt)
	}
	b.mu.Unlock()
	if full {
		bt.timer.Stop()
		go bt.once.Do(func() { b.send(bt) })
	}
	select {
	case <-bt.done:
		if a := bt.found[id]; a != nil {
			own := *a // each reader gets its own copy
			own.DeviceTypes = slices.Clone(a.DeviceTypes)
			return &own, bt.err
		}
		return nil, bt.err
	case <-ctx.Done():
		b.mu.Lock()
		bt.waiting--
		if bt.waiting == 0 {
			bt.cancel() // nobody is left to read the answer
		}
		b.mu.Unlock()
		return nil, ctx.Err()
	}
}

// close takes bt out of reach of new reads; b.mu is held.
func (b *batcher) close(bt *batch) {
	if b.open == bt {
		b.open = nil
	}
}

// send makes the batch's call and hands out its answer.
func (b *batcher) send(bt *batch) {
	defer bt.cancel()
	list, err := b.fetch(bt.ctx, bt.client, bt.ids)
	bt.found = make(map[int64]*Audience, len(list))
	for i := range list {
		if bt.seen[list[i].ID] {
			bt.found[list[i].ID] = &list[i]
		}
	}
	bt.err = err
	close(bt.done)
}
