package logbridge

import (
	"testing"
	"time"
)

func TestAppendTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 2, 23, 10, 15, 42, 123456789, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600)),
		time.Date(2026, 1, 2, 3, 4, 5, 6000, time.Local),
	} {
		if got, want := string(appendTime(nil, tm, 6)), tm.UTC().Format("2006-01-02T15:04:05.000000Z07:00"); got != want {
			t.Errorf("6 digits: %s, want %s", got, want)
		}
		if got, want := string(appendTime(nil, tm, 3)), tm.UTC().Format("2006-01-02T15:04:05.000Z07:00"); got != want {
			t.Errorf("3 digits: %s, want %s", got, want)
		}
	}
}
