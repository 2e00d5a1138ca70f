package mintegral

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeList records the ids of each List call and answers the even ones.
type fakeList struct {
	mu    sync.Mutex
	calls [][]int64
	err   error
}

func (f *fakeList) fetch(_ context.Context, _ *Client, ids []int64) ([]Audience, error) {
	f.mu.Lock()
	f.calls = append(f.calls, slices.Clone(ids))
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []Audience
	for _, id := range ids {
		if id%2 == 0 {
			out = append(out, Audience{ID: id, Name: "a", DeviceTypes: []string{"IDFA"}})
		}
	}
	return out, nil
}

// readAll reads ids concurrently and returns each reader's answer.
func readAll(b *batcher, ids []int64) ([]*Audience, []error) {
	got := make([]*Audience, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { got[i], errs[i] = b.get(context.Background(), nil, id) })
	}
	wg.Wait()
	return got, errs
}

func TestBatcherAnswersConcurrentReadsFromOneCall(t *testing.T) {
	f := &fakeList{}
	b := newBatcher(50*time.Millisecond, f.fetch)
	ids := []int64{1, 2, 3, 4, 4, 10}
	got, errs := readAll(b, ids)
	if len(f.calls) != 1 || len(f.calls[0]) != 5 {
		t.Fatalf("List calls %v, want one with the 5 distinct ids", f.calls)
	}
	for i, id := range ids {
		switch {
		case errs[i] != nil:
			t.Errorf("read %d: %v", id, errs[i])
		case id%2 == 1 && got[i] != nil:
			t.Errorf("read %d: got %+v, want not found", id, got[i])
		case id%2 == 0 && (got[i] == nil || got[i].ID != id):
			t.Errorf("read %d: got %+v", id, got[i])
		}
	}
	if got[3] == got[4] {
		t.Error("two readers of one audience share one value")
	}
}

func TestBatcherSplitsAtAPage(t *testing.T) {
	f := &fakeList{}
	b := newBatcher(time.Second, f.fetch)
	ids := make([]int64, 1200)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	start := time.Now()
	got, _ := readAll(b, ids)
	var sizes []int
	for _, c := range f.calls {
		sizes = append(sizes, len(c))
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{200, 500, 500}) {
		t.Errorf("List calls of %v ids, want 500, 500 and 200", sizes)
	}
	for i, id := range ids {
		if (got[i] != nil) != (id%2 == 0) {
			t.Errorf("read %d: got %+v", id, got[i])
		}
	}
	// Full pages go at once; only the last waits out its window.
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("took %s", d)
	}
}

func TestBatcherGivesTheErrorToEveryReader(t *testing.T) {
	f := &fakeList{err: errors.New("HTTP 429")}
	b := newBatcher(20*time.Millisecond, f.fetch)
	_, errs := readAll(b, []int64{1, 2, 3})
	for i, err := range errs {
		if err == nil || err.Error() != "HTTP 429" {
			t.Errorf("reader %d: %v", i, err)
		}
	}
	if len(f.calls) != 1 {
		t.Errorf("%d calls", len(f.calls))
	}
}

// The window runs from the first read: reads that keep arriving do not
// hold it back.
func TestBatcherWindowIsBounded(t *testing.T) {
	f := &fakeList{}
	const window = 40 * time.Millisecond
	b := newBatcher(window, f.fetch)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for id := int64(100); ; id++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				wg.Go(func() { _, _ = b.get(context.Background(), nil, id) })
			}
		}
	})
	start := time.Now()
	if _, err := b.get(context.Background(), nil, 2); err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	time.Sleep(window / 2) // some reads arrive after the first batch left
	close(stop)
	wg.Wait()
	if waited < window || waited > window+60*time.Millisecond {
		t.Errorf("the first read waited %s, want about the window (%s)", waited, window)
	}
	if len(f.calls) < 2 {
		t.Errorf("%d calls: the later reads did not go in later batches", len(f.calls))
	}
}

// A reader that gives up gets its own error; the others still get the
// answer.
func TestBatcherReaderThatGivesUp(t *testing.T) {
	f := &fakeList{}
	b := newBatcher(50*time.Millisecond, f.fetch)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var early error
	wg.Go(func() { _, early = b.get(ctx, nil, 2) })
	a, err := b.get(context.Background(), nil, 4)
	wg.Wait()
	if !errors.Is(early, context.DeadlineExceeded) {
		t.Errorf("the reader that gave up got %v", early)
	}
	if err != nil || a == nil || a.ID != 4 {
		t.Errorf("the other reader got %+v, %v", a, err)
	}
}
