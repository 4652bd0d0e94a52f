package stripegatewaytest

import (
	"testing"
	"time"
)

func TestPeriodEnd(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		tm, err := time.Parse(time.DateTime, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		anchor, interval string
		count            int64
		n                int
		want             string
	}{
		{"2030-01-15 12:00:00", "month", 1, 1, "2030-02-15 12:00:00"},
		{"2030-01-31 12:00:00", "month", 1, 1, "2030-02-28 12:00:00"},
		{"2030-01-31 12:00:00", "month", 1, 2, "2030-03-31 12:00:00"},
		{"2032-01-31 08:30:00", "month", 1, 1, "2032-02-29 08:30:00"},
		{"2030-10-31 00:00:00", "month", 3, 1, "2031-01-31 00:00:00"},
		{"2030-11-30 00:00:00", "month", 3, 1, "2031-02-28 00:00:00"},
		{"2032-02-29 00:00:00", "year", 1, 1, "2033-02-28 00:00:00"},
		{"2032-02-29 00:00:00", "year", 1, 4, "2036-02-29 00:00:00"},
		{"2030-01-01 00:00:00", "week", 2, 1, "2030-01-15 00:00:00"},
		{"2030-12-31 00:00:00", "day", 1, 1, "2031-01-01 00:00:00"},
		{"2030-01-15 00:00:00", "", 0, 1, "2030-02-15 00:00:00"},
	} {
		got := periodEnd(at(c.anchor), c.interval, c.count, c.n)
		if !got.Equal(at(c.want)) {
			t.Errorf("periodEnd(%s, %s×%d, %d) = %s, want %s", c.anchor, c.interval, c.count, c.n, got.Format(time.DateTime), c.want)
		}
	}
}
