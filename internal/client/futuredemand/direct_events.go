package futuredemand

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
)

// Every row of an events file creates an event, and Future Demand cannot
// take one back, so a file that grew is sent as its header row followed by
// the rows after what Future Demand already holds: the same CSV the bulk
// upload takes, holding only the new events.

// EventsBase is the content of an events file Future Demand already holds:
// its first Size bytes, which hash to MD5 (lowercase hex). The zero value
// holds nothing.
type EventsBase struct {
	Size int64
	MD5  string
}

// EventsAppend says how a grown events file is sent: bytes [0, Header)
// (a byte order mark, the header row and its line break), then bytes
// [From, Size), the rows after the base.
type EventsAppend struct {
	Header int64
	From   int64
	Size   int64
}

// NotAppendedError says why a file is not the base with rows added after
// it: an edit Future Demand cannot follow, since rows cannot be taken back.
type NotAppendedError struct {
	Path   string
	Base   EventsBase
	Reason string
}

func (e *NotAppendedError) Error() string {
	return fmt.Sprintf("%s is not the %d bytes Future Demand holds with rows added after them: %s", e.Path, e.Base.Size, e.Reason)
}

// PlanEventsAppend checks that the file at path begins with base and that
// base ends at a row boundary, and returns the parts to send. It reads the
// base's bytes once (to hash them) and the header row; an error other
// than *NotAppendedError is a read error.
func PlanEventsAppend(path string, base EventsBase) (EventsAppend, error) {
	f, err := os.Open(path)
	if err != nil {
		return EventsAppend{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return EventsAppend{}, err
	}
	app, _, err := scanAppend(f, path, st.Size(), base)
	return app, err
}

// scanAppend checks f (size bytes) against base, and returns the parts to
// send and the hash of the base's bytes, ready to take the rest of the
// file.
func scanAppend(f *os.File, path string, size int64, base EventsBase) (EventsAppend, hash.Hash, error) {
	refuse := func(reason string, args ...any) (EventsAppend, hash.Hash, error) {
		return EventsAppend{}, nil, &NotAppendedError{Path: path, Base: base, Reason: fmt.Sprintf(reason, args...)}
	}
	if base.Size <= 0 {
		return refuse("Future Demand holds nothing from it")
	}
	if size < base.Size {
		return refuse("it is shorter (%d bytes), so rows were removed or changed", size)
	}
	whole := md5.New()
	if _, err := io.Copy(whole, io.NewSectionReader(f, 0, base.Size)); err != nil {
		return EventsAppend{}, nil, err
	}
	if hex.EncodeToString(whole.Sum(nil)) != base.MD5 {
		return refuse("its first %d bytes no longer hash to %s, so a row was changed, removed or reordered, or the header changed", base.Size, base.MD5)
	}
	// The base ends at a row boundary when its last byte ends a line, or
	// when the new bytes start by ending its last line.
	var edge [3]byte
	n, err := f.ReadAt(edge[:], base.Size-1)
	if err != nil && !errors.Is(err, io.EOF) {
		return EventsAppend{}, nil, err
	}
	from := base.Size
	switch next := edge[1:n]; {
	case edge[0] == '\n':
	case bytes.HasPrefix(next, []byte("\n")):
		from++
	case bytes.HasPrefix(next, []byte("\r\n")):
		from += 2
	case len(next) == 0:
	default:
		return refuse("its last row went on: the bytes after it continue that row instead of starting a new one")
	}
	header, err := headerSize(io.NewSectionReader(f, 0, base.Size))
	if err != nil {
		return EventsAppend{}, nil, err
	}
	if header >= from {
		return refuse("what Future Demand holds is no more than the header row")
	}
	return EventsAppend{Header: header, From: from, Size: size}, whole, nil
}

// headerSize is how many bytes the first CSV record takes, a leading byte
// order mark and its line break included, read as
// fdfiles.CheckEvents reads it.
func headerSize(r io.Reader) (int64, error) {
	br := bufio.NewReader(r)
	var bom int64
	if head, _ := br.Peek(3); bytes.Equal(head, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
		bom = 3
	}
	cr := csv.NewReader(br)
	if _, err := cr.Read(); err != nil {
		return 0, fmt.Errorf("reading the header row: %w", err)
	}
	return bom + cr.InputOffset(), nil
}

// appendBody checks, just before an append is sent, that the file is
// still the planned content (its md5 is fileMD5) and still grows base,
// and returns the ranges to send and the md5 of their bytes. It reads the
// file once. A file that changed is transfer.ErrContentChanged.
func appendBody(path string, base EventsBase, fileMD5 string) (EventsAppend, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return EventsAppend{}, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return EventsAppend{}, "", err
	}
	app, whole, err := scanAppend(f, path, st.Size(), base)
	var not *NotAppendedError
	if errors.As(err, &not) {
		return EventsAppend{}, "", fmt.Errorf("%s: %w: %s; run the plan again to see the new content", path, transfer.ErrContentChanged, not.Reason)
	}
	if err != nil {
		return EventsAppend{}, "", err
	}
	body := md5.New()
	if _, err := io.Copy(body, io.NewSectionReader(f, 0, app.Header)); err != nil {
		return EventsAppend{}, "", err
	}
	if _, err := io.Copy(whole, io.NewSectionReader(f, base.Size, app.From-base.Size)); err != nil {
		return EventsAppend{}, "", err
	}
	if _, err := io.Copy(io.MultiWriter(whole, body), io.NewSectionReader(f, app.From, app.Size-app.From)); err != nil {
		return EventsAppend{}, "", err
	}
	if got := hex.EncodeToString(whole.Sum(nil)); got != fileMD5 {
		return EventsAppend{}, "", fmt.Errorf("%s: %w: planned md5 %s, the file now hashes to %s; run the plan again to see the new content", path, transfer.ErrContentChanged, fileMD5, got)
	}
	return app, hex.EncodeToString(body.Sum(nil)), nil
}

// ranges are the parts of the file an append sends.
func (a EventsAppend) ranges() []transfer.Range {
	return []transfer.Range{{Offset: 0, Length: a.Header}, {Offset: a.From, Length: a.Size - a.From}}
}
