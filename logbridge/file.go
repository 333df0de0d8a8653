package logbridge

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
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

	// Now is the clock for rotation and retention; nil means time.Now. It
	// exists for tests.
	Now func() time.Time
}

// WithFile writes records to the file at path, rotated when it would grow
// past MaxSizeMB and, if fo.Rotate says so, at every hour or midnight. A
// rotated file is renamed with its rotation time (app-2026-02-23T10-15-42.123.log),
// then, on a goroutine of the sink's own that Close stops, gzipped and
// deleted when more than MaxBackups are kept or it is older than
// MaxAgeDays. The directory is created if needed (0750) and files are
// created readable by their owner only (0600), since logs may carry
// personal data. A file removed while it is open, alone or with its
// directory, or replaced by another file, is made again (directory and
// file) by the first check after the removal, and every record written
// after the removal is in the new file: the file keeps the records
// written since its last check (at most 256 KiB and one record) and
// writes them into the new file, so some of the last records before the
// removal can be there too. The check, a stat of the path, runs after a
// write once 100 ms have passed since the last one or those records reach
// 256 KiB, before a rotation, and at Close; a quiet logger checks
// nothing. A file renamed away (logrotate's move) is noticed by the same
// check: the records until then are in the renamed file, the later ones
// in a new one. If the file cannot be written or made again, records
// still reach the other sinks, and each lost one is counted
// (otelkit.log.dropped{reason="write_failed"}) and the failure reported on
// the error output, at most once per interval; records lost at Close are
// not in the metric, but the error Close returns says how many.
func WithFile(path string, fo FileOptions, opts ...SinkOption) Option {
	return optionFunc(func(c *config) {
		s := newSink(sinkWriter, "file:"+path, opts)
		rf := newRotatingFile(path, fo)
		s.w, s.closer = rf, rf
		c.sinks = append(c.sinks, s)
	})
}

// rotatingFile is a size- and time-rotated log file with retention and
// compression. (We used lumberjack before; its cleanup goroutine cannot be
// stopped, so every file sink leaked one.)
type rotatingFile struct {
	path       string
	maxSize    int64
	maxBackups int
	maxAge     time.Duration
	compress   bool
	every      Rotation
	now        func() time.Time

	mu      sync.Mutex
	f       *os.File
	fi      os.FileInfo // of f, to tell whether the path still names it
	fd      uintptr     // of f
	checkAt time.Time   // next check of the path
	recent  []byte      // written to f since the last check
	recentN int         // records in recent
	size    int64
	next    time.Time // next time boundary; zero until the file is opened
	closed  bool

	millOnce sync.Once
	millCh   chan struct{} // wakes the mill; closed by Close
	millDone chan struct{}
}

var errFileClosed = errors.New("logbridge: file sink closed")

func newRotatingFile(path string, fo FileOptions) *rotatingFile {
	f := &rotatingFile{
		path:       path,
		maxSize:    int64(fo.MaxSizeMB) << 20,
		maxBackups: fo.MaxBackups,
		maxAge:     time.Duration(fo.MaxAgeDays) * 24 * time.Hour,
		compress:   fo.Compress,
		every:      fo.Rotate,
		now:        fo.Now,
		millCh:     make(chan struct{}, 1),
		millDone:   make(chan struct{}),
	}
	if f.maxSize <= 0 {
		f.maxSize = 100 << 20
	}
	if f.now == nil {
		f.now = time.Now
	}
	return f
}

const (
	// fileCheckInterval is how often, at most, Write checks that the path
	// still names the open file.
	fileCheckInterval = 100 * time.Millisecond
	// recentCap is the bytes written since the last check past which
	// Write checks at once, whatever the time: it bounds what the file
	// holds in memory to write again.
	recentCap = 256 << 10
)

// Write appends p, rotating first when p would not fit or a time boundary
// has passed. Each call is one record, so a record never spans two files.
//
// The file is made again when it disappears, and no record written after
// that is lost. Write keeps in memory the records written since the last
// check (at most 256 KiB and one record). After a write, once 100 ms have
// passed since the last check or those records reach 256 KiB, and also
// before a rotation and at Close, it checks (one stat of the path) that
// the path still names the open file. When the open file has no name left
// (rm of the file or of its directory, or another file renamed over it),
// the directory and file are created again and the records since the last
// check are written there: every record written after the removal is in
// the new file, and some written before it may be there too. When the
// file was renamed away (logrotate's move), its records are in the
// renamed file and the next record goes to a new file at the path. When
// the file cannot be made again (its parent is now a regular file, say),
// the records since the last check are lost and Write's error says how
// many (the sink counts and reports them), and every later record fails
// until the path is usable again.
func (f *rotatingFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, errFileClosed
	}
	now := f.now()
	if f.f == nil {
		if err := f.open(now); err != nil {
			return 0, err
		}
	}
	if f.rotationDue(now, p) {
		// Check first: the records since the last check must be in the
		// file rotated, not in a removed one.
		if err := f.check(now, 1); err != nil {
			return 0, err
		}
		if f.f == nil { // renamed away: start a new file, rotate nothing
			if err := f.open(now); err != nil {
				return 0, err
			}
		} else if err := f.rotate(now); err != nil {
			return 0, err
		}
	}
	n, err := f.f.Write(p)
	f.size += int64(n)
	if err != nil {
		return n, err
	}
	f.recent = append(f.recent, p...)
	f.recentN++
	if !now.Before(f.checkAt) || len(f.recent) >= recentCap {
		if err := f.check(now, 0); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (f *rotatingFile) rotationDue(now time.Time, p []byte) bool {
	due := f.every != RotateNever && !now.Before(f.next)
	return f.size > 0 && (due || f.size+int64(len(p)) > f.maxSize)
}

// check makes sure the records written since the last check are in a file
// with a name, and forgets them. If the path no longer names the open
// file, the file is closed; when it has no name left, the directory and
// file are created again and those records written there. When that
// fails, the error is a *recordsLostError counting them and extra more
// (the record at hand, not written).
func (f *rotatingFile) check(now time.Time, extra int) error {
	f.checkAt = now.Add(fileCheckInterval)
	defer f.forget()
	fi, err := os.Stat(f.path)
	if err == nil && os.SameFile(fi, f.fi) {
		return nil
	}
	if !unlinked(f.fd) {
		if err == nil || errors.Is(err, os.ErrNotExist) {
			f.closeFile() // renamed away: the records are in the renamed file
		}
		// Otherwise the path cannot be looked up now (a directory's
		// permissions, say) while the open file still has its name.
		return nil
	}
	f.closeFile()
	if err := f.open(now); err != nil {
		return f.lost(extra, err)
	}
	n, err := f.f.Write(f.recent)
	f.size += int64(n)
	if err != nil {
		return f.lost(extra, err)
	}
	return nil
}

// lost is the error for the records since the last check, and extra more,
// that the file, removed, could not take again.
func (f *rotatingFile) lost(extra int, err error) error {
	n := f.recentN + extra
	return &recordsLostError{n: n, err: fmt.Errorf("logbridge: log file %s was removed and cannot be made again (%d records lost): %w", f.path, n, err)}
}

// forget empties the records since the last check, keeping the buffer
// unless a huge record grew it far past recentCap.
func (f *rotatingFile) forget() {
	if cap(f.recent) > 2*recentCap {
		f.recent = nil
	}
	f.recent, f.recentN = f.recent[:0], 0
}

// recordsLostError is a Write error that cost n records, not just the one
// being written: the sink counts n (see [multiLoss]).
type recordsLostError struct {
	n   int
	err error
}

func (e *recordsLostError) Error() string      { return e.err.Error() }
func (e *recordsLostError) Unwrap() error      { return e.err }
func (e *recordsLostError) recordsLost() int64 { return int64(e.n) }

// closeFile closes the open file, whose path names it no more.
func (f *rotatingFile) closeFile() {
	_ = f.f.Close()
	f.f, f.fi = nil, nil
}

// open opens the current file for appending, creating it and its directory.
func (f *rotatingFile) open(now time.Time) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o750); err != nil {
		return err
	}
	file, err := os.OpenFile(f.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return err
	}
	f.f, f.fi, f.fd, f.size = file, fi, file.Fd(), fi.Size()
	f.checkAt = now.Add(fileCheckInterval)
	if f.every != RotateNever {
		f.next = boundary(now.UTC(), f.every)
	}
	return nil
}

// rotate renames the current file with the rotation time and starts a new
// one; the mill then compresses and prunes backups.
func (f *rotatingFile) rotate(now time.Time) error {
	if err := f.f.Close(); err != nil {
		return err
	}
	f.f = nil
	if err := os.Rename(f.path, f.backupName(now)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := f.open(now); err != nil {
		return err
	}
	f.millOnce.Do(func() { go f.mill() })
	select {
	case f.millCh <- struct{}{}:
	default: // a pass is already due
	}
	return nil
}

const backupTimeFormat = "2006-01-02T15-04-05.000"

func (f *rotatingFile) backupName(t time.Time) string {
	dir, base := filepath.Split(f.path)
	ext := filepath.Ext(base)
	name := fmt.Sprintf("%s-%s%s", strings.TrimSuffix(base, ext), t.UTC().Format(backupTimeFormat), ext)
	// Two rotations in one millisecond must not overwrite each other.
	for i := 1; ; i++ {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
		name = fmt.Sprintf("%s-%s.%d%s", strings.TrimSuffix(base, ext), t.UTC().Format(backupTimeFormat), i, ext)
	}
}

// mill compresses and prunes backups after each rotation, off the logging
// path, until Close.
func (f *rotatingFile) mill() {
	defer close(f.millDone)
	for range f.millCh {
		f.prune()
	}
}

type backup struct {
	path string
	t    time.Time
}

// backups lists the rotated files of f, newest first.
func (f *rotatingFile) backups() []backup {
	dir, base := filepath.Split(f.path)
	if dir == "" {
		dir = "."
	}
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []backup
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, prefix) {
			continue
		}
		stamp := strings.TrimPrefix(name, prefix) // TIME[.N]EXT[.gz]
		if len(stamp) < len(backupTimeFormat) {
			continue
		}
		t, err := time.Parse(backupTimeFormat, stamp[:len(backupTimeFormat)])
		if err != nil {
			continue
		}
		out = append(out, backup{path: filepath.Join(dir, name), t: t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t.After(out[j].t) })
	return out
}

// prune is one pass: delete what retention no longer keeps, gzip the rest.
func (f *rotatingFile) prune() {
	cutoff := time.Time{}
	if f.maxAge > 0 {
		cutoff = f.now().Add(-f.maxAge)
	}
	for i, b := range f.backups() {
		if (f.maxBackups > 0 && i >= f.maxBackups) || (!cutoff.IsZero() && b.t.Before(cutoff)) {
			_ = os.Remove(b.path)
			continue
		}
		if f.compress && !strings.HasSuffix(b.path, ".gz") {
			_ = gzipFile(b.path)
		}
	}
}

// gzipFile replaces path by path.gz.
func gzipFile(path string) (err error) {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(path+".gz", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(path + ".gz")
		}
	}()
	zw := gzip.NewWriter(out)
	if _, err = io.Copy(zw, in); err != nil {
		out.Close()
		return err
	}
	if err = zw.Close(); err != nil {
		out.Close()
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	return os.Remove(path)
}

// Close checks the file as Write does, so the records since the last
// check are in a file the path names (made again if it was removed),
// closes it and waits for the mill to finish its pending pass. When a
// removed file cannot be made again, the error says how many records were
// lost. Writes after Close fail (and are counted by the sink).
func (f *rotatingFile) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	var err error
	if f.f != nil {
		// The records since the last check must not go down with a
		// removed file.
		err = f.check(f.now(), 0)
	}
	if f.f != nil {
		err = errors.Join(err, f.f.Close())
		f.f = nil
	}
	f.mu.Unlock()
	close(f.millCh)
	f.millOnce.Do(func() { close(f.millDone) }) // the mill never started
	<-f.millDone
	return err
}

// boundary returns the first time after now at which r rotates.
func boundary(now time.Time, r Rotation) time.Time {
	if r == RotateHourly {
		return now.Truncate(time.Hour).Add(time.Hour)
	}
	y, m, d := now.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
