package fdfiles

import (
	"archive/zip"
	"bytes"
	"testing"
)

// zipEntries is a zip of the given entries and contents.
func zipEntries(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for n, body := range entries {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const sheetRows = `<worksheet><sheetData>` +
	`<row r="1"><c t="inlineStr"><is><t>title</t></is></c><c t="inlineStr"><is><t>city</t></is></c></row>` +
	`<row r="2"><c t="s"><v>0</v></c></row>` +
	`<row r="3"></row>` + // an empty row is no event
	`<row r="4"><c><v>42</v></c></row>` +
	`</sheetData></worksheet>`

func TestCheckEventsWorkbookCountsTheFirstSheet(t *testing.T) {
	// The first sheet is the one the workbook lists first, found through
	// its relationship, not the entry named sheet1.
	wb := zipEntries(t, map[string]string{
		"[Content_Types].xml":        `<Types/>`,
		"xl/workbook.xml":            `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Events" sheetId="2" r:id="rId7"/><sheet name="Other" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/><Relationship Id="rId7" Target="worksheets/sheet2.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":   `<worksheet><sheetData><row><c><v>1</v></c></row></sheetData></worksheet>`,
		"xl/worksheets/sheet2.xml":   sheetRows,
	})
	n, err := CheckEventsWorkbook(bytes.NewReader(wb), int64(len(wb)), "events.xlsx")
	if err != nil || n != 2 {
		t.Fatalf("CheckEventsWorkbook = %d, %v; want 2 events", n, err)
	}
	// Without relationships, sheet1 is the first sheet.
	wb = zipEntries(t, map[string]string{"[Content_Types].xml": `<Types/>`, "xl/workbook.xml": `<workbook/>`, "xl/worksheets/sheet1.xml": sheetRows})
	if n, err := CheckEventsWorkbook(bytes.NewReader(wb), int64(len(wb)), "events.xlsx"); err != nil || n != 2 {
		t.Fatalf("without relationships: %d, %v; want 2 events", n, err)
	}
}

func TestCheckEventsWorkbookRefuses(t *testing.T) {
	header := zipEntries(t, map[string]string{"[Content_Types].xml": `<Types/>`, "xl/workbook.xml": `<workbook/>`,
		"xl/worksheets/sheet1.xml": `<worksheet><sheetData><row><c t="inlineStr"><is><t>title</t></is></c></row></sheetData></worksheet>`})
	_, err := CheckEventsWorkbook(bytes.NewReader(header), int64(len(header)), "events.xlsx")
	wantRule(t, err, RuleEventsNoRows, "events.xlsx", `zip entry "xl/worksheets/sheet1.xml"`, "a header row and no events")

	csv := []byte("title,city\nA,B\n")
	_, err = CheckEventsWorkbook(bytes.NewReader(csv), int64(len(csv)), "events.xlsx")
	wantRule(t, err, RuleEventsWorkbook, "a CSV renamed to .xlsx?")

	noSheet := zipOf(t, "[Content_Types].xml", "xl/workbook.xml")
	_, err = CheckEventsWorkbook(bytes.NewReader(noSheet), int64(len(noSheet)), "events.xlsx")
	wantRule(t, err, RuleEventsWorkbook, "its first sheet cannot be found")
}
