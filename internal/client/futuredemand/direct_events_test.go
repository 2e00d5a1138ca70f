package futuredemand

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/audiencekit/terraform-provider-audience/internal/client/transfer"
	"github.com/audiencekit/terraform-provider-audience/internal/sandbox"
)

func base(content string) EventsBase {
	sum := md5.Sum([]byte(content))
	return EventsBase{Size: int64(len(content)), MD5: hex.EncodeToString(sum[:])}
}

// A file that only grew is planned as its header row and the bytes after
// the base, whatever ends the base's last line; any other edit is not an
// append, and says why.
func TestPlanEventsAppend(t *testing.T) {
	header := "\ufefftitle,\"start\ndate\",city,venue\r\n"
	old := header + "A,2026-05-01T20:00:00Z,Berlin,Arena\r\n"
	for name, tc := range map[string]struct {
		old, content string
		from         int
		reason       string
	}{
		"grown":                        {old, old + "B,2026-05-02T20:00:00Z,Köln,Club\r\n", len(old), ""},
		"last line had no break":       {strings.TrimSuffix(old, "\r\n"), old + "B,x,y,z\n", len(old), ""},
		"last line had no break, LF":   {strings.TrimSuffix(old, "\r\n"), strings.TrimSuffix(old, "\r\n") + "\nB,x,y,z\n", len(old) - 1, ""},
		"last row continued":           {strings.TrimSuffix(old, "\r\n"), strings.TrimSuffix(old, "\r\n") + "2,B,x,y\n", 0, "its last row went on"},
		"row changed":                  {old, strings.Replace(old, "Berlin", "Bremen", 1) + "B,x,y,z\n", 0, "no longer hash to"},
		"shorter":                      {old, header, 0, "it is shorter"},
		"same size, other bytes":       {old, strings.Replace(old, "Berlin", "Bremen", 1), 0, "no longer hash to"},
		"header only held":             {header, old, 0, "no more than the header row"},
		"a new header before old rows": {old, "title,city\n" + old, 0, "no longer hash to"},
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := writeBytes(t, "events.csv", []byte(tc.content))
			app, err := PlanEventsAppend(p, base(tc.old))
			var not *NotAppendedError
			if tc.reason != "" {
				if !errors.As(err, &not) || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err = %v, want a NotAppendedError saying %q", err, tc.reason)
				}
				return
			}
			want := EventsAppend{Header: int64(len(header)), From: int64(tc.from), Size: int64(len(tc.content))}
			if err != nil || app != want {
				t.Fatalf("PlanEventsAppend = %+v, %v; want %+v", app, err, want)
			}
		})
	}
}

// An append sends the header row and the new rows only, in one
// fixed-length multipart body: Future Demand creates the new events and
// nothing else.
func TestIngestEventsAppendSendsOnlyTheNewRows(t *testing.T) {
	srv := startSandbox(t, nil)
	rc := &recorder{}
	c := newDirectClient(srv, rc)
	added := "Late Show,2026-05-03T22:00:00Z,Hamburg,Docks,800\n"
	content := eventsCSV + added
	p, sum := writeBytes(t, "events.csv", []byte(content))
	res, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "fdlive", Path: p, FileName: "events.csv", FileMD5: sum, Ingested: base(eventsCSV)})
	if err != nil {
		t.Fatal(err)
	}
	body := "title,start_date_time,city,venue,capacity\n" + added
	ins := srv.FutureDemandIngests()
	if len(ins) != 1 || ins[0].Rows != 1 || ins[0].MD5 != base(body).MD5 || ins[0].Size != int64(len(body)) || ins[0].FileName != "events.csv" {
		t.Fatalf("sandbox ingests %+v, want one of the header and the new row", ins)
	}
	if ev := srv.FutureDemandEvents("fdlive"); len(ev) != 1 || ev[0].Title != "Late Show" {
		t.Fatalf("events created %+v", ev)
	}
	if res.FileMD5 != base(body).MD5 || res.FileSize != int64(len(body)) {
		t.Fatalf("result %+v", res)
	}
	checkDirectRequests(t, rc)
}

// The append is checked against the plan just before it is sent: the
// base edited, or new rows other than the planned ones, send nothing.
func TestIngestEventsAppendOfChangedFile(t *testing.T) {
	srv := startSandbox(t, nil)
	c := newDirectClient(srv, &recorder{})
	planned := eventsCSV + "Late Show,2026-05-03T22:00:00Z,Hamburg,Docks,800\n"
	for name, now := range map[string]string{
		"base edited":     strings.Replace(planned, "Berlin", "Bremen", 1),
		"other new rows":  eventsCSV + "Late Show,2026-05-03T22:00:00Z,Hamburg,Docks,900\n",
		"grown once more": planned + "Encore,2026-05-04T22:00:00Z,Hamburg,Docks,800\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, _ := writeBytes(t, "events.csv", []byte(now))
			_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "fdlive", Path: p, FileName: "events.csv", FileMD5: base(planned).MD5, Ingested: base(eventsCSV)})
			if !errors.Is(err, transfer.ErrContentChanged) {
				t.Fatalf("err = %v, want ErrContentChanged", err)
			}
			if n := len(srv.FutureDemandIngests()); n != 0 {
				t.Fatalf("%d ingests taken", n)
			}
		})
	}
}

// An append whose answer is lost is not sent again, like a whole file.
func TestIngestEventsAppendAfterALostAnswer(t *testing.T) {
	srv := startSandbox(t, nil)
	srv.AddFault(sandbox.Fault{Method: http.MethodPost, PathPrefix: sandbox.PrefixFutureDemand + "/cr/api/events/", DropResponse: true})
	c := newDirectClient(srv, &recorder{})
	content := eventsCSV + "Late Show,2026-05-03T22:00:00Z,Hamburg,Docks,800\n"
	p, sum := writeBytes(t, "events.csv", []byte(content))
	_, err := c.Ingest(context.Background(), IngestRequest{Kind: KindEvents, EventType: "fdlive", Path: p, FileName: "events.csv", FileMD5: sum, Ingested: base(eventsCSV)})
	if !transfer.Ambiguous(err) || len(srv.FutureDemandEvents("fdlive")) != 1 {
		t.Fatalf("err = %v, events %+v; want one event and an ambiguous failure", err, srv.FutureDemandEvents("fdlive"))
	}
}
