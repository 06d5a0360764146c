// Package state remembers, between two runs of logtriage digest, how far
// each log was read, so that every run reports what is new since the last
// one: no record missed, none reported twice, across log rotation.
//
// # The model
//
// A path names whatever file is there now, and logrotate moves files from
// name to name, so the state does not record "error.log up to byte N". It
// records, per log path, the file last read and the offset just after the
// last complete line read in it. The file is known by
//
//   - its device and inode numbers, which follow it across renames
//     (error.log becomes error.log.1, then error.log.2);
//   - its head: the first bytes read from it, at most 4 KiB, which a log
//     never rewrites, kept as a length and a SHA-256. The head follows the
//     content into a copy (copytruncate) or a compressed rotation
//     (error.log.2.gz), and tells a truncated or replaced file from the
//     one that was read. It is more than the first line, which is empty
//     in every php-fpm slow log;
//   - its size; the offset and the size count decompressed bytes when the
//     file is gzip.
//
// The state also keeps the time of the last record read (the caller
// parses records, this package does not) and when the run happened.
//
// # A run
//
// Plan looks for the recorded file among the live path and its rotated
// siblings (source.Rotations: error.log.1, error.log.2.gz,
// error.log-20261120, error.log-20261120.gz), newest first:
//
//  1. an uncompressed file with the recorded device and inode, the
//     recorded head and at least offset bytes: the file itself,
//     renamed or not;
//  2. failing that, any file with the recorded head and at least
//     offset bytes (decompressed): a copytruncate copy, a compressed
//     rotation, or the file itself after a reboot renumbered its device.
//
// The plan resumes that file at the offset, reads every newer rotation in
// full, oldest first, and ends with the live file up to its last newline:
// a line still being written is left for the next run (unless no newline
// comes in its last 1 MiB, in which case it is read to its end). Commit
// then records the live file, or, when the live path is missing because
// the log was rotated and not yet recreated, the newest rotation, which
// the next run finds under whatever name it has by then.
//
// When nothing was read from the recorded file (its offset is 0: it was
// empty, or held only part of a line), there is nothing to resume and
// nothing that could be read twice: every rotation and the live file
// modified since the last run is read from the start, as below when the
// file is gone, without a note. This matters for an empty file, which
// only its inode identifies, and inodes are reused.
//
// When the recorded file is not found:
//
//   - The live file has its device and inode but not its head, or
//     fewer bytes than the offset, and no copy of it exists: it was
//     truncated in place. It is read from the start and a note says that
//     what was written between the last run and the truncation is lost.
//   - Otherwise it is gone (deleted by a rotation before it could be read
//     again). Every rotation and the live file modified since the last run
//     is read from the start, each Segment carrying After, the time of the
//     last record read: the caller drops records at or before it. A note
//     says that records written after that time to the file that is gone
//     may be missing.
//
// On the first run for a path (no state for it) the rotations and the
// live file modified at or after the caller's since time are read in full
// (a file last modified before since holds no record after it), and the
// caller filters records by time itself.
//
// # Use
//
// Hold the lock from Load to Save, read every segment of a plan in order
// before committing it, and save only once the report is delivered: a run
// that fails before Save leaves the state as it was, and the next run
// reads the same records again rather than losing them.
//
//	unlock, err := state.Lock(statePath, 0)
//	...
//	defer unlock()
//	st, err := state.Load(statePath)
//	...
//	for _, path := range logs {
//		p, err := st.Plan(path, since)
//		...
//		for _, seg := range p.Segments {
//			r, err := seg.Open()
//			... // parse records; skip those not after seg.After when it is set
//			r.Close()
//		}
//		st.Commit(p, lastRecordTime)
//	}
//	... // deliver the report
//	err = st.Save(statePath)
//
// # Limits
//
// Lines written to a copytruncate'd log between the copy and the
// truncation are in neither file (copytruncate's own race). Lines that a
// truncation without a copy destroys, and lines written to a file that is
// deleted before the next run, cannot be read by anyone; the notes say
// so. A file truncated and rewritten with the same head up to at least
// the old offset is taken for the same file. A file is identified by its
// first 4 KiB at most: two files with the same first 4 KiB are told apart
// by their inode only. Lines the server writes to a
// rotated file after Plan and before it reopens its log are read only
// when that file is the last one read.
package state

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// version is the schema version of the state file.
const version = 1

// State is what digest remembers between runs: per log path, the file it
// read last and how far. The zero State is empty and ready to use. It is
// not safe for concurrent use.
type State struct {
	files  map[string]file
	loaded bool
	now    func() time.Time // injected by tests
}

// file is the record for one log path.
type file struct {
	Name       string    `json:"file"` // where it was when read, for people
	Dev        uint64    `json:"dev"`
	Ino        uint64    `json:"ino"`
	HeadLen    int       `json:"head_len"`
	HeadSHA256 string    `json:"head_sha256,omitempty"`
	Size       int64     `json:"size"`
	Offset     int64     `json:"offset"`
	LastRecord time.Time `json:"last_record"`
	Run        time.Time `json:"run"`
}

type document struct {
	Version int             `json:"version"`
	Files   map[string]file `json:"files"`
}

// Load reads the state file at path. A missing file is a first run: the
// state is empty and Loaded reports false. A file that cannot be read,
// is not valid JSON, has an unknown version or holds impossible values is
// an error naming it; the state is never reset silently.
func Load(path string) (*State, error) {
	s := &State{files: make(map[string]file), now: time.Now}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	if err := s.decode(f); err != nil {
		return nil, fmt.Errorf("load state %s: %w", path, err)
	}
	s.loaded = true
	return s, nil
}

func (s *State) decode(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var doc document
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty file")
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid JSON: data after the document")
	}
	if doc.Version != version {
		return fmt.Errorf("version %d is not supported (want %d)", doc.Version, version)
	}
	for path, f := range doc.Files {
		if err := f.validate(path); err != nil {
			return fmt.Errorf("%q: %w", path, err)
		}
		s.files[path] = f
	}
	return nil
}

func (f file) validate(path string) error {
	switch {
	case !filepath.IsAbs(path) || filepath.Clean(path) != path:
		return errors.New("not a clean absolute path")
	case !filepath.IsAbs(f.Name):
		return fmt.Errorf("file %q is not an absolute path", f.Name)
	case f.Offset < 0:
		return fmt.Errorf("negative offset %d", f.Offset)
	case f.Offset > f.Size:
		return fmt.Errorf("offset %d beyond size %d", f.Offset, f.Size)
	case f.HeadLen < 0 || f.HeadLen > maxHead || int64(f.HeadLen) > f.Size:
		return fmt.Errorf("head_len %d out of range", f.HeadLen)
	case f.HeadLen == 0 && f.HeadSHA256 != "":
		return errors.New("head_sha256 without head_len")
	case f.HeadLen == 0 && f.Offset > 0:
		return errors.New("offset without head_len")
	case f.HeadLen > 0 && !isSHA256(f.HeadSHA256):
		return fmt.Errorf("head_sha256 %q is not a SHA-256", f.HeadSHA256)
	case f.Run.IsZero():
		return errors.New("no run time")
	}
	return nil
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && strings.ToLower(s) == s
}

// Loaded reports whether Load read an existing state file; false means
// this is the first run with this state file.
func (s *State) Loaded() bool { return s.loaded }

// LastRun returns when the latest run recorded in the state happened,
// zero when none is: the start of the window a digest covers.
func (s *State) LastRun() time.Time {
	var last time.Time
	for _, f := range s.files {
		if f.Run.After(last) {
			last = f.Run
		}
	}
	return last
}

// Commit records that every segment of p was read; lastRecord is the
// time of the last record read from them, zero if none was (the previous
// one is then kept). Commit changes only the state in memory: Save writes
// it.
func (s *State) Commit(p *Plan, lastRecord time.Time) {
	if p == nil || p.next.Name == "" {
		return
	}
	if s.files == nil {
		s.files = make(map[string]file)
	}
	f := p.next
	f.LastRecord = s.files[p.Path].LastRecord
	if lastRecord.After(f.LastRecord) {
		f.LastRecord = lastRecord
	}
	f.Run = p.run
	s.files[p.Path] = f
}

// beforeRename runs in Save between writing the new state and putting it
// in place; a test uses it to kill a process there.
var beforeRename = func() {}

// Save writes the state to path atomically: a temporary file in the same
// directory is written, synced and renamed over path, and the directory
// is synced, so that a crash leaves either the old state or the new one.
// The file keeps the mode of the one it replaces, 0600 for a new one.
// On failure path is untouched and the temporary file is removed;
// temporary files left by a process killed while saving are removed by
// the next Save.
func (s *State) Save(path string) (err error) {
	doc := document{Version: version, Files: s.files}
	if doc.Files == nil {
		doc.Files = map[string]file{} // {} rather than null
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("save state %s: %w", path, err)
	}
	data = append(data, '\n')
	mode := fs.FileMode(0o600)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("save state %s: %w", path, unwrapPath(err))
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, base+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("save state %s: %w", path, unwrapPath(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("save state %s: %w", path, unwrapPath(err))
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	beforeRename()
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	removeStale(dir, base)
	return nil
}

// tmpInfix joins the state file's name and a random suffix in the names
// of temporary files.
const tmpInfix = ".tmp-"

// removeStale removes the temporary files of saves that never finished.
// Saves run under Lock, so none of them is in progress. Failing to remove
// one is harmless: Load never reads them.
func removeStale(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), base+tmpInfix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// unwrapPath drops the *fs.PathError around err, whose path the caller's
// message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
