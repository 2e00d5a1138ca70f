// Package idlist turns a CSV or text export (a CRM file with many columns)
// into an upload-ready identifier list: one column picked by its header,
// values trimmed, case-normalised, checked and optionally hashed, one per
// line. It also checks that a file already is such a list (one column per
// line, device IDs and no personal data, of one type when asked) and
// reports its irregular lines, for platforms that take the file as it is. Everything streams with
// bounded memory; nothing here knows Terraform or HTTP.
package idlist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Options say which column to take and how to turn it into the output.
type Options struct {
	// Column is the header name of the column to take. It may be empty
	// when the file has a single column: then the file has no header and
	// every row is a value.
	Column string
	Case   Case
	Hash   Hash
	Format Format
	// SkipInvalid drops values that fail Format (or cannot be written one
	// per line) and counts them, instead of failing.
	SkipInvalid bool
	// AllowEmpty accepts a result with no value; by default it is an
	// error, so an export that matched nobody never reaches a platform.
	AllowEmpty bool
	// Dedupe writes each value once, at its first line, and counts the
	// repeats it drops. Values are remembered by a 64-bit hash, for at
	// most MaxTrackedIDs distinct values (16 MiB): a list with more fails
	// rather than being half de-duplicated.
	Dedupe bool
}

// Result describes a written list.
type Result struct {
	Column     string // the column read ("" for a one-column file without header)
	Rows       int64  // data rows read (header excluded)
	Entries    int64  // values written
	Skipped    int64  // blank values, and invalid values when SkipInvalid
	Duplicates int64  // repeated values dropped when Dedupe is set
	MD5        string // of the written bytes (compressed, for a .gz output), lowercase hex
	Size       int64  // bytes written
}

// Error is a problem with the input, located as precisely as possible.
type Error struct {
	File    string
	Line    int64 // 0 when not about one row
	Problem string
	Fix     string // optional: what to do
	Cause   error  // optional: the class of problem, such as ErrCorruptGzip
}

func (e *Error) Unwrap() error { return e.Cause }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	b.WriteString(": " + e.Problem)
	if e.Fix != "" {
		b.WriteString(". " + e.Fix)
	}
	return b.String()
}

// IsGzip reports whether a path names a gzip file by its extension.
func IsGzip(path string) bool { return strings.EqualFold(filepath.Ext(path), ".gz") }

// ctxCheckEvery is how many rows pass between cancellation checks.
const ctxCheckEvery = 4096

// Extract reads the export from src and writes one value per line to dst.
// file names the source in errors. Values are written in input order,
// duplicates included unless opt.Dedupe, so the same input and options
// always give the same bytes. Lines end in \n whatever the input's line
// ends, and a byte order mark is not copied.
func Extract(ctx context.Context, src io.Reader, file string, dst io.Writer, opt Options) (Result, error) {
	opt = withDefaults(opt)
	res := Result{Column: opt.Column}
	rd := NewReader(src)
	fail := func(line int64, problem, fix string) error {
		return &Error{File: file, Line: line, Problem: problem, Fix: fix}
	}
	syntax := func(err error) error {
		var se *SyntaxError
		if errors.As(err, &se) {
			return fail(se.Line, se.Problem, "Fix the row; the file must be CSV as RFC 4180 describes it")
		}
		var ie *Error
		if errors.As(err, &ie) {
			return err
		}
		return fmt.Errorf("reading %s: %w", file, err)
	}

	fields, _, err := rd.Read()
	if errors.Is(err, io.EOF) {
		if opt.AllowEmpty {
			return res, nil
		}
		return res, fail(0, "the file is empty", "An export that matches nobody must not reach a platform; set allow_empty = true to accept an empty list")
	}
	if err != nil {
		return res, syntax(err)
	}
	width := len(fields)
	index := 0
	header := opt.Column != ""
	if header {
		index = slices.IndexFunc(fields, func(f []byte) bool { return string(bytes.TrimSpace(f)) == opt.Column })
		if index < 0 {
			return res, fail(1, fmt.Sprintf("the header has no column %q", opt.Column), "Set column to one of: "+listColumns(fields))
		}
	} else if width > 1 {
		return res, fail(1, fmt.Sprintf("the file has %d columns", width), "Set column to the header name of the column to take, one of: "+listColumns(fields))
	}

	bw := bufio.NewWriterSize(dst, 64<<10)
	norm := normalizer{opt: opt}
	var seen *idSet
	if opt.Dedupe {
		seen = newIDSet()
	}
	var line int64 = 1
	for n := 0; ; n++ {
		blankLine := len(fields) == 1 && len(fields[0]) == 0
		switch {
		case header && n == 0:
		case blankLine:
			res.Skipped++
		default:
			if len(fields) != width {
				return res, fail(line, fmt.Sprintf("the row has %d columns, the first row has %d", len(fields), width), "Every row needs the same columns; quote values that hold the separator")
			}
			res.Rows++
			value, problem := norm.normalize(fields[index])
			switch {
			case problem != "" && !opt.SkipInvalid:
				shown := strconv.Quote(Mask(string(bytes.TrimSpace(fields[index]))))
				fix := "Fix the row, or set invalid = \"skip\" to drop such rows"
				if line == 1 && !header {
					fix = "If line 1 is a header, set column to its name; otherwise fix the row, or set invalid = \"skip\" to drop such rows"
				}
				return res, fail(line, fmt.Sprintf("invalid value %s in column %s: %s", shown, columnName(opt.Column, index), problem), fix)
			case value == nil:
				res.Skipped++
			default:
				if seen != nil {
					repeat, full := seen.add(value)
					if full {
						return res, fail(line, fmt.Sprintf("dedupe remembers at most %d distinct values, and the list has more", MaxTrackedIDs),
							"Split the export into smaller lists, or remove the repeats before (sort -u keeps one of each) and drop dedupe")
					}
					if repeat {
						res.Duplicates++
						break
					}
				}
				if _, err := bw.Write(value); err != nil {
					return res, err
				}
				if err := bw.WriteByte('\n'); err != nil {
					return res, err
				}
				res.Entries++
			}
		}
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		fields, line, err = rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, syntax(err)
		}
	}
	if res.Entries == 0 && !opt.AllowEmpty {
		return res, fail(0, fmt.Sprintf("no value to write from column %s (%d rows read, %d skipped as blank or invalid)", columnName(opt.Column, index), res.Rows, res.Skipped),
			"An export that matches nobody must not reach a platform; check the export's filter, or set allow_empty = true to accept an empty list")
	}
	return res, bw.Flush()
}

func withDefaults(opt Options) Options {
	if opt.Case == "" {
		opt.Case = CaseKeep
	}
	if opt.Hash == "" {
		opt.Hash = HashNone
	}
	if opt.Format == "" {
		opt.Format = FormatAny
	}
	return opt
}

func columnName(name string, index int) string {
	if name != "" {
		return strconv.Quote(name)
	}
	return strconv.Itoa(index + 1)
}

// listColumns names a header's columns for an error, at most 30 of them.
func listColumns(fields [][]byte) string {
	const most = 30
	names := make([]string, 0, min(len(fields), most))
	for _, f := range fields[:min(len(fields), most)] {
		names = append(names, strconv.Quote(string(bytes.TrimSpace(f))))
	}
	s := strings.Join(names, ", ")
	if len(fields) > most {
		s += fmt.Sprintf(" (and %d more)", len(fields)-most)
	}
	return s
}

// ExtractFile reads sourcePath (gunzipped when it ends in .gz) and writes
// the list to outputPath (gzip-compressed when it ends in .gz), creating
// missing parent directories. An outputPath that cannot take the list (a
// directory, the source itself) fails with an ErrOutput before anything is
// read. The output is written to a temporary file in the same directory
// and renamed over outputPath once complete, so outputPath is never
// half-written. When outputPath already holds exactly the new bytes it is
// left untouched, so its modification time, too, says nothing changed.
func ExtractFile(ctx context.Context, sourcePath, outputPath string, opt Options) (Result, error) {
	in, err := os.Open(sourcePath)
	if err != nil {
		return Result{}, err
	}
	defer in.Close()
	if err := prepareOutput(in, outputPath); err != nil {
		return Result{}, err
	}
	var src io.Reader = in
	if IsGzip(sourcePath) {
		zr, err := newGunzip(in, sourcePath)
		if err != nil {
			return Result{}, err
		}
		src = zr
	}

	tmp, err := os.CreateTemp(filepath.Dir(outputPath), "."+filepath.Base(outputPath)+".*.tmp")
	if err != nil {
		return Result{}, outputError(outputPath, "cannot write in its directory ("+err.Error()+")", "Check the directory's permissions")
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	h := md5.New()
	file := io.MultiWriter(tmp, h)
	out := file
	var zw *gzip.Writer
	if IsGzip(outputPath) {
		// A zero header (no name, no time) keeps the bytes reproducible.
		zw = gzip.NewWriter(file)
		out = zw
	}
	res, err := Extract(ctx, src, sourcePath, out, opt)
	if err != nil {
		return res, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return res, err
		}
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return res, err
	}
	if err := tmp.Sync(); err != nil {
		return res, err
	}
	if err := tmp.Close(); err != nil {
		return res, err
	}
	res.MD5, res.Size = hex.EncodeToString(h.Sum(nil)), size
	if unchanged(outputPath, res.MD5, res.Size) {
		_ = os.Remove(tmp.Name())
		done = true
		return res, nil
	}
	if err := os.Rename(tmp.Name(), outputPath); err != nil {
		return res, outputError(outputPath, "cannot replace it ("+err.Error()+")", "Check the path and its permissions")
	}
	done = true
	return res, nil
}

// ErrOutput is the cause of an *Error about the output path.
var ErrOutput = errors.New("the output path cannot take the list")

// prepareOutput checks that outputPath can take the list, and creates its
// missing parent directories (generated folders are absent from a fresh
// clone), as mkdir -p does.
func prepareOutput(source *os.File, outputPath string) error {
	fail := func(problem, fix string) error { return outputError(outputPath, problem, fix) }
	if outputPath == "" {
		return fail("the path is empty", "Name the file to write")
	}
	if os.IsPathSeparator(outputPath[len(outputPath)-1]) {
		return fail("the path ends in a separator, so it names a directory", "Name the file to write, such as "+filepath.Join(outputPath, "ids.txt"))
	}
	st, err := os.Stat(outputPath)
	switch {
	case err != nil:
		// Absent, or a part of the path is not a directory: creating the
		// directories below says which.
	case st.IsDir():
		return fail("it is a directory", "Name the file to write, such as "+filepath.Join(outputPath, "ids.txt"))
	case !st.Mode().IsRegular():
		return fail(fmt.Sprintf("it is a %s, not a regular file", fileType(st.Mode())), "Name a regular file to write")
	default:
		if src, err := source.Stat(); err == nil && os.SameFile(src, st) {
			return fail("it is the source file "+source.Name(), "Write the list to another file: the export is read, never overwritten")
		}
	}
	if err := os.MkdirAll(filepath.Dir(outputPath), 0o777); err != nil {
		return fail("cannot create its directory ("+err.Error()+")", "Check the path: a part of it may be a file")
	}
	return nil
}

func outputError(outputPath, problem, fix string) error {
	return &Error{File: outputPath, Problem: problem, Fix: fix, Cause: ErrOutput}
}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// unchanged reports whether path already holds content of this size and MD5.
func unchanged(path, md5hex string, size int64) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() != size {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == md5hex
}
