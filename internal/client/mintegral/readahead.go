package mintegral

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// Terraform reads at most -parallelism (10) resources at once, so a
// gathering window (batcher) sees about ten reads and a plan of 300
// audiences still costs about 30 List calls. The read-ahead lists the
// whole account instead, on the first read, by pages of MaxListLimit, and
// answers the later reads of the same run from that listing.
//
// Mintegral's Get Audience List API takes no filter at all and pages by
// limit (≤ 500; more is answered as 500) and page, returning total
// (helpcenter.mintegral.com/en/docs/get-audience-package-list,
// adv.mintegral.com/doc/en/guide/audience/getAudienceList.html).

// readAheadPages bounds the listing: an account of more pages is listed
// one page only, and the reads its first page does not answer are batched
// as before. An account much larger than the workspace then costs at
// most one request more than batched reads.
const readAheadPages = 4

// readAheadTTL is how long a listing answers reads; a later read lists
// again. Long enough for one plan or apply, short enough that a process
// kept alive does not serve an old answer.
const readAheadTTL = 5 * time.Minute

// ReadAhead holds the audience listings of one provider configuration
// (one Terraform run): create it once per run and hand it to each Client
// of the run (Client.ReadAhead). The zero value is not usable; use
// NewReadAhead.
type ReadAhead struct {
	mu       sync.Mutex
	accounts map[[sha256.Size]byte]*accountListing
	now      func() time.Time
	pages    int // readAheadPages; tests lower it
	pageSize int // MaxListLimit; tests lower it
}

// NewReadAhead returns an empty read-ahead.
func NewReadAhead() *ReadAhead {
	return &ReadAhead{accounts: map[[sha256.Size]byte]*accountListing{}, now: time.Now, pages: readAheadPages, pageSize: MaxListLimit}
}

// accountListing is the listing of one account and the audiences the run
// has written since (whose listed state may be stale).
type accountListing struct {
	mu      sync.Mutex
	current *listing
	written map[int64]bool
}

// listing is one read of the account's audiences.
type listing struct {
	taken time.Time
	done  chan struct{}
	found map[int64]Audience
	ok    bool // the listing completed; otherwise reads go direct
}

func (r *ReadAhead) account(c *Client) *accountListing {
	key := sha256.Sum256([]byte(c.Endpoint + "\x00" + c.AccessKey + "\x00" + c.APIKey))
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.accounts[key]
	if !ok {
		a = &accountListing{written: map[int64]bool{}}
		r.accounts[key] = a
	}
	return a
}

// wrote marks id as changed by this run: its reads skip the listing.
func (r *ReadAhead) wrote(c *Client, id int64) {
	a := r.account(c)
	a.mu.Lock()
	a.written[id] = true
	a.mu.Unlock()
}

// get answers a read of id from the account's listing, starting one if
// there is none yet. ok is false when the listing cannot answer: the id
// was written by this run, the listing failed, or does not hold the id,
// which is no proof that it is gone (a listing may lag behind a recent
// create); the caller then reads id directly.
func (r *ReadAhead) get(ctx context.Context, c *Client, id int64) (a *Audience, ok bool, err error) {
	acct := r.account(c)
	acct.mu.Lock()
	if acct.written[id] {
		acct.mu.Unlock()
		return nil, false, nil
	}
	l := acct.current
	if l == nil || r.now().Sub(l.taken) > readAheadTTL {
		l = &listing{taken: r.now(), done: make(chan struct{})}
		acct.current = l
		// The listing serves the whole run, not just this reader: it
		// outlives a reader that gives up, with the first reader's values
		// (its logger).
		go r.list(context.WithoutCancel(ctx), c, l)
	}
	acct.mu.Unlock()
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, true, ctx.Err()
	}
	acct.mu.Lock()
	written := acct.written[id]
	acct.mu.Unlock()
	found, listed := l.found[id]
	if !l.ok || !listed || written {
		return nil, false, nil
	}
	found.DeviceTypes = slices.Clone(found.DeviceTypes) // each reader its own copy
	return &found, true, nil
}

// list fills l from the account's pages: all of them when there are at
// most r.pages, else the first only.
func (r *ReadAhead) list(ctx context.Context, c *Client, l *listing) {
	defer close(l.done)
	found := map[int64]Audience{}
	err := c.eachAudiencePage(ctx, AudienceFilter{PageSize: r.pageSize}, func(page []Audience, pageNo, pages int) bool {
		for _, a := range page {
			found[a.ID] = a
		}
		return pages <= r.pages
	})
	if err != nil {
		c.http.Log().Info(ctx, "listing the account's audiences ahead failed; reading them one batch at a time", map[string]any{"error": err.Error()})
		return
	}
	l.found, l.ok = found, true
}
