package logbridge

import (
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Rotation is a time-based rotation schedule for a file sink.
type Rotation int

const (
	RotateNever  Rotation = iota // rotate by size only
	RotateHourly                 // also at the start of every hour (UTC)
	RotateDaily                  // also at midnight (UTC)
)

// FileOptions configures a rotating file sink. Zero values mean: rotate at
// 100 MB, keep every backup, delete none by age, do not compress, no
// time-based rotation.
type FileOptions struct {
	MaxSizeMB  int      // size at which the file is rotated
	MaxBackups int      // rotated files kept (0 keeps all)
	MaxAgeDays int      // days rotated files are kept (0 keeps them)
	Compress   bool     // gzip rotated files
	Rotate     Rotation // time-based rotation as well as size

	// Now is the clock for time-based rotation; nil means time.Now. It
	// exists for tests.
	Now func() time.Time
}

// WithFile writes records to the file at path, rotated by size with
// lumberjack (which also keeps backups by count and age and compresses
// them) and, if fo.Rotate says so, at every hour or midnight. The
// directory is created if needed; if the file cannot be written, records
// still reach the other sinks and the failure is reported on the error
// output, at most once per interval.
func WithFile(path string, fo FileOptions, opts ...SinkOption) Option {
	return optionFunc(func(c *config) {
		lj := &lumberjack.Logger{
			Filename:   path,
			MaxSize:    fo.MaxSizeMB,
			MaxBackups: fo.MaxBackups,
			MaxAge:     fo.MaxAgeDays,
			Compress:   fo.Compress,
		}
		s := newSink(sinkWriter, "file:"+path, opts)
		rf := &rotatingFile{lj: lj, every: fo.Rotate, now: fo.Now}
		if rf.now == nil {
			rf.now = time.Now
		}
		s.w, s.closer = rf, lj
		c.sinks = append(c.sinks, s)
	})
}

// rotatingFile adds time-based rotation to lumberjack, which rotates by
// size only.
type rotatingFile struct {
	lj    *lumberjack.Logger
	every Rotation
	now   func() time.Time

	mu   sync.Mutex
	next time.Time // next time boundary; zero until the first write
}

func (f *rotatingFile) Write(p []byte) (int, error) {
	if f.every != RotateNever {
		f.mu.Lock()
		now := f.now().UTC()
		switch {
		case f.next.IsZero():
			f.next = boundary(now, f.every)
		case !now.Before(f.next):
			f.next = boundary(now, f.every)
			if err := f.lj.Rotate(); err != nil {
				f.mu.Unlock()
				return 0, err
			}
		}
		f.mu.Unlock()
	}
	return f.lj.Write(p)
}

// boundary returns the first time after now at which r rotates.
func boundary(now time.Time, r Rotation) time.Time {
	if r == RotateHourly {
		return now.Truncate(time.Hour).Add(time.Hour)
	}
	y, m, d := now.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
