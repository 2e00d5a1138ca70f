package fdfiles

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/audiencekit/terraform-provider-audience/internal/filecheck/tpnspackage"
)

// Future Demand's bulk event upload takes an .xlsx workbook as well as a
// CSV: the developer kit's "Lookout / Bulk event upload" page lists both
// formats, and its example request sends events.xlsx with the content
// type application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
// (https://dev-kit.pages.dev/guides/lookout/bulk-event-upload).

// RuleEventsWorkbook is the rule an .xlsx events file breaks when it is
// not a workbook whose first sheet has a header row and events below it.
const RuleEventsWorkbook = "an .xlsx events file is an Excel workbook (a zip holding [Content_Types].xml and xl/workbook.xml) whose first sheet has a header row and one event per row"

// maxWorkbookEntries bounds the zip entries of an events workbook before
// its directory is loaded whole: real workbooks hold a few dozen.
const maxWorkbookEntries = 10000

// CheckEventsWorkbook checks an .xlsx events file as CheckWorkbook checks
// a transaction summary, then streams its first sheet and returns how many
// event rows it holds: the rows with a value, less the header row. Memory
// stays bounded: the zip's directory is read from the end, and the sheet
// is decompressed and parsed as it streams.
func CheckEventsWorkbook(r io.ReaderAt, size int64, file string) (int64, error) {
	if err := CheckWorkbook(r, size, file); err != nil {
		var re *Error
		if errors.As(err, &re) {
			e := *re
			e.Rule = RuleEventsWorkbook
			return 0, &e
		}
		return 0, err
	}
	fail := func(entry, problem, fix string) error {
		return &Error{File: file, Entry: entry, Rule: RuleEventsWorkbook, Problem: problem, Fix: fix}
	}
	entries := 0
	if err := tpnspackage.ZipEntryNames(r, size, func(string) bool { entries++; return entries <= maxWorkbookEntries }); err != nil {
		return 0, fail("", "the zip archive cannot be read: "+err.Error(), "Save the workbook again from Excel or LibreOffice")
	}
	if entries > maxWorkbookEntries {
		return 0, fail("", fmt.Sprintf("the zip archive holds more than %d entries, which no workbook does", maxWorkbookEntries), "Save the events sheet from Excel or LibreOffice as a new .xlsx")
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return 0, fail("", "the zip archive cannot be read: "+err.Error(), "Save the workbook again from Excel or LibreOffice")
	}
	sheet, err := firstSheet(zr)
	if err != nil {
		return 0, fail(workbookMainPart, "its first sheet cannot be found: "+err.Error(), "Save the workbook again from Excel or LibreOffice")
	}
	rows, err := countSheetRows(zr, sheet)
	if err != nil {
		return 0, fail(sheet, "the sheet cannot be read: "+err.Error(), "Save the workbook again from Excel or LibreOffice")
	}
	if rows < 2 {
		return 0, &Error{File: file, Entry: sheet, Rule: RuleEventsNoRows, Problem: fmt.Sprintf("the first sheet has %d rows with values: a header row and no events after it", rows), Fix: "Add one row per event below the header row of the first sheet"}
	}
	return rows - 1, nil
}

// firstSheet is the zip entry of the workbook's first sheet, found as
// Excel finds it: the first <sheet> of xl/workbook.xml, through its
// relationship in xl/_rels/workbook.xml.rels.
// A package without them (some generators write none) falls back to
// xl/worksheets/sheet1.xml, the name every writer gives the first sheet.
func firstSheet(zr *zip.Reader) (string, error) {
	name, err := sheetByRelationship(zr)
	if err == nil {
		return name, nil
	}
	const fallback = "xl/worksheets/sheet1.xml"
	if f, ferr := zr.Open(fallback); ferr == nil {
		_ = f.Close()
		return fallback, nil
	}
	return "", err
}

func sheetByRelationship(zr *zip.Reader) (string, error) {
	var rid string
	err := eachElement(zr, workbookMainPart, func(se xml.StartElement) (bool, error) {
		if se.Name.Local != "sheet" {
			return true, nil
		}
		for _, a := range se.Attr {
			if a.Name.Local == "id" && a.Name.Space != "" {
				rid = a.Value
			}
		}
		return false, nil
	})
	if err != nil {
		return "", err
	}
	if rid == "" {
		return "", errors.New("it lists no sheet")
	}
	var target string
	err = eachElement(zr, "xl/_rels/workbook.xml.rels", func(se xml.StartElement) (bool, error) {
		if se.Name.Local != "Relationship" {
			return true, nil
		}
		var id, t string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "Id":
				id = a.Value
			case "Target":
				t = a.Value
			}
		}
		if id == rid {
			target = t
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return "", err
	}
	if target == "" {
		return "", fmt.Errorf("no relationship %q names the first sheet", rid)
	}
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(target, "/"), nil
	}
	return path.Join("xl", target), nil
}

// countSheetRows counts the <row>s of a sheet that hold a value.
func countSheetRows(zr *zip.Reader, sheet string) (int64, error) {
	var rows int64
	inRow, valued, inValue := false, false, false
	err := eachToken(zr, sheet, func(tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				inRow, valued = true, false
			case "v", "t":
				inValue = inRow
			}
		case xml.CharData:
			if inValue && strings.TrimSpace(string(t)) != "" {
				valued = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v", "t":
				inValue = false
			case "row":
				if valued {
					rows++
				}
				inRow = false
			}
		}
		return nil
	})
	return rows, err
}

// eachElement calls visit with each start element of a zip entry until it
// returns false.
func eachElement(zr *zip.Reader, name string, visit func(xml.StartElement) (bool, error)) error {
	stop := errors.New("stop")
	err := eachToken(zr, name, func(tok xml.Token) error {
		se, ok := tok.(xml.StartElement)
		if !ok {
			return nil
		}
		more, err := visit(se)
		if err != nil {
			return err
		}
		if !more {
			return stop
		}
		return nil
	})
	if errors.Is(err, stop) {
		return nil
	}
	return err
}

// eachToken streams the XML of a zip entry token by token.
func eachToken(zr *zip.Reader, name string, visit func(xml.Token) error) error {
	f, err := zr.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer func() { _ = f.Close() }()
	d := xml.NewDecoder(f)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := visit(tok); err != nil {
			return err
		}
	}
}
