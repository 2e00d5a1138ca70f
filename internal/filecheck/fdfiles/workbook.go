package fdfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/tpnspackage"
)

// The parts every .xlsx package holds (ECMA-376 Part 2: the content types
// stream; the SpreadsheetML main part at the path Excel and every common
// writer use).
const (
	workbookContentTypes = "[Content_Types].xml"
	workbookMainPart     = "xl/workbook.xml"
	workbookBinaryPart   = "xl/workbook.bin" // an .xlsb
)

var (
	zipMagic  = []byte("PK\x03\x04")
	emptyZip  = []byte("PK\x05\x06")
	ole2Magic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// CheckWorkbook checks that the size bytes of r are an .xlsx workbook: a
// zip archive whose directory lists [Content_Types].xml and
// xl/workbook.xml. It reads the first bytes and the zip's directory from
// the end of the file, never the workbook whole. The columns are not
// checked: Future Demand takes partner-specific variants of its sales
// template.
func CheckWorkbook(r io.ReaderAt, size int64, file string) error {
	fail := func(problem, fix string) error {
		return &Error{File: file, Rule: RuleWorkbook, Problem: problem, Fix: fix}
	}
	head := make([]byte, 512)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, ole2Magic):
		return fail("the file is an OLE2 compound document: an Excel 97-2003 .xls, or a workbook saved with a password", "Save it from Excel as \"Excel Workbook (.xlsx)\" without a password")
	case looksLikeText(head):
		return fail("the file is text, not a zip archive (a CSV renamed to .xlsx?)", "Open it in Excel or LibreOffice and save it as \"Excel Workbook (.xlsx)\"")
	case bytes.HasPrefix(head, emptyZip):
		return fail("the file is an empty zip archive", "Save the workbook again from Excel or LibreOffice")
	case !bytes.HasPrefix(head, zipMagic):
		return fail("the file is not a zip archive, which every .xlsx workbook is", "Save it from Excel or LibreOffice as \"Excel Workbook (.xlsx)\"")
	}
	var types, main, binary bool
	err = tpnspackage.ZipEntryNames(r, size, func(name string) bool {
		switch name {
		case workbookContentTypes:
			types = true
		case workbookMainPart:
			main = true
		case workbookBinaryPart:
			binary = true
		}
		return !types || !main
	})
	if err != nil {
		return fail("the zip archive cannot be read: "+err.Error(), "Save the workbook again from Excel or LibreOffice")
	}
	switch {
	case types && main:
		return nil
	case types && binary:
		return fail("the file is a binary workbook (.xlsb): it holds "+workbookBinaryPart+", not "+workbookMainPart, "Save it as \"Excel Workbook (.xlsx)\"")
	case !types:
		return &Error{File: file, Entry: workbookContentTypes, Rule: RuleWorkbook, Problem: "the zip archive has no " + workbookContentTypes + ", so it is not an Office document", Fix: "Zip archives other than workbooks are refused; save the sheet from Excel or LibreOffice as .xlsx"}
	default:
		return &Error{File: file, Entry: workbookMainPart, Rule: RuleWorkbook, Problem: fmt.Sprintf("the Office document has no %s, so it is not an Excel workbook (a Word or PowerPoint file?)", workbookMainPart), Fix: "Export the sales data as an Excel workbook (.xlsx)"}
	}
}

// looksLikeText reports whether the first bytes of a file read as text:
// valid UTF-8 (a cut last character allowed) and no NUL or other binary
// control bytes.
func looksLikeText(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 {
			return len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:])
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' {
			return false
		}
		i += n
	}
	return true
}
