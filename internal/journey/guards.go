package journey

import (
	"context"
	"fmt"
	"strings"
)

// The content guards, checked after every step against the sandbox's
// records and state, never the provider's word: no list shrinks past the
// guard unannounced, no event is ingested twice, every change of what an
// audience holds is shown by the plan that sends it, and an unconfirmed
// events ingest is settled the way a team would, by looking.

// eventsType is the event type the tour's events are ingested under.
const eventsType = "fdlive"

// shrinkLimit is the list guard's default: a list losing more than this
// percentage of its entries in one upload must be announced.
const shrinkLimit = 50

// listTypes are the list uploads the guard covers.
var listTypes = map[string]bool{"audience_mintegral_file": true, "audience_tpns_account_package": true}

// beforeStep records what the guards compare a step with.
func (j *journey) beforeStep() error {
	state, _, err := readState(j.repo.statePath)
	if err != nil {
		return err
	}
	j.prevState = state
	j.eventsBefore = len(j.e.sb.FutureDemandEvents(eventsType))
	j.output.Reset()
	return nil
}

// checkGuards runs the content invariants on the state a step left.
func (j *journey) checkGuards(state map[string]stateResource, writes []string) error {
	out := unwrap(j.output.String())
	// No list shrinks past the guard unannounced.
	for addr, r := range state {
		prev, ok := j.prevState[addr]
		if !listTypes[r.Type] || !ok || prev.str("file_md5") == r.str("file_md5") {
			continue
		}
		was, now := prev.num("entry_count"), r.num("entry_count")
		if was > 0 && (was-now)*100 > shrinkLimit*was {
			want := fmt.Sprintf("List shrinks from %d to %d entries", was, now)
			if !strings.Contains(out, want) {
				return findf("%s went from %d to %d entries (more than %d %% fewer) and no command of the step said %q", addr, was, now, shrinkLimit, want)
			}
			j.cfg.Logf("#%d %s shrank from %d to %d entries, announced", j.n, addr, was, now)
		}
	}
	// No event is ingested twice: each event of the tour reached Future
	// Demand at most once per life of the ingest resource (a destroyed
	// resource forgets what it sent, and its successor sends the file).
	if _, ok := state[addrTourEvents]; ok {
		if _, was := j.prevState[addrTourEvents]; !was {
			j.eventLives++
		}
	}
	seen := map[string]int{}
	for _, ev := range j.e.sb.FutureDemandEvents(eventsType) {
		seen[ev.Title+" "+ev.StartDateTime]++
		if n := seen[ev.Title+" "+ev.StartDateTime]; n > j.eventLives {
			return findf("Future Demand holds the event %q (%s) %d times, though the ingest resource lived %d times", ev.Title, ev.StartDateTime, n, j.eventLives)
		}
	}
	// Every change of what an audience holds is shown by the plan that
	// sends it: an update that went out (a PUT) names mintegral_files in
	// the step's plan output.
	for _, w := range writes {
		if strings.HasPrefix(w, "PUT /mintegral/api/open/v1/audience") && !strings.Contains(out, "mintegral_files") {
			return findf("an audience update reached Mintegral (%s), but no plan of the step showed mintegral_files changing", w)
		}
	}
	return nil
}

// settleEvents answers an unconfirmed events ingest as a team does: it
// looks in Future Demand's event list, and commits
// confirm_unconfirmed_ingest when the attempt's rows are there, or
// resend_unconfirmed_ingest when they are not.
func (j *journey) settleEvents(context.Context) error {
	state, _, err := readState(j.repo.statePath)
	if err != nil {
		return err
	}
	r, ok := state[addrTourEvents]
	if !ok || r.str("ingest_status") != "unconfirmed" {
		return nil
	}
	attempt, _ := r.Attrs["unconfirmed_ingest"].(map[string]any)
	token, _ := attempt["token"].(string)
	sent, _ := attempt["sent_rows"].(float64)
	if token == "" {
		return findf("%s is unconfirmed, but state holds no unconfirmed_ingest token to settle it with: %v", r.Addr, r.Attrs["unconfirmed_ingest"])
	}
	attr := "resend_unconfirmed_ingest"
	if arrived := len(j.e.sb.FutureDemandEvents(eventsType)) - j.eventsBefore; arrived >= int(sent) && sent > 0 {
		attr = "confirm_unconfirmed_ingest"
	}
	j.repo.eventsSettle = fmt.Sprintf("%s = %q", attr, token)
	j.cfg.Logf("#%d the team settles the unconfirmed events ingest: %s", j.n, j.repo.eventsSettle)
	return j.commit()
}
