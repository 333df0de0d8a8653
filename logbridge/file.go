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
// directory, or replaced by another file, is noticed after the next write
// (one fstat per record): directory and file are created again and that
// record is written there too, so none is lost. A file renamed away
// (logrotate's move) is noticed within a second: the records of that
// second are in the renamed file, the later ones in a new one. If the
// file cannot be written, records still reach the other sinks, and each is
// counted (otelkit.log.dropped{reason="write_failed"}) and the failure
// reported on the error output, at most once per interval.
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

// pathCheckInterval is how often Write checks that the path still names
// the open file (it was not renamed away, by logrotate say).
const pathCheckInterval = time.Second

// Write appends p, rotating first when p would not fit or a time boundary
// has passed. Each call is one record, so a record never spans two files.
//
// The file is made again when it disappears: after each write, an fstat
// tells whether the open file still has a name (rm of the file or of its
// directory, or another file renamed over it); if not, the directory and
// file are created again and p is written there, so no record is lost
// (a reader still holding the removed file open may see p twice). Once a
// second, Write also checks that the path still names the open file; when
// it was renamed away, the next record goes to a new file at the path
// (the records between the rename and the check are in the renamed file).
// When the file cannot be made again (its parent is now a regular file,
// say), every record fails and is counted and reported by the sink.
func (f *rotatingFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, errFileClosed
	}
	now := f.now()
	if f.f != nil && !now.Before(f.checkAt) {
		f.checkAt = now.Add(pathCheckInterval)
		if fi, err := os.Stat(f.path); errors.Is(err, os.ErrNotExist) || err == nil && !os.SameFile(fi, f.fi) {
			f.closeFile()
		}
	}
	if f.f == nil {
		if err := f.open(now); err != nil {
			return 0, err
		}
	}
	due := f.every != RotateNever && !now.Before(f.next)
	if f.size > 0 && (due || f.size+int64(len(p)) > f.maxSize) {
		if err := f.rotate(now); err != nil {
			return 0, err
		}
	}
	n, err := f.f.Write(p)
	f.size += int64(n)
	if err == nil && unlinked(f.fd) {
		// p went to a file that no longer has a name.
		f.closeFile()
		if err := f.open(now); err != nil {
			return 0, fmt.Errorf("logbridge: log file %s was removed and cannot be made again: %w", f.path, err)
		}
		n, err = f.f.Write(p)
		f.size += int64(n)
	}
	return n, err
}

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
	f.checkAt = now.Add(pathCheckInterval)
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

// Close closes the file and waits for the mill to finish its pending pass.
// Writes after Close fail (and are counted by the sink).
func (f *rotatingFile) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	var err error
	if f.f != nil {
		err = f.f.Close()
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
