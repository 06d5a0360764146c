package incident

import "time"

// instant is a time as a number of seconds and nanoseconds since the
// Unix epoch. Two instants order as their times do when one of those has
// no monotonic clock reading, as records' times never have, in a
// comparison the compiler inlines, which time.Time's methods are not:
// the engine makes a handful of such comparisons for every record.
type instant struct {
	sec  int64
	nsec int32 // 0 to 999 999 999
}

func instantOf(t time.Time) instant { return instant{t.Unix(), int32(t.Nanosecond())} }

// before reports whether a is earlier than b.
func (a instant) before(b instant) bool {
	return a.sec < b.sec || a.sec == b.sec && a.nsec < b.nsec
}

// add returns a+d, as time.Time.Add does.
func (a instant) add(d time.Duration) instant {
	sec, nsec := a.sec+int64(d/time.Second), a.nsec+int32(d%time.Second)
	if nsec >= int32(time.Second) {
		sec, nsec = sec+1, nsec-int32(time.Second)
	} else if nsec < 0 {
		sec, nsec = sec-1, nsec+int32(time.Second)
	}
	return instant{sec, nsec}
}

// minute is the number of the calendar minute a lies in, counted from
// the minute that starts the Unix epoch: two instants share it when
// time.Time.Truncate(time.Minute) makes the same time of them (the
// epoch is a whole number of minutes after the zero time).
func (a instant) minute() int64 {
	m := a.sec / 60
	if a.sec%60 < 0 {
		m--
	}
	return m
}
