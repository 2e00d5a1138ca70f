package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
)

// The one multipart/form-data reader of the emulated servers: object
// stores (OSS PostObject, S3 POST Object), TPNS's package upload and
// Future Demand's direct uploads parse bodies the same way and differ only
// in their rules and in how they word a refusal.

// formFile is the file part of a multipart form, streamed to a scratch file.
type formFile struct {
	Field    string
	FileName string
	Path     string
	Size     int64
	MD5      string
	Type     string
}

type formField struct{ Name, Value string }

// formRules are what a server requires of a form.
type formRules struct {
	fileField string
	// fileLast: nothing may follow the file (object stores stop reading
	// at the file).
	fileLast bool
	// keepFields keeps the text fields, each at most maxField bytes;
	// otherwise they are read and ignored.
	keepFields bool
	maxField   int64
	// needFileName refuses a file field sent as a plain text field.
	needFileName bool
	scratch      string // pattern of the scratch file, e.g. "form-*"
}

// formProblem is what a server refuses a form for.
type formProblem int

const (
	formNotMultipart  formProblem = iota + 1 // the request is not multipart/form-data
	formMalformed                            // the body does not parse
	formAfterFile                            // a part follows the file
	formSecondFile                           // the file field is sent twice
	formNotAFile                             // the file field has no filename
	formFieldTooLarge                        // a text field is over maxField
	formNoFile                               // no file field
	formIncomplete                           // the body ended inside the file
	formInternal                             // the server could not store it
)

// formError is a refused form; field names the part concerned.
type formError struct {
	problem formProblem
	field   string
	detail  string // the parser's own words, when it has some
}

func (e *formError) Error() string {
	switch e.problem {
	case formNotMultipart:
		return "the request body is not multipart/form-data"
	case formAfterFile:
		return fmt.Sprintf("form field %q comes after the file", e.field)
	case formSecondFile:
		return fmt.Sprintf("the file field %q is sent more than once", e.field)
	case formNotAFile:
		return fmt.Sprintf("the field %q is not a file (no filename)", e.field)
	case formFieldTooLarge:
		return fmt.Sprintf("form field %q is too large", e.field)
	case formNoFile:
		return fmt.Sprintf("the form has no file field %q", e.field)
	}
	return e.detail
}

// readForm streams a multipart/form-data request under rules: text fields
// in order, and the file part written to a scratch file with its md5. On
// a refusal the scratch file is removed.
func (s *Server) readForm(r *http.Request, rules formRules) (fields []formField, file *formFile, ferr *formError) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, &formError{problem: formNotMultipart}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, &formError{problem: formMalformed, detail: err.Error()}
	}
	defer func() {
		if ferr != nil && file != nil {
			_ = os.Remove(file.Path)
			file = nil
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, file, &formError{problem: formMalformed, detail: err.Error()}
		}
		name := part.FormName()
		switch {
		case file != nil && rules.fileLast:
			return nil, file, &formError{problem: formAfterFile, field: name}
		case name == rules.fileField && file != nil:
			return nil, file, &formError{problem: formSecondFile, field: name}
		case name == rules.fileField && rules.needFileName && part.FileName() == "":
			return nil, file, &formError{problem: formNotAFile, field: name}
		case name == rules.fileField:
			f, err := s.store.TempFile(rules.scratch)
			if err != nil {
				return nil, nil, &formError{problem: formInternal, detail: err.Error()}
			}
			h := md5.New()
			n, cerr := io.Copy(io.MultiWriter(f, h), part)
			_ = f.Close()
			file = &formFile{Field: name, FileName: part.FileName(), Path: f.Name(), Size: n, MD5: hex.EncodeToString(h.Sum(nil)), Type: part.Header.Get("Content-Type")}
			if cerr != nil {
				return nil, file, &formError{problem: formIncomplete, field: name, detail: cerr.Error()}
			}
		case !rules.keepFields:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, file, &formError{problem: formMalformed, detail: err.Error()}
			}
		default:
			v, err := io.ReadAll(io.LimitReader(part, rules.maxField+1))
			if err != nil {
				return nil, file, &formError{problem: formMalformed, detail: err.Error()}
			}
			if int64(len(v)) > rules.maxField {
				return nil, file, &formError{problem: formFieldTooLarge, field: name}
			}
			fields = append(fields, formField{Name: name, Value: string(v)})
		}
	}
	if file == nil {
		return nil, nil, &formError{problem: formNoFile, field: rules.fileField}
	}
	return fields, file, nil
}
