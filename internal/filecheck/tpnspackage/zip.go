package tpnspackage

import (
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"
)

// A small, strict zip reader. archive/zip loads the whole central directory
// into memory before anything can be checked (a 100 MB file can declare
// millions of entries), so this one reads only what the rules need: the
// end record, at most maxListedEntries directory records, and the single
// entry's data as a stream, capped at its declared size and at
// MaxUncompressedSize. Memory stays at a few tens of KiB whatever the input.

const (
	sigEOCD        = 0x06054b50
	sigZip64EOCD   = 0x06064b50
	sigZip64Locate = 0x07064b50
	sigCentral     = 0x02014b50
	sigLocal       = 0x04034b50

	eocdLen        = 22
	zip64LocateLen = 20
	zip64EOCDLen   = 56
	centralLen     = 46
	localLen       = 30
	maxCommentLen  = 0xFFFF

	flagEncrypted      = 0x1
	flagDataDescriptor = 0x8
	sigDataDescriptor  = 0x08074b50
	methodStore        = 0
	methodDeflate      = 8
)

// zipEntry is what the central directory says of one entry.
type zipEntry struct {
	name         string
	flags        uint16
	method       uint16
	crc          uint32
	compSize     uint64
	uncompSize   uint64
	localOffset  uint64
	madeByUnix   bool
	externalAttr uint32
}

func (e zipEntry) isDir() bool {
	if strings.HasSuffix(e.name, "/") || strings.HasSuffix(e.name, `\`) {
		return true
	}
	if e.madeByUnix && (e.externalAttr>>16)&0o170000 == 0o040000 {
		return true
	}
	return e.externalAttr&0x10 != 0 // MS-DOS directory attribute
}

func checkZip(r io.ReaderAt, size int64, file string, t Type) (string, int64, error) {
	corrupt := func(entry, problem string) error {
		return &Error{File: file, Entry: entry, Rule: RuleZipFormat, Problem: problem, Fix: "Re-create the zip with a standard tool (zip, 7-Zip, Explorer, Finder)"}
	}
	count, cdOffset, cdSize, err := zipDirectory(r, size)
	if err != nil {
		return "", 0, corrupt("", err.Error())
	}
	if count == 0 {
		return "", 0, &Error{File: file, Rule: RuleZipLayout, Problem: "the zip holds no files"}
	}
	// The directory lies before the end record; its bounds were checked.
	cd := bufio.NewReader(io.NewSectionReader(r, int64(cdOffset), int64(cdSize)))
	var entries []zipEntry
	for i := uint64(0); i < count && i < maxListedEntries; i++ {
		e, err := readCentral(cd)
		if err != nil {
			return "", 0, corrupt("", fmt.Sprintf("central directory record %d: %v", i+1, err))
		}
		entries = append(entries, e)
	}
	for _, e := range entries {
		if e.isDir() {
			return "", 0, &Error{File: file, Entry: e.name, Rule: RuleZipLayout, Problem: "the entry is a folder", Fix: "Zip the .txt or .csv file alone, not the folder holding it"}
		}
	}
	if count > 1 {
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = fmt.Sprintf("%q", e.name)
		}
		list := strings.Join(names, ", ")
		if count > uint64(len(entries)) {
			list += ", ..."
		}
		return "", 0, &Error{File: file, Rule: RuleZipLayout, Problem: fmt.Sprintf("the zip holds %d entries (%s)", count, list), Fix: "Zip exactly one .txt or .csv file"}
	}
	e := entries[0]
	switch {
	case strings.ContainsAny(e.name, `/\`):
		return "", 0, &Error{File: file, Entry: e.name, Rule: RuleZipLayout, Problem: "the entry is inside a folder", Fix: "Zip the .txt or .csv file alone, without its folder"}
	case format(e.name) != "txt" && format(e.name) != "csv":
		return "", 0, &Error{File: file, Entry: e.name, Rule: RuleZipLayout, Problem: "the entry is not a .txt or .csv file"}
	case e.flags&flagEncrypted != 0:
		return "", 0, corrupt(e.name, "the entry is encrypted")
	case e.method != methodStore && e.method != methodDeflate:
		return "", 0, corrupt(e.name, fmt.Sprintf("the entry uses compression method %d; only stored (0) and deflated (8) entries are readable", e.method))
	case e.uncompSize > MaxUncompressedSize:
		return "", 0, &Error{File: file, Entry: e.name, Rule: RuleZipExpansion, Problem: fmt.Sprintf("the entry expands to %d bytes", e.uncompSize), Fix: "Split the package into several files"}
	case e.method == methodStore && e.compSize != e.uncompSize:
		return "", 0, corrupt(e.name, "a stored entry's compressed and uncompressed sizes differ")
	}
	data, err := entryData(r, size, e)
	if err != nil {
		return "", 0, corrupt(e.name, err.Error())
	}
	var rd io.Reader = data
	if e.method == methodDeflate {
		fr := flate.NewReader(data)
		defer fr.Close()
		rd = fr
	}
	if e.flags&flagDataDescriptor != 0 {
		if err := checkDataDescriptor(r, data, e); err != nil {
			return "", 0, corrupt(e.name, err.Error())
		}
	}
	cr := &checkedReader{r: rd, want: e.uncompSize, crc: e.crc, h: crc32.NewIEEE()}
	n, err := CheckRows(cr, file, e.name, format(e.name) == "csv", t)
	if err != nil {
		var ce *corruptEntry
		if errors.As(err, &ce) {
			return "", 0, corrupt(e.name, ce.msg)
		}
		return "", 0, err
	}
	return e.name, n, nil
}

// ZipEntryNames reads the central directory of the zip r (size bytes) from
// the end of the file and calls visit with each entry's name, in order,
// until visit returns false. Memory stays bounded whatever the entry
// count; checkers of other zip-based formats (an .xlsx workbook) use it.
func ZipEntryNames(r io.ReaderAt, size int64, visit func(name string) bool) error {
	count, offset, length, err := zipDirectory(r, size)
	if err != nil {
		return err
	}
	cd := bufio.NewReader(io.NewSectionReader(r, int64(offset), int64(length)))
	for i := uint64(0); i < count; i++ {
		e, err := readCentral(cd)
		if err != nil {
			return fmt.Errorf("central directory record %d: %v", i+1, err)
		}
		if !visit(e.name) {
			return nil
		}
	}
	return nil
}

// zipDirectory finds the end of central directory record (zip64 aware) and
// returns the entry count and the directory's bounds, checked against size.
func zipDirectory(r io.ReaderAt, size int64) (count, offset, length uint64, err error) {
	tail := int64(eocdLen + maxCommentLen)
	if tail > size {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return 0, 0, 0, err
	}
	at := -1
	for i := len(buf) - eocdLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) == sigEOCD && i+eocdLen+int(binary.LittleEndian.Uint16(buf[i+20:])) <= len(buf) {
			at = i
			break
		}
	}
	if at < 0 {
		return 0, 0, 0, errors.New("the file is not a zip archive (no end of central directory record)")
	}
	eocdPos := size - tail + int64(at)
	b := buf[at:]
	total := binary.LittleEndian.Uint16(b[10:])
	split := binary.LittleEndian.Uint16(b[4:]) != 0 || binary.LittleEndian.Uint16(b[6:]) != 0 || binary.LittleEndian.Uint16(b[8:]) != total
	count, length, offset = uint64(total), uint64(binary.LittleEndian.Uint32(b[12:])), uint64(binary.LittleEndian.Uint32(b[16:]))
	end := uint64(eocdPos)
	if total == 0xFFFF || length == 0xFFFFFFFF || offset == 0xFFFFFFFF {
		if eocdPos < zip64LocateLen {
			return 0, 0, 0, errors.New("zip64 locator missing")
		}
		loc := make([]byte, zip64LocateLen)
		if _, err := r.ReadAt(loc, eocdPos-zip64LocateLen); err != nil {
			return 0, 0, 0, err
		}
		if binary.LittleEndian.Uint32(loc) != sigZip64Locate {
			return 0, 0, 0, errors.New("zip64 locator missing")
		}
		recPos := binary.LittleEndian.Uint64(loc[8:])
		if recPos > uint64(eocdPos-zip64LocateLen) || uint64(eocdPos-zip64LocateLen)-recPos < zip64EOCDLen {
			return 0, 0, 0, errors.New("zip64 end record out of bounds")
		}
		rec := make([]byte, zip64EOCDLen)
		if _, err := r.ReadAt(rec, int64(recPos)); err != nil {
			return 0, 0, 0, err
		}
		if binary.LittleEndian.Uint32(rec) != sigZip64EOCD {
			return 0, 0, 0, errors.New("zip64 end record missing")
		}
		count = binary.LittleEndian.Uint64(rec[32:])
		split = binary.LittleEndian.Uint32(rec[16:]) != 0 || binary.LittleEndian.Uint32(rec[20:]) != 0 || binary.LittleEndian.Uint64(rec[24:]) != count
		length, offset = binary.LittleEndian.Uint64(rec[40:]), binary.LittleEndian.Uint64(rec[48:])
		end = recPos
	}
	if split {
		return 0, 0, 0, errors.New("multi-volume (split) zips are not supported")
	}
	// Writers put the directory right before the end record; anything else
	// means bytes were prepended or spliced in, and readers disagree on
	// where the entries are.
	if offset > end || length != end-offset {
		return 0, 0, 0, errors.New("central directory out of bounds")
	}
	if count > length/centralLen {
		return 0, 0, 0, fmt.Errorf("the directory declares %d entries but has room for %d", count, length/centralLen)
	}
	return count, offset, length, nil
}

// readCentral reads one central directory record.
func readCentral(r *bufio.Reader) (zipEntry, error) {
	var h [centralLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return zipEntry{}, errors.New("truncated record")
	}
	le := binary.LittleEndian
	if le.Uint32(h[:]) != sigCentral {
		return zipEntry{}, errors.New("bad record signature")
	}
	e := zipEntry{
		madeByUnix:   h[5] == 3,
		flags:        le.Uint16(h[8:]),
		method:       le.Uint16(h[10:]),
		crc:          le.Uint32(h[16:]),
		compSize:     uint64(le.Uint32(h[20:])),
		uncompSize:   uint64(le.Uint32(h[24:])),
		externalAttr: le.Uint32(h[38:]),
		localOffset:  uint64(le.Uint32(h[42:])),
	}
	nameLen, extraLen, commentLen := int(le.Uint16(h[28:])), int(le.Uint16(h[30:])), int(le.Uint16(h[32:]))
	// Lengths are 16-bit, so these reads are bounded (64 KiB each).
	name := make([]byte, nameLen)
	if _, err := io.ReadFull(r, name); err != nil {
		return zipEntry{}, errors.New("truncated record")
	}
	e.name = string(name)
	extra := make([]byte, extraLen)
	if _, err := io.ReadFull(r, extra); err != nil {
		return zipEntry{}, errors.New("truncated record")
	}
	if _, err := r.Discard(commentLen); err != nil {
		return zipEntry{}, errors.New("truncated record")
	}
	// The zip64 extra field holds, in order, whichever of the three values
	// are saturated in the fixed record.
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		if 4+n > len(extra) {
			break
		}
		field := extra[4 : 4+n]
		extra = extra[4+n:]
		if id != 0x0001 {
			continue
		}
		for _, v := range []*uint64{&e.uncompSize, &e.compSize, &e.localOffset} {
			if *v != 0xFFFFFFFF {
				continue
			}
			if len(field) < 8 {
				return zipEntry{}, errors.New("short zip64 extra field")
			}
			*v = le.Uint64(field)
			field = field[8:]
		}
	}
	return e, nil
}

// entryData locates an entry's compressed bytes behind its local header.
func entryData(r io.ReaderAt, size int64, e zipEntry) (*io.SectionReader, error) {
	if e.localOffset > uint64(size) || uint64(size)-e.localOffset < localLen {
		return nil, errors.New("local header out of bounds")
	}
	var h [localLen]byte
	if _, err := r.ReadAt(h[:], int64(e.localOffset)); err != nil {
		return nil, errors.New("local header unreadable")
	}
	if binary.LittleEndian.Uint32(h[:]) != sigLocal {
		return nil, errors.New("bad local header signature")
	}
	start := e.localOffset + localLen + uint64(binary.LittleEndian.Uint16(h[26:])) + uint64(binary.LittleEndian.Uint16(h[28:]))
	if start > uint64(size) || e.compSize > uint64(size)-start {
		return nil, errors.New("entry data out of bounds")
	}
	return io.NewSectionReader(r, int64(start), int64(e.compSize)), nil
}

// checkDataDescriptor compares the CRC-32 in the descriptor that follows a
// streamed entry's data with the directory's, as unzip tools do.
func checkDataDescriptor(r io.ReaderAt, data *io.SectionReader, e zipEntry) error {
	_, start, n := data.Outer()
	var b [12]byte
	if _, err := r.ReadAt(b[:], start+n); err != nil {
		return errors.New("data descriptor missing")
	}
	crc := binary.LittleEndian.Uint32(b[:])
	if crc == sigDataDescriptor {
		crc = binary.LittleEndian.Uint32(b[4:])
	}
	if crc != e.crc {
		return errors.New("the data descriptor's CRC-32 does not match the directory's")
	}
	return nil
}

// corruptEntry marks a read error caused by the entry's bytes, not by a
// rule about its rows.
type corruptEntry struct{ msg string }

func (c *corruptEntry) Error() string { return c.msg }

// checkedReader yields an entry's decompressed bytes, refusing more than
// the declared size (so a zip bomb stops at a size already checked against
// MaxUncompressedSize) and checking size and CRC-32 at the end. Whatever
// the size of the reads, it hands on the same bytes (at most the declared
// size) and then the same error, which it keeps returning.
type checkedReader struct {
	r    io.Reader
	want uint64
	n    uint64
	crc  uint32
	h    hash.Hash32
	err  error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if left := c.want - c.n; uint64(len(p)) > left+1 {
		p = p[:left+1] // one more byte than declared shows an overrun
	}
	n, err := c.r.Read(p)
	overrun := c.n+uint64(n) > c.want
	if overrun {
		// The bytes up to the declared size go on, as they would through
		// a smaller buffer; the error follows them.
		n = int(c.want - c.n)
	}
	c.n += uint64(n)
	c.h.Write(p[:n])
	switch {
	case overrun:
		c.err = &corruptEntry{fmt.Sprintf("the entry holds more than its declared %d bytes", c.want)}
	case errors.Is(err, io.EOF) && c.n != c.want:
		c.err = &corruptEntry{fmt.Sprintf("the entry holds %d bytes, not its declared %d", c.n, c.want)}
	case errors.Is(err, io.EOF) && c.h.Sum32() != c.crc:
		c.err = &corruptEntry{"the entry's CRC-32 does not match its content"}
	case errors.Is(err, io.EOF):
		c.err = io.EOF
	case err != nil:
		// flate reports corrupt or truncated data as errors of its own.
		c.err = &corruptEntry{"the entry cannot be decompressed: " + err.Error()}
	}
	return n, c.err
}
